#!/usr/bin/env bash
# Makes sure Node.js (>= 20) and npm are here, then installs the package's dev dependencies exactly
# as package-lock.json pins them.
set -euo pipefail
cd "$(dirname "$0")/.."
major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || [ "$(major)" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  echo "node-setup: Node.js >= 20 with npm not found; installing it with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
if [ "$(major)" -lt 20 ]; then
  echo "node-setup: Node.js $(node --version) is too old; ctt-onboard needs Node.js 20 or newer" >&2
  exit 1
fi
if [ ! -d node_modules/@napi-rs/cli ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
