#!/usr/bin/env bash
# Builds the extension into .venv (maturin develop, debug), then runs ruff, mypy --strict (the
# package and a typed usage file), stubtest (the .pyi against the built module) and pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export VIRTUAL_ENV="$root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
cd "$root/bindings-python"
maturin develop --quiet
ruff check python tests
ruff format --check python tests
mypy --strict python/ctt_onboard tests/typed_usage.py
python -m mypy.stubtest ctt_onboard._native --allowlist stubtest-allowlist.txt
# pytest exits 5 when it collected no test: that must fail this target like any other failure.
set +e
pytest -q -p no:cacheprovider
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests" >&2
fi
exit "$status"
