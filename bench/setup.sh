#!/usr/bin/env bash
# Builds everything the benchmarks run, for one cargo profile, without touching the bindings'
# own build outputs (bindings-node/native, bindings-kotlin/target, the .venv's ctt_onboard):
#
#   bench/setup.sh release   # make bench
#   bench/setup.sh debug     # make test-bench (smoke run)
#
# - ctt-sim and ctt-bench (cargo);
# - bench/.venv: the hand-written Python baselines pinned in bench/python/requirements.txt
#   (requests, urllib3, httpx, aiohttp) and the ctt_onboard wheel built by maturin (stripped) into
#   bench/out/<profile>/wheels;
# - bench/node/node_modules: undici (the hand-written Node baseline), pinned by
#   bench/node/package-lock.json, installed with npm ci;
# - bench/out/<profile>/node_modules/ctt-onboard: the npm package's files with its .node built by
#   the napi CLI into that folder;
# - bench/kotlin/target: the Kotlin cases (with OkHttp, from Maven Central) and the binding compiled
#   against a .so of this profile.
# Needs the project's .venv (maturin; `make python-setup`), node-setup and kotlin-setup first.
set -euo pipefail
profile="${1:-release}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/bench/out/$profile"
mkdir -p "$out"

case "$profile" in
  release) cargo_flag=(--release); maturin_flag=(--release); napi_flag=(--release); mvn_profile=release ;;
  debug) cargo_flag=(); maturin_flag=(); napi_flag=(); mvn_profile=dev ;;
  *) echo "usage: bench/setup.sh release|debug" >&2; exit 2 ;;
esac

echo "bench-setup ($profile): ctt-sim and ctt-bench"
cargo build --quiet "${cargo_flag[@]}" -p ctt-sim -p ctt-bench

echo "bench-setup ($profile): Python wheel and bench/.venv"
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r bench/python/requirements.txt
rm -rf "$out/wheels"
# --strip: the debug info is not what users install (the release profile strips anyway).
(cd bindings-python && ../.venv/bin/maturin build --quiet "${maturin_flag[@]}" --strip --out "$out/wheels")
bench/.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --force-reinstall "$out"/wheels/*.whl

echo "bench-setup ($profile): Node baselines (npm ci in bench/node)"
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "bench-setup ($profile): Node package"
pkg="$out/node_modules/ctt-onboard"
rm -rf "$pkg"
mkdir -p "$pkg/native"
(cd bindings-node && npx --no-install napi build --platform "${napi_flag[@]}" \
  --target x86_64-unknown-linux-gnu --output-dir "$pkg/native" --js index.js --dts index.d.ts >/dev/null)
if [ "$profile" = debug ]; then
  strip --strip-debug "$pkg"/native/*.node
fi
cp -r bindings-node/package.json bindings-node/lib "$pkg/"

echo "bench-setup ($profile): Kotlin cases (Maven)"
(cd bench/kotlin && mvn -B -ntp -q -Dctt.cargoProfile="$mvn_profile" package)
echo "bench-setup ($profile): done"
