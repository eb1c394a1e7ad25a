#!/usr/bin/env bash
# Runs what scripts/dist/build.sh built, not just links it, and prints each command it runs.
#
# usage: scripts/dist/run-built.sh [check...]   (no check: every one whose artifact is in dist/)
#   python-arm64  the aarch64 manylinux wheel, pip-installed for that platform, runs the Python
#                 walkthrough (examples/python) in Debian's arm64 python3.11 under qemu-aarch64
#   node-arm64    the root npm package and linux-arm64-gnu, npm-installed for arm64, run the Node
#                 walkthrough (examples/node) in Debian's arm64 node under qemu-aarch64
#   jar-arm64     the jar's linux-aarch64 library loads in Debian's arm64 JVM and makes calls
#   jar-x64       the same on this host's JVM (linux-x86-64)
#   python-x64    the x86_64 manylinux wheel runs the walkthrough in this host's Python
#   node-x64      the root package with linux-x64-gnu runs the Node walkthrough on this host
#   musl          what cannot be run (no musl Python or Node in any registry reached), checked
#                 instead: the musl wheels' and .node files' ELF NEEDs only musl's libc, and a
#                 static musl build of the same crates (ctt-sim) runs here and serves a request
#   loader        the root package on a platform it has no package for fails naming os/arch/libc
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/target-dist"
out="$(realpath -m "${DIST_OUT:-$root/dist}")"
export PATH="$root/.venv-dist/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="$work"
sysroot="$work/sysroot-arm64"
src="$root"
[ "${DIST_SRC:-worktree}" = head ] && src="$work/src"
qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64)"

run() { printf '+ %s\n' "$*" >&2; "$@"; }
need_sysroot() { bash "$root/scripts/dist/setup.sh" sysroot; }
one() { local f; f=$(ls $1 2>/dev/null | head -1); [ -n "$f" ] || { echo "run-built: no $1 (build it first)" >&2; return 1; }; echo "$f"; }

check_python() { # arch platform-tag python...
  local arch="$1" plat="$2"; shift 2
  local wheel site="$work/run/python-$arch"
  wheel="$(one "$out/ctt_onboard-*-$plat*.whl")"
  rm -rf "$site"
  run "$root/.venv-dist/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform "$plat" --target "$site" "$wheel"
  PYTHONPATH="$site" run "$@" "$src/examples/python/walkthrough.py" | tee "$work/logs/run-python-$arch.log" | tail -4
  grep -q '^== Complete\|Record management by service provider' "$work/logs/run-python-$arch.log"
  echo "run-built: python $arch: the walkthrough completed" >&2
}

check_node() { # arch npm-cpu node...
  local arch="$1" cpu="$2"; shift 2
  local project="$work/run/node-$arch" rootpkg platpkg
  rootpkg="$(one "$out/ctt-onboard-0*.tgz")"
  platpkg="$(one "$out/ctt-onboard-linux-$cpu-gnu-*.tgz")"
  rm -rf "$project" && mkdir -p "$project"
  echo '{"name":"run-built","private":true,"version":"1.0.0","type":"module"}' >"$project/package.json"
  cp "$src/examples/node/walkthrough.mjs" "$project/"
  # The platform package is named explicitly (it is not on the registry; --force: an arm64 package
  # on this x64 host), the root's optionalDependencies left out (they would be fetched).
  (cd "$project" && run npm install --loglevel=error --no-audit --no-fund --offline --omit=optional \
    --force "$rootpkg" "$platpkg")
  (cd "$project" && run "$@" walkthrough.mjs) | tee "$work/logs/run-node-$arch.log" | tail -4
  grep -qi 'complete' "$work/logs/run-node-$arch.log"
  echo "run-built: node $arch: the walkthrough completed" >&2
}

check_jar() { # arch java...
  local arch="$1" jar classes cp
  shift
  jar="$(one "$out/ctt-onboard-*.jar")"
  classes="$work/run/jar-check"
  mkdir -p "$classes"
  (cd "$work/kotlin" && mvn -B -ntp -q -Dstyle.color=never dependency:build-classpath "-Dmdep.outputFile=$work/run/jar-classpath.txt" -Dmdep.includeScope=runtime >/dev/null)
  cp="$(cat "$work/run/jar-classpath.txt")"
  javac -d "$classes" -cp "$jar:$cp" "$root/scripts/dist/jvm-check/JarCheck.java"
  run "$@" -cp "$classes:$jar:$cp" JarCheck | tee "$work/logs/run-jar-$arch.log"
  grep -q 'resellerId=' "$work/logs/run-jar-$arch.log"
}

