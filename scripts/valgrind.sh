#!/usr/bin/env bash
# Runs a representative subset of the leak loops (scripts/leak-subset.cjs) under valgrind memcheck
# and reports the memory errors that involve the addon (wasmtime-node.*.node: our crate and the
# wasmtime/cranelift/wasmparser code linked into it).
#
#   scripts/valgrind.sh                       every section, 200 iterations each (~1-2 min)
#   LEAK_SUBSET_N=50 scripts/valgrind.sh      fewer iterations
#   scripts/valgrind.sh traps wasi            only some sections (see scripts/leak-subset.cjs)
#   VALGRIND_OUT=dir scripts/valgrind.sh      keep the log in dir (default: a new temp dir)
#   VALGRIND_TRACK_ORIGINS=1 ...              --track-origins=yes (slower; for "uninitialised")
#
# Needs a built package (dist/ and the .node file) and valgrind (3.19 used). Exit status: 0 when
# no memcheck error involves the addon and every check of the subset passed; 1 otherwise; 2 when
# something is missing.
#
# How it works. `valgrind --tool=memcheck --leak-check=no` runs node with the subset: create/call/
# dispose, drop without dispose + GC, share/fromShared, transfer/receive (also to a worker thread
# and back), traps (unreachable, out-of-bounds memory, divide by zero, stack overflow) and host
# exceptions, interrupts and timeouts, callAsync, WASI runWasi with captured output. Leak checking
# is off: node and V8 keep much memory reachable at exit, and the leak loops (RSS after warm-up)
# are the leak test. Node itself produces memcheck reports (V8's conservative stack scan reads
# uninitialised stack words; JIT code): errors whose stack does not mention the addon are counted
# and ignored. The log is then classified (the node script at the end of this file):
#   - expected: an "Invalid read/write" whose innermost frame is wasm code (`???`) at an address
#     in a no-access ("---") anonymous mapping: a wasm out-of-bounds access hitting the guard
#     region of a linear memory, which wasmtime turns into a `memory_out_of_bounds` trap by
#     handling the SIGSEGV. That is how wasmtime implements bounds checks, not a bug.
#   - suppressed (known.supp below): "Conditional jump or move depends on uninitialised value(s)"
#     in wasmparser::parser::Parser::parse during module compilation, the value "created by a
#     stack allocation" in wasmtime::compile::build_module_artifacts. Upstream wasmparser code,
#     not the addon's; the same report appears for wasmer (wasmerio/wasmer#3073) and yara-x
#     (VirusTotal/yara-x#522) users, and it looks like an optimised-Rust false positive: the
#     `Parser` built on that stack by `Parser::new` holds `max_offset: None` (an Option<u64> whose
#     payload is left undefined) and `State::Header { expect: None }` (an enum whose larger
#     variant's bytes are left undefined); a branchless select (cmov) or a wide compare on such a
#     slot is flagged although its outcome depends only on the defined discriminant. Not proven
#     (no debug info in the release .node): remove the suppression to see it again.
#   - everything else that mentions the addon is reported, with its stack, and fails the run.
# Valgrind's "Unrecognised instruction" messages are not errors: wasm traps (unreachable, divide
# by zero, stack overflow) execute `ud2`, valgrind raises SIGILL, and wasmtime's signal handler
# turns it into the Trap the subset checks for. Under valgrind both signal-based paths (SIGILL and
# SIGSEGV) work: every trap arrives with the right trapCode. Valgrind's "client switching stacks?"
# warning is harmless (it is not raised by this subset: wasm runs on the calling thread's stack,
# callAsync on a thread of its own).
#
# Results (valgrind-3.19.0, node v20.20.2, x86_64, LEAK_SUBSET_N=200, about 1 minute):
#   - every section passes its checks under valgrind (traps included);
#   - no memcheck error in the addon's own code (wasmtime_node::*), nor in wasmtime's runtime
#     (stores, instances, traps, callAsync threads, transfers, worker threads, WASI);
#   - expected: 1 context, the out-of-bounds trap's guard-region read in wasm code;
#   - suppressed: the wasmparser report above, 2 contexts, 108 errors (at every compilation);
#   - ignored (no addon frame): V8's conservative stack scan (heap::base::IteratePointersInStack),
#     1 context, ~31,500 errors.
#   valgrind itself exits with 99 because of those node/V8 and expected reports; this script's
#   exit status is what counts.
#   - the drop section needed a GC every few stores: valgrind gives the client much less address
#     space than the kernel, and each linear memory reserves 4 GiB + guard, so without it
#     `new Instance` fails after ~15 live undisposed stores with "mmap failed to reserve
#     0x104000000 bytes: Invalid argument" — a valgrind limit, not a leak (the dropped stores are
#     collected: the GC releases them). It does show that undisposed stores hold 4 GiB of address
#     space each until the GC runs.
#
# AddressSanitizer instead (not done here: it needs rebuilding the addon). It would need a nightly
# toolchain build of the .node with
#   RUSTFLAGS="-Zsanitizer=address" cargo +nightly build --release -Zbuild-std \
#     --target x86_64-unknown-linux-gnu
# (std rebuilt with ASan too), then node run with the ASan runtime preloaded, because node itself
# is not instrumented:
#   LD_PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so) \
#   ASAN_OPTIONS=detect_leaks=0:handle_segv=0:handle_sigill=0:allow_user_segv_handler=1:use_sigaltstack=0 \
#   WASMTIME_NODE_PATH=<dist of that build>/index.js node scripts/leak-subset.cjs
# handle_segv=0/handle_sigill=0/allow_user_segv_handler=1 leave SIGSEGV/SIGILL to wasmtime's trap
# handlers; ASan's shadow memory must also fit next to wasmtime's 4 GiB reservations (fine on
# x86_64). detect_leaks=0 for the same reason as --leak-check=no above.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VALGRIND="${VALGRIND:-valgrind}"
NODE="${NODE:-node}"
export LEAK_SUBSET_N="${LEAK_SUBSET_N:-200}"

