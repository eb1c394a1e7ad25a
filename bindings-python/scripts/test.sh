#!/usr/bin/env bash
# The Python binding's checks, once setup.sh has built it into .venv: ruff (lint and format),
# mypy --strict (the package and a typed usage file), stubtest (the .pyi against the built
# module) and pytest (which also builds the release wheel and installs it into a clean venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export VIRTUAL_ENV="$root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
cd "$root/bindings-python"
ruff check python tests
ruff format --check python tests
mypy --strict python/ctt_onboard tests/typed_usage.py
python -m mypy.stubtest ctt_onboard._native
# pytest exits 5 when it collected no test: that fails this target like any other failure.
status=0
pytest -q -p no:cacheprovider || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-python: pytest collected no tests" >&2
fi
exit "$status"
