#!/bin/sh
# Build the WASI test programs with Debian 12's clang-14 (wasm32-wasi) and wasi-libc:
# NAME.wasm into $OUT (default programs/wasm, committed: the tests run them without a toolchain)
# and the compute kernels of the benchmarks as kernel-NAME.wasm.
# __test__/programs.test.ts rebuilds them into a temporary $OUT and checks that the committed
# files are exactly what these sources build to. Install the toolchain with
# scripts/install-wasi-toolchain.sh; after changing a source, run this script and commit.
set -eu
cd "$(dirname "$0")"
# clang runs `wasm-opt` after linking when it finds one in PATH, which changes the output; npm
# puts binaryen's (a dependency of jco) there for scripts and `npx`. Build without it.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v 'node_modules/\.bin' | paste -sd: -)
export PATH
OUT=${OUT:-wasm}
mkdir -p "$OUT"
CLANG=${CLANG:-clang-14}
for p in hasher files argsenv sandbox; do
  "$CLANG" --target=wasm32-wasi -O2 -o "$OUT/$p.wasm" "$p.c"
done
for p in reactor strings; do
  "$CLANG" --target=wasm32-wasi -O2 -mexec-model=reactor -o "$OUT/$p.wasm" "$p.c"
done
for k in kernels/*.c; do
  name=$(basename "$k" .c)
  "$CLANG" --target=wasm32-wasi -O2 -o "$OUT/kernel-$name.wasm" "$k"
done
echo "programs built in $OUT"