if ! command -v "$VALGRIND" >/dev/null 2>&1; then
  echo "valgrind.sh: $VALGRIND not found (apt-get install valgrind)" >&2
  exit 2
fi
if [ ! -f "$ROOT/dist/index.js" ] || ! ls "$ROOT"/*.node >/dev/null 2>&1; then
  echo "valgrind.sh: build the package first (dist/index.js and the .node file)" >&2
  exit 2
fi

OUT="${VALGRIND_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/wasmtime-node-valgrind.XXXXXX")}"
mkdir -p "$OUT"
LOG="$OUT/memcheck.log"
SUPP="$OUT/known.supp"
SUBSET_OUT="$OUT/subset.out"

# Frames are matched by mangled name (legacy Rust mangling; the h<hash> suffix changes per build).
cat >"$SUPP" <<'EOF'
{
   wasmparser Parser::parse: branch on a partly-initialised stack slot (upstream code; see scripts/valgrind.sh)
   Memcheck:Cond
   fun:_ZN10wasmparser6parser6Parser5parse17h*
   fun:_ZN16wasmtime_environ7compile14module_environ17ModuleEnvironment9translate17h*
}
EOF

TRACK=no
[ "${VALGRIND_TRACK_ORIGINS:-0}" = 1 ] && TRACK=yes

echo "valgrind.sh: LEAK_SUBSET_N=$LEAK_SUBSET_N, log in $LOG (this takes minutes)"
start=$(date +%s)
"$VALGRIND" --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins="$TRACK" \
  --num-callers=40 --show-error-list=yes --suppressions="$SUPP" --log-file="$LOG" \
  "$NODE" "$ROOT/scripts/leak-subset.cjs" "$@" 2>&1 | tee "$SUBSET_OUT"
rc=${PIPESTATUS[0]}
echo "valgrind.sh: valgrind exited with $rc after $(($(date +%s) - start)) s"

"$NODE" - "$LOG" "$SUBSET_OUT" "$rc" <<'EOF'
// Classifies the memcheck log: see the comment at the top of valgrind.sh.
const fs = require('node:fs')
const [log, subsetOut, rc] = process.argv.slice(2)
const lines = fs.readFileSync(log, 'utf8').split('\n')
const ADDON = /wasmtime[-_]node/
const ERROR = /^(Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* of function|Jump to the invalid address|Process terminating|Stack overflow in thread)/

// The error list printed at exit (--show-error-list=yes): "N errors in context K of M:" + the error.
const blocks = []
let cur = null
for (const raw of lines) {
  const m = /^==\d+== ?(.*)$/.exec(raw)
  if (!m) continue
  const text = m[1]
  const ctx = /^(\d+) errors? in context \d+ of \d+:$/.exec(text)
  if (ctx) {
    cur = { count: Number(ctx[1]), lines: [] }
    blocks.push(cur)
  } else if (/^Thread \d+/.test(text)) {
    // "Thread N <name>:" precedes an error of another thread than the last one reported
  } else if (text.trim() === '') {
    cur = null
  } else if (cur) {
    cur.lines.push(text)
  }
}
// Without the exit list (valgrind killed?), fall back to the first occurrences in the body.
if (blocks.length === 0) {
  let b = null
  for (const raw of lines) {
    const m = /^==\d+== ?(.*)$/.exec(raw)
    if (!m) continue
    const text = m[1]
    if (ERROR.test(text)) {
      b = { count: 1, lines: [text] }
      blocks.push(b)
    } else if (text.trim() === '') b = null
    else if (b) b.lines.push(text)
  }
}

const summary = lines.map((l) => /ERROR SUMMARY: .*/.exec(l)?.[0]).filter(Boolean).pop() ?? 'no ERROR SUMMARY (valgrind did not finish?)'
const unrecognised = lines.filter((l) => /Unrecognised instruction/.test(l)).length
const switching = lines.filter((l) => /client switching stacks/.test(l)).length
const crashed = lines.find((l) => /Process terminating with default action/.test(l))

