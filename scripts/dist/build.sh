#!/usr/bin/env bash
# Builds the release artifacts for Linux into dist/ (see README.md, "Platforms").
#
# usage: scripts/dist/build.sh [step...]     (no step: all of them, then SHA256SUMS)
#   wheel TRIPLE      an abi3 wheel (maturin --zig): manylinux2014 for *-gnu, musllinux_1_2 for *-musl
#   sdist             sdist-pack, sdist-build and sdist-nocargo:
#   sdist-pack        the source distribution
#   sdist-build       a wheel built from it with pip (the check that it builds from source)
#   sdist-nocargo     the same without cargo on PATH: the check that it says what it needs
#   node TRIPLE       the .node for one platform package (napi build -x, i.e. cargo-zigbuild)
#   npm               the platform packages and the root package, packed with npm pack
#   kotlin-so TRIPLE  libctt_onboard_kotlin.so for one JNA platform (cargo-zigbuild)
#   jar               the jar with every libctt_onboard_kotlin.so built so far, and its Kotlin
#   sums              dist/SHA256SUMS
#
# Environment:
#   DIST_OUT   where the artifacts go (dist/)
#   DIST_SRC   what is built: `worktree` (default, the files as they are) or `head` (the last
#              commit, exported with git archive into target-dist/src: a release built from a commit
#              while the work tree is being edited)
# Every build uses its own target directory, target-dist/, so it never waits on target/'s lock, and
# runs under nice. The wall time of each step goes to target-dist/logs/times.tsv and is printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$root/target-dist"
out="$(realpath -m "${DIST_OUT:-$root/dist}")"
mkdir -p "$work/logs" "$out"
export CARGO_TARGET_DIR="$work"
export PATH="$root/.venv-dist/bin:$HOME/.cargo/bin:$PATH"
[ -x "$root/.venv-dist/bin/maturin" ] || bash "$root/scripts/dist/setup.sh"

case "${DIST_SRC:-worktree}" in
  worktree) src="$root" ;;
  head)
    src="$work/src"
    if [ ! -f "$src/.commit" ] || [ "$(cat "$src/.commit")" != "$(git -C "$root" rev-parse HEAD)" ]; then
      rm -rf "$src" && mkdir -p "$src"
      git -C "$root" archive HEAD | tar -x -C "$src"
      git -C "$root" rev-parse HEAD >"$src/.commit"
    fi
    # The Node CLI and the Maven build come from the work tree's installs.
    [ -e "$src/bindings-node/node_modules" ] || ln -s "$root/bindings-node/node_modules" "$src/bindings-node/node_modules"
    ;;
  *) echo "DIST_SRC is worktree or head" >&2; exit 2 ;;
esac

# timed NAME CMD...: runs CMD with its output in logs/NAME.log, records and prints its wall time.
timed() {
  local name="$1"; shift
  local log="$work/logs/$name.log" start end
  start=$(date +%s.%N)
  echo "dist: $name ..." >&2
  if ! nice -n 10 "$@" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "dist: $name failed (log: $log)" >&2
    return 1
  fi
  end=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  printf '%s\t%s\t%s\n' "$name" "$secs" "$(date -u +%FT%TZ)" >>"$work/logs/times.tsv"
  echo "dist: $name done in ${secs}s" >&2
}

# The napi platform name of a Rust target (the npm package suffix) and JNA's resource prefix.
napi_platform() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;;
    aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
    *) echo "unknown target $1" >&2; return 2 ;;
  esac
}
jna_platform() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x86-64 ;;
    aarch64-unknown-linux-gnu) echo linux-aarch64 ;;
    *) echo "no JNA platform for $1 here" >&2; return 2 ;;
  esac
}
# zig's target for a Rust triple: glibc 2.17 (manylinux2014, and what napi-rs packages target).
zig_target() { case "$1" in *-gnu) echo "$1.2.17" ;; *) echo "$1" ;; esac; }

step_wheel() {
  local t="$1" compat
  case "$t" in *-gnu) compat=manylinux2014 ;; *-musl) compat=musllinux_1_2 ;; esac
  (cd "$src/bindings-python" &&
    timed "wheel-$t" maturin build --release --zig --target "$t" --compatibility "$compat" --out "$out")
}

