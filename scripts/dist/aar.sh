#!/usr/bin/env bash
# Assembles the Android library (AAR) of the Kotlin binding, in the release workflow's Android job
# (no NDK is reachable here, so it does not run on this machine).
#
# usage: scripts/dist/aar.sh <jniLibs dir: arm64-v8a/ armeabi-v7a/ x86_64/ with libctt_onboard_kotlin.so>
#                            <the dist jar> <output .aar>
#
# The AAR holds the same classes as the jar (the Kotlin API and uniffi's generated code, JVM 17
# bytecode, which D8 handles; minSdk 26, for the java.time types uniffi generates), without the jar's desktop libraries (linux-*/, darwin-*/,
# win32-*/): on Android, JNA loads libctt_onboard_kotlin.so from the app's jniLibs. The app adds JNA's
# Android artifact, net.java.dev.jna:jna:5.17.0@aar (the plain jar has no Android libjnidispatch);
# the .pom written beside the AAR declares it.
set -euo pipefail
jni="$(realpath -m "$1")"
jar="$(realpath -m "$2")"
aar="$(realpath -m "$3")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$root/bindings-kotlin/pom.xml" | head -1)"
jna_version="$(sed -n 's:.*<jna.version>\(.*\)</jna.version>.*:\1:p' "$root/bindings-kotlin/pom.xml")"
kotlin_version="$(sed -n 's:.*<kotlin.version>\(.*\)</kotlin.version>.*:\1:p' "$root/bindings-kotlin/pom.xml")"
coroutines_version="$(sed -n 's:.*<coroutines.version>\(.*\)</coroutines.version>.*:\1:p' "$root/bindings-kotlin/pom.xml")"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
for abi in arm64-v8a armeabi-v7a x86_64; do
  [ -f "$jni/$abi/libctt_onboard_kotlin.so" ] || { echo "aar: no $jni/$abi/libctt_onboard_kotlin.so" >&2; exit 1; }
  mkdir -p "$stage/jni/$abi"
  cp "$jni/$abi/libctt_onboard_kotlin.so" "$stage/jni/$abi/"
done
mkdir -p "$stage/classes"
(cd "$stage/classes" && unzip -q "$jar" -x 'linux-*' 'darwin-*' 'win32-*' 'META-INF/maven/*')
(cd "$stage/classes" && zip -qr "$stage/classes.jar" .)
rm -rf "$stage/classes"
cat >"$stage/AndroidManifest.xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="dev.cttonboard">
  <uses-sdk android:minSdkVersion="26" />
  <uses-permission android:name="android.permission.INTERNET" />
</manifest>
EOF
: >"$stage/R.txt"
mkdir -p "$(dirname "$aar")"
rm -f "$aar"
(cd "$stage" && zip -qr "$aar" AndroidManifest.xml classes.jar R.txt jni)
cat >"${aar%.aar}.pom" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.cttonboard</groupId>
  <artifactId>ctt-onboard-android</artifactId>
  <version>$version</version>
  <packaging>aar</packaging>
  <dependencies>
    <dependency><groupId>net.java.dev.jna</groupId><artifactId>jna</artifactId><version>$jna_version</version><type>aar</type></dependency>
    <dependency><groupId>org.jetbrains.kotlin</groupId><artifactId>kotlin-stdlib</artifactId><version>$kotlin_version</version></dependency>
    <dependency><groupId>org.jetbrains.kotlinx</groupId><artifactId>kotlinx-coroutines-core</artifactId><version>$coroutines_version</version></dependency>
  </dependencies>
</project>
EOF
unzip -l "$aar"
