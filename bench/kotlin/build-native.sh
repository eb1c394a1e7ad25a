#!/usr/bin/env bash
# The Kotlin cases' native library and generated bindings (called by bench/kotlin/pom.xml).
#
# usage: build-native.sh <cargo profile: dev|release> <kotlin out dir> <resource dir for the .so>
#
# Like bindings-kotlin/scripts/build-native.sh, except for release: the workspace's release profile
# strips symbols (`strip = true`), and uniffi-bindgen's library mode reads the UniFFI metadata from
# those symbols ("No UniFFI metadata found"). So the Kotlin is generated from the dev build of the
# same source (the metadata and its checksums do not depend on the profile) and the release .so is
# packaged. The two crates are built by separate cargo invocations, as the binding's script does.
set -euo pipefail
profile="${1:-release}"
kotlin_out="$2"
native_out="$3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}/x86_64-unknown-linux-gnu"
case "$profile" in
  dev) profile_dir=debug ;;
  release) profile_dir=release ;;
  *) echo "unknown cargo profile $profile" >&2; exit 2 ;;
esac

cargo build --quiet --profile dev -p ctt-onboard-kotlin
[ "$profile" = dev ] || cargo build --quiet --profile "$profile" -p ctt-onboard-kotlin
cargo build --quiet -p uniffi-bindgen

rm -rf "$kotlin_out"
mkdir -p "$kotlin_out" "$native_out"
"$target_dir/debug/uniffi-bindgen" generate --language kotlin --no-format --out-dir "$kotlin_out" \
  "$target_dir/debug/libctt_onboard_kotlin.so"
# One Kotlin file per crate, each in its own package: alias the others' names into dev.cttonboard.
bash "$root/bindings-kotlin/scripts/aliases.sh" "$kotlin_out"
lib="$target_dir/$profile_dir/libctt_onboard_kotlin.so"
strip --strip-debug -o "$native_out/libctt_onboard_kotlin.so" "$lib"
echo "bench: Kotlin generated from the dev build, packaging $lib"
