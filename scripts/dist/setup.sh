#!/usr/bin/env bash
# What the cross builds and their qemu runs need, installed when missing (idempotent; CI runs this
# on a fresh machine as root):
#   - the Rust targets aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl, aarch64-unknown-linux-musl;
#   - .venv-dist/ with maturin and ziglang (zig is the cross C compiler and linker for every target),
#     and cargo-zigbuild;
#   - qemu-user-static, and (with `setup.sh sysroot`) an arm64 sysroot in target-dist/sysroot-arm64
#     unpacked from Debian's arm64 packages: python3.11, nodejs, a headless JDK.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$root/scripts/ensure-rust.sh"
export PATH="$HOME/.cargo/bin:$PATH"

targets=(aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done

venv="$root/.venv-dist"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import ziglang' 2>/dev/null || [ ! -x "$venv/bin/maturin" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'maturin==1.16.0' 'ziglang==0.17.0' 'build>=1.2'
fi

# `zig` on PATH (napi build -x asks for it): the ziglang package's zig, through the venv's Python.
if [ ! -x "$venv/bin/zig" ]; then
  printf '#!/bin/sh\nexec "$(dirname "$0")/python" -m ziglang "$@"\n' >"$venv/bin/zig"
  chmod +x "$venv/bin/zig"
fi
# cargo-zigbuild: cargo with zig as the C compiler and linker, for the builds that are not wheels
# (maturin --zig does the same for the wheels); it finds zig as `python3 -m ziglang` on PATH.
if ! cargo-zigbuild --version 2>/dev/null | grep -q '0.24.0'; then
  cargo install --locked --quiet cargo-zigbuild --version 0.24.0
fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 || apt_install qemu-user-static
command -v readelf >/dev/null 2>&1 || apt_install binutils

if [ "${1:-}" = sysroot ]; then
  sysroot="$root/target-dist/sysroot-arm64"
  if [ ! -f "$sysroot/.complete" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
      apt_updated=0
    fi
    if [ "$apt_updated" = 0 ] || ! apt-cache show nodejs:arm64 >/dev/null 2>&1; then
      apt-get update -qq; apt_updated=1
    fi
    # The packages and their libraries, resolved by apt for arm64 (no install: only downloaded).
    pkgs=(python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11-venv
          nodejs libnode108 openjdk-17-jre-headless)
    debs="$root/target-dist/debs-arm64"
    mkdir -p "$debs" "$sysroot"
    deps="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances -o APT::Architecture=arm64 "${pkgs[@]/%/:arm64}" 2>/dev/null \
            | grep -E '^[a-z0-9]' | grep -v '^<' | sed 's/:arm64$//' | sort -u)"
    (cd "$debs" && for p in $deps; do
       case "$p" in debconf*|dpkg|perl*|ucf|init-system-helpers|adduser|java-common|ca-certificates-java|\
                    libc-bin|sensible-utils|mime-support|media-types|tzdata|python3-*|openjdk-17-jre-headless) continue;; esac
       ls "${p}_"*_arm64.deb "${p}_"*_all.deb >/dev/null 2>&1 || \
         apt-get download -qq -o APT::Sandbox::User=root -o APT::Architecture=arm64 "$p:arm64" 2>/dev/null || \
         apt-get download -qq -o APT::Sandbox::User=root "$p" 2>/dev/null || echo "setup: no arm64 package $p (skipped)" >&2
     done
     ls openjdk-17-jre-headless_*_arm64.deb >/dev/null 2>&1 ||
       apt-get download -qq -o APT::Sandbox::User=root -o APT::Architecture=arm64 openjdk-17-jre-headless:arm64)
    for d in "$debs"/*.deb; do dpkg -x "$d" "$sysroot"; done
    touch "$sysroot/.complete"
  fi
fi
