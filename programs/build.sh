#!/bin/sh
# Build the WASI test programs: programs/build/NAME.wasm with Debian's clang-14 (wasm32-wasi),
# and NAME.native with gcc for the programs whose output is compared with a native run.
# Install the toolchain first with scripts/install-wasi-toolchain.sh.
set -eu
cd "$(dirname "$0")"
mkdir -p build
CLANG=${CLANG:-clang-14}
for p in hasher files argsenv sandbox; do
  "$CLANG" --target=wasm32-wasi -O2 -o "build/$p.wasm" "$p.c"
done
"$CLANG" --target=wasm32-wasi -O2 -mexec-model=reactor -o build/reactor.wasm reactor.c
for p in hasher files argsenv; do
  gcc -O2 -o "build/$p.native" "$p.c"
done

# Compute kernels for the benchmarks (bench/compute.mjs): wasm only.
for k in kernels/*.c; do
  name=$(basename "$k" .c)
  "$CLANG" --target=wasm32-wasi -O2 -o "build/kernel-$name.wasm" "$k"
done
echo "programs built in $(pwd)/build"
