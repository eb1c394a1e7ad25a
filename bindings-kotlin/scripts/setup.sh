#!/usr/bin/env bash
# Makes sure a JDK (17 or newer, with javac) and Maven are here; installs Debian's packages when
# they are not. Maven fetches everything else (Kotlin, coroutines, JNA, JUnit) from Maven Central.
set -euo pipefail

java_ok() {
  command -v javac >/dev/null 2>&1 || return 1
  local v
  v="$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')"
  [ "${v:-0}" -ge 17 ] 2>/dev/null
}

if ! java_ok || ! command -v mvn >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "need JDK 17+ and Maven; install them (no apt-get here)" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  pkgs=()
  java_ok || pkgs+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}"
fi
java_ok || { echo "JDK 17+ not found after installing" >&2; exit 1; }
echo "kotlin-setup: $(javac -version 2>&1), $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"