const frames = (b) => b.lines.filter((l) => /^\s+(at|by) 0x/.test(l)).map((l) => l.replace(/^\s+(at|by) 0x[0-9A-Fa-f]+: /, ''))
const groups = { addon: [], expected: [], node: [] }
for (const b of blocks) {
  if (!ERROR.test(b.lines[0] ?? '')) continue
  const fs_ = frames(b)
  const where = fs_.findIndex((f) => ADDON.test(f))
  if (where < 0) groups.node.push(b)
  else if (/^Invalid (read|write)/.test(b.lines[0]) && fs_[0] === '???' && b.lines.some((l) => /Address 0x[0-9a-f]+ is in a --- anonymous segment/.test(l))) groups.expected.push(b)
  else groups.addon.push({ ...b, first: fs_[where] })
}
const total = (g) => g.reduce((s, b) => s + b.count, 0)

console.log(`\n${summary}`)
console.log(`errors involving the addon: ${groups.addon.length} contexts (${total(groups.addon)} errors)`)
for (const b of groups.addon) {
  console.log(`\n  ${b.count} × ${b.lines[0]}\n    innermost addon frame: ${b.first.replace(/ \(in .*\)$/, '')}`)
  for (const f of frames(b).slice(0, 12)) console.log(`      ${f.replace(/ \(in .*\)$/, '')}`)
}
console.log(`expected (wasm out-of-bounds access on a guard page → memory_out_of_bounds trap): ${groups.expected.length} contexts (${total(groups.expected)} errors)`)
console.log(`ignored (no addon frame: node/V8 itself): ${groups.node.length} contexts (${total(groups.node)} errors)${groups.node.length ? ': ' + [...new Set(groups.node.map((b) => `${b.lines[0]} at ${frames(b)[0]}`))].join('; ') : ''}`)
console.log(`suppressed as known (see known.supp): ${/suppressed: (\d+) from (\d+)/.exec(summary)?.slice(1).join(' errors from ') ?? '?'} contexts`)
console.log(`valgrind "Unrecognised instruction" (ud2 = wasm traps via SIGILL): ${unrecognised} messages; "client switching stacks?": ${switching}`)

let subsetOk = false
try {
  subsetOk = /# all checks passed/.test(fs.readFileSync(subsetOut, 'utf8'))
} catch {}
if (crashed) console.log(`CRASH: ${crashed}`)
console.log(`subset checks: ${subsetOk ? 'all passed' : 'FAILED (see the output above)'}`)
const ok = groups.addon.length === 0 && subsetOk && !crashed
console.log(ok ? 'valgrind.sh: OK' : 'valgrind.sh: FAILED')
process.exit(ok ? 0 : 1)
EOF
