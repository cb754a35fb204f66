#!/bin/sh
# Native twins of the WASI programs whose output the tests compare with the wasm build, built
# with the system C compiler (`cc`, which building the addon from source needs anyway) into
# programs/build/ (not committed: native binaries are per machine).
set -eu
cd "$(dirname "$0")"
mkdir -p build
CC=${CC:-cc}
for p in hasher files argsenv; do
  "$CC" -O2 -o "build/$p.native" "$p.c"
done