step_sdist_pack() {
  rm -f "$out"/ctt_onboard-*.tar.gz
  (cd "$src/bindings-python" && timed sdist maturin sdist --out "$out")
}

# The sdist builds: pip builds a wheel from it in an isolated environment (maturin from PyPI).
step_sdist_build() {
  local check="$work/sdist-check"
  rm -rf "$check" && mkdir -p "$check"
  timed sdist-build "$root/.venv-dist/bin/python" -m pip wheel --no-deps --disable-pip-version-check \
    -w "$check" "$out"/ctt_onboard-*.tar.gz
  ls "$check"/ctt_onboard-*.whl >&2
}

# Without cargo, the build stops at once with a message that names what is needed.
step_sdist_nocargo() {
  [ -f "$(ls "$out"/ctt_onboard-*.tar.gz 2>/dev/null | head -1)" ] || step_sdist_pack
  local nocargo_path msg
  nocargo_path="$root/.venv-dist/bin:/usr/bin:/bin"
  if PATH="$nocargo_path" command -v cargo >/dev/null 2>&1; then
    echo "dist: cargo is in /usr/bin here; the missing-Rust check is skipped" >&2
    return 0
  fi
  echo "+ PATH=$nocargo_path pip wheel $(basename "$out"/ctt_onboard-*.tar.gz)" >&2
  msg="$(env -u CARGO PATH="$nocargo_path" "$root/.venv-dist/bin/python" -m pip wheel --no-deps \
    --disable-pip-version-check -w "$work/sdist-nocargo" "$out"/ctt_onboard-*.tar.gz 2>&1 || true)"
  grep -o 'ctt-onboard: building from source needs Rust.*' <<<"$msg" >&2 ||
    { echo "$msg" | tail -20 >&2; echo "dist: the sdist without cargo did not say what it needs" >&2; return 1; }
}

step_sdist() { step_sdist_pack; step_sdist_build; step_sdist_nocargo; }

step_node() {
  local t="$1" plat
  plat="$(napi_platform "$t")"
  rm -rf "$work/node/$plat"
  (cd "$src/bindings-node" &&
    timed "node-$t" npx --no-install napi build --platform --release -x --target "$(zig_target "$t")" \
      --output-dir "$work/node/$plat" --js index.js --dts index.d.ts)
  ls "$work/node/$plat/ctt-onboard.$plat.node" >/dev/null
}

step_npm() {
  local stage="$work/npm" built=()
  rm -rf "$stage" && mkdir -p "$stage"
  rm -f "$out"/ctt-onboard-*.tgz
  for dir in "$src"/bindings-node/npm/*/; do
    local plat
    plat="$(basename "$dir")"
    [ -f "$work/node/$plat/ctt-onboard.$plat.node" ] || { echo "dist: no .node for $plat (skipped)" >&2; continue; }
    cp -r "$dir" "$stage/$plat"
    cp "$work/node/$plat/ctt-onboard.$plat.node" "$stage/$plat/"
    (cd "$stage/$plat" && npm pack --silent --pack-destination "$out" >/dev/null)
    built+=("$plat")
  done
  [ "${#built[@]}" -gt 0 ] || { echo "dist: no .node built; run the node steps first" >&2; return 1; }
  # The root package: the JavaScript, the types, and optionalDependencies on every platform
  # package (napi-rs's pattern; npm installs only the one whose os/cpu/libc match).
  local root_stage="$stage/root" types
  mkdir -p "$root_stage/native"
  cp -r "$src/bindings-node/lib" "$root_stage/lib"
  cp "$src/bindings-node/README.md" "$root_stage/"
  types="$(ls "$work"/node/*/index.d.ts | head -1)"
  cp "$types" "$root_stage/native/index.d.ts"
  node - "$src/bindings-node/package.json" "$root_stage/package.json" "$src/bindings-node/npm" <<'EOF'
