#!/usr/bin/env bash
# Lints .github/workflows with actionlint (and shellcheck for the run: scripts) and scripts/dist
# with shellcheck, installing both
# when missing: actionlint with `go install` from the Go module proxy, shellcheck from Debian.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version=v1.7.12
gobin="$(go env GOPATH)/bin"
if ! "$gobin/actionlint" -version 2>/dev/null | grep -qx "${version#v}"; then
  go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi
cd "$root"
"$gobin/actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml
echo "lint-workflows: actionlint $version found nothing in $(ls .github/workflows/*.yml | tr '\n' ' ')"
# The release scripts the workflow and make dist run.
shellcheck -S warning scripts/dist/*.sh
echo "lint-workflows: shellcheck found nothing in scripts/dist/*.sh"
