#!/usr/bin/env bash
# Creates the repository's .venv (if missing), installs the Python build and test tools into it,
# and builds the binding into it (maturin develop, debug), so `import ctt_onboard` works there.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
if ! command -v python3 >/dev/null 2>&1; then
    apt-get update -q && apt-get install -y -q python3 python3-venv python3-pip
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
        apt-get update -q && apt-get install -y -q python3-venv && python3 -m venv "$venv"
    }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/bindings-python/requirements-dev.txt"
cd "$root/bindings-python"
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --quiet