const fs = require('node:fs')
const path = require('node:path')
const [from, to, npmDir] = process.argv.slice(2)
const pkg = JSON.parse(fs.readFileSync(from, 'utf8'))
delete pkg.devDependencies
delete pkg.scripts
pkg.files = ['lib/', 'native/index.d.ts']
pkg.optionalDependencies = {}
for (const plat of fs.readdirSync(npmDir).sort()) {
  const p = JSON.parse(fs.readFileSync(path.join(npmDir, plat, 'package.json'), 'utf8'))
  if (p.version !== pkg.version) throw new Error(`${p.name} is ${p.version}, the root ${pkg.version}`)
  pkg.optionalDependencies[p.name] = p.version
}
fs.writeFileSync(to, JSON.stringify(pkg, null, 2) + '\n')
EOF
  (cd "$root_stage" && npm pack --silent --pack-destination "$out" >/dev/null)
  echo "dist: npm packages for ${built[*]} and the root" >&2
}

step_kotlin_so() {
  local t="$1" jna
  jna="$(jna_platform "$t")"
  (cd "$src" && timed "kotlin-so-$t" cargo zigbuild --release -p ctt-onboard-kotlin --target "$(zig_target "$t")")
  mkdir -p "$work/jna/$jna"
  cp "$work/$t/release/libctt_onboard_kotlin.so" "$work/jna/$jna/libctt_onboard_kotlin.so"
}

step_jar() {
  # The Kotlin is generated from a dev build of the same source, as bindings-kotlin/scripts/
  # build-native.sh does: the release library keeps no UniFFI metadata (stripped, and thin LTO
  # drops the unreferenced metadata statics); the metadata and its checksums depend on the source,
  # not the profile or the target, so it matches every release library in the jar.
  local lib="$work/x86_64-unknown-linux-gnu/debug/libctt_onboard_kotlin.so"
  ls "$work"/jna/*/libctt_onboard_kotlin.* >/dev/null 2>&1 ||
    { echo "dist: no native library in target-dist/jna; run the kotlin-so steps first" >&2; return 1; }
  bash "$root/bindings-kotlin/scripts/setup.sh" >/dev/null
  (cd "$src" && timed kotlin-metadata-lib cargo build -p ctt-onboard-kotlin --target x86_64-unknown-linux-gnu)
  (cd "$src" && timed uniffi-bindgen cargo build -p uniffi-bindgen --target x86_64-unknown-linux-gnu)
  local gen="$work/kotlin-generated"
  rm -rf "$gen"
  (cd "$src" && "$work/x86_64-unknown-linux-gnu/debug/uniffi-bindgen" generate --language kotlin \
    --no-format --out-dir "$gen" "$lib" >/dev/null)
  # One Kotlin file per crate, each in its own package: alias the others' names into dev.cttonboard.
  bash "$src/bindings-kotlin/scripts/aliases.sh" "$gen"
  # The Maven build in a copy of the module (its own target/, not the work tree's), with the native
  # build step skipped: the resources are target-dist/jna/<JNA platform>/libctt_onboard_kotlin.so.
  local stage="$work/kotlin"
  rm -rf "$stage" && mkdir -p "$stage/src"
  cp "$src/bindings-kotlin/pom.xml" "$stage/"
  cp -r "$src/bindings-kotlin/src/main" "$stage/src/main"
  (cd "$stage" && timed jar mvn -B -ntp -q -Dexec.skip=true -DskipTests "-Duniffi.generated=$gen" \
    "-Dnative.resources=$work/jna" package)
  rm -f "$out"/ctt-onboard-*.jar
  cp "$stage"/target/ctt-onboard-*.jar "$out/"
  unzip -l "$out"/ctt-onboard-*.jar | grep -E 'libctt_onboard_kotlin\.so' >&2
}

step_sums() {
  (cd "$out" && rm -f SHA256SUMS && sha256sum -- *.whl *.tar.gz *.tgz *.jar >SHA256SUMS)
  cat "$out/SHA256SUMS"
}

all() {
  rm -rf "$out" && mkdir -p "$out"
  for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    step_wheel "$t"
  done
  step_sdist
  for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    step_node "$t"
  done
  step_npm
  for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
    step_kotlin_so "$t"
  done
  step_jar
  step_sums
}

[ $# -gt 0 ] || set -- all
while [ $# -gt 0 ]; do
  case "$1" in
    all) all; shift ;;
    wheel|node|kotlin-so) f="step_${1//-/_}"; "$f" "$2"; shift 2 ;;
    sdist|sdist-pack|sdist-build|sdist-nocargo|npm|jar|sums) f="step_${1//-/_}"; "$f"; shift ;;
    *) echo "unknown step $1" >&2; exit 2 ;;
  esac
done
