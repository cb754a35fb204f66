#!/bin/sh
# Install what programs/build.sh needs (Debian): clang-14 with the wasm32-wasi target, wasi-libc,
# and gcc for the native builds. Skips the install when the toolchain is already there.
set -eu
if command -v clang-14 >/dev/null 2>&1 && dpkg -s wasi-libc >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1; then
  echo "wasi toolchain: already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 gcc
