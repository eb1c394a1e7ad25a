#!/usr/bin/env bash
# Builds the binding's native library and generates the Kotlin from that very file, in one step
# (bindings generated against another build of the library fail their checksum check at load).
#
# usage: build-native.sh <cargo profile: dev|release> <kotlin out dir> <resource dir for the .so>
#
# The binding crate and the generator are built by two separate cargo invocations on purpose: in
# one invocation cargo would unify uniffi's features, and the `cli` feature of the generator would
# leak into the library that gets packaged.
set -euo pipefail
profile="${1:-dev}"
kotlin_out="$2"
native_out="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
triple="x86_64-unknown-linux-gnu"
case "$profile" in
  dev) profile_dir=debug ;;
  release) profile_dir=release ;;
  *) echo "unknown cargo profile $profile" >&2; exit 2 ;;
esac

cargo build --profile "$profile" -p ctt-onboard-kotlin
# The release profile strips symbols (`strip = true` in the workspace), and library mode reads the
# UniFFI metadata from them ("No UniFFI metadata found"). The metadata and its checksums depend on
# the source, not the profile, so the Kotlin is generated from the dev build of the same source.
[ "$profile" = dev ] || cargo build --profile dev -p ctt-onboard-kotlin
cargo build -p uniffi-bindgen

lib="$target_dir/$triple/$profile_dir/libctt_onboard_kotlin.so"
metadata_lib="$target_dir/$triple/debug/libctt_onboard_kotlin.so"
bindgen="$target_dir/$triple/debug/uniffi-bindgen"
[ -f "$lib" ] || { echo "expected $lib after the build" >&2; exit 1; }

rm -rf "$kotlin_out"
mkdir -p "$kotlin_out" "$native_out"
# Library mode: the generator reads the metadata from the built library and finds this crate's
# uniffi.toml through cargo metadata: core's types in dev.cttonboard, the simulator's records in
# dev.cttonboard.sim, this crate's objects and functions in dev.cttonboard.ffi.
"$bindgen" generate --language kotlin --no-format --out-dir "$kotlin_out" "$metadata_lib"
# One file per crate, each in its own package (core's in dev.cttonboard): alias the others' names.
bash "$here/scripts/aliases.sh" "$kotlin_out"
# The jar carries the library without its debug info (the dynamic symbols uniffi needs stay).
if command -v strip >/dev/null 2>&1; then
  strip --strip-debug -o "$native_out/libctt_onboard_kotlin.so" "$lib"
else
  cp "$lib" "$native_out/libctt_onboard_kotlin.so"
fi
echo "native library and Kotlin bindings generated from $lib"