check_musl() {
  local f needed bad=0
  for f in "$out"/ctt_onboard-*musllinux*.whl; do
    [ -f "$f" ] || continue
    rm -rf "$work/run/musl-wheel" && mkdir -p "$work/run/musl-wheel"
    unzip -qo "$f" -d "$work/run/musl-wheel"
    while IFS= read -r so; do
      needed="$(readelf -d "$so" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $5); print $5 }' | tr '\n' ' ')"
      printf '+ readelf -d %s: NEEDED %s\n' "$(basename "$f")/${so#"$work/run/musl-wheel/"}" "$needed" >&2
      for n in $needed; do case "$n" in libc.so|libc.musl-*.so.1) ;; *) echo "run-built: $n is not musl's libc" >&2; bad=1 ;; esac; done
    done < <(find "$work/run/musl-wheel" -name '*.so*')
  done
  for f in "$work"/node/linux-*-musl/*.node; do
    [ -f "$f" ] || continue
    needed="$(readelf -d "$f" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $5); print $5 }' | tr '\n' ' ')"
    printf '+ readelf -d %s: NEEDED %s\n' "$(basename "$f")" "$needed" >&2
    for n in $needed; do case "$n" in libc.so|libc.musl-*.so.1) ;; *) echo "run-built: $n is not musl's libc" >&2; bad=1 ;; esac; done
  done
  [ "$bad" = 0 ] || return 1
  # The same crates (core's client, the simulator, reqwest+rustls+aws-lc-rs, tokio) as a static
  # musl binary, run here: ctt-sim serves, and answers a token request.
  # and the Rust walkthrough (examples/rust: the core's client and flow against the embedded
  # simulator) as a static musl binary, run to completion.
  (cd "$src" && run nice -n 10 cargo zigbuild --quiet --release -p ctt-sim --bin ctt-sim \
    -p ctt-onboard-example --bin walkthrough --target x86_64-unknown-linux-musl)
  local example="$work/x86_64-unknown-linux-musl/release/walkthrough"
  readelf -d "$example" 2>/dev/null | grep -q NEEDED && { echo "run-built: the musl example is not static" >&2; return 1; }
  run "$example" | tee "$work/logs/run-musl-example.log" | tail -3
  grep -qi 'complete' "$work/logs/run-musl-example.log"
  local bin="$work/x86_64-unknown-linux-musl/release/ctt-sim" line url
  command -v file >/dev/null && run file -b "$bin" >&2
  readelf -d "$bin" 2>/dev/null | grep -q NEEDED && { echo "run-built: ctt-sim (musl) is not static" >&2; return 1; }
  coproc SIM { exec "$bin" --port 0; }
  read -r line <&"${SIM[0]}"
  echo "+ ctt-sim (x86_64-unknown-linux-musl, static) printed: $line" >&2
  url="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(next(v for v in d.values() if isinstance(v, str) and v.startswith("http")))' "$line")"
  run python3 -c 'import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1], timeout=10); print("HTTP", r.status, len(r.read()), "bytes")' "$url/_sim/state"
  kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true
  echo "run-built: musl: ELF checked; the static musl walkthrough completed and ctt-sim served" >&2
}

check_loader() {
  local project
  project="$(ls -d "$work"/run/node-*/node_modules/ctt-onboard 2>/dev/null | head -1)"
  [ -n "$project" ] || { check_node x64 x64 node; project="$work/run/node-x64/node_modules/ctt-onboard"; }
  local msg
  # The root package alone, as on a platform with no package of its own (its loader sees none).
  rm -rf "$work/run/node-none" && mkdir -p "$work/run/node-none/node_modules"
  cp -r "$project" "$work/run/node-none/node_modules/"
  msg="$(cd "$work/run/node-none" && node -e "require('ctt-onboard')" 2>&1 || true)"
  echo "+ node -e \"require('ctt-onboard')\" without a platform package: $(grep -m1 'no native module' <<<"$msg")" >&2
  grep -q 'os linux, arch x64, libc glibc' <<<"$msg"
  # A platform with no package at all (process.arch faked as riscv64).
  msg="$(cd "$work/run/node-none" && node -e "Object.defineProperty(process, 'arch', { value: 'riscv64' }); require('ctt-onboard')" 2>&1 || true)"
  echo "+ the same as linux riscv64: $(grep -m1 'no native module' <<<"$msg")" >&2
  grep -q 'os linux, arch riscv64, libc glibc): ctt-onboard ships native builds for' <<<"$msg"
}

python_arm64() { need_sysroot; QEMU_LD_PREFIX="$sysroot" check_python arm64 manylinux2014_aarch64 "$qemu" "$sysroot/usr/bin/python3.11"; }
python_x64() { check_python x64 manylinux2014_x86_64 python3; }
node_arm64() { need_sysroot; QEMU_LD_PREFIX="$sysroot" check_node arm64 arm64 "$qemu" "$sysroot/usr/bin/node"; }
node_x64() { check_node x64 x64 node; }
jar_arm64() { need_sysroot; QEMU_LD_PREFIX="$sysroot" check_jar arm64 "$qemu" "$sysroot/usr/lib/jvm/java-17-openjdk-arm64/bin/java"; }
jar_x64() { check_jar x64 java; }
loader() { check_loader; }
musl() { check_musl; }

mkdir -p "$work/run" "$work/logs"
if [ $# -eq 0 ]; then
  set -- python-x64 python-arm64 node-x64 node-arm64 loader jar-x64 jar-arm64 musl
fi
for c in "$@"; do
  echo "== run-built: $c" >&2
  "${c//-/_}"
done
