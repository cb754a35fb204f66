#!/usr/bin/env node
// Differential fuzzer: wasmtime-node against Node's own `WebAssembly` (V8).
//
//   node fuzz/run.mjs --seconds N --seed S [--max-modules M] [--calls K] [--module I] [--verbose] [--save-nan] [--canon]
//
// Generates random valid modules (fuzz/gen.mjs), instantiates each in both engines, calls its
// exports with random arguments, and after instantiation and every call compares: the results
// (floats by bit pattern, except that any NaN matches any NaN: a "NaN case"), whether each side
// trapped and the trap's kind, the exported globals, and the memory (size and every byte).
//
// A module whose run diverges is run again generated with `canonNaN` (gen.mjs): every float op
// whose NaN result the spec leaves nondeterministic is followed by a NaN canonicalization. If
// the divergence disappears it was a NaN-bit difference (the spec allows it; reinterpret, stores
// or comparisons of bits can carry it to integers and memory): counted as "NaN-bit modules", not
// a divergence. Otherwise it is a divergence: described, its WAT (with the calls that led to it)
// written to fuzz/divergences/<seed>-<i>.wat, and the exit code is 1.
//
// `--canon` runs every module in the canonNaN form from the start (so NaN bits never differ, and
// every NaN result of an arithmetic op is checked against the spec's NaN rule in both engines).
// `--save-nan` also writes the NaN-bit modules' WAT (fuzz/divergences/<seed>-<i>.nan.wat).
//
// Deterministic for a given seed: module i is generated from (seed, i) and its arguments from
// another stream of (seed, i), so `--module I` replays module I alone. `--seconds` bounds the
// wall-clock time (the number of modules then depends on the machine); `--max-modules` fixes it.
import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NAN_OPS, deriveSeed, f32Bits, f64Bits, genModule, makeRng, randArg } from './gen.mjs'

const require = createRequire(import.meta.url)
const wn = require('../dist/index.js')
const HERE = dirname(fileURLToPath(import.meta.url))

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = { seconds: 10, seed: 1, maxModules: Infinity, calls: 6, module: null, verbose: false, saveNan: false, canon: false }
  const num = (i, name) => {
    const v = Number(argv[i])
    if (argv[i] === undefined || !Number.isFinite(v) || v < 0) usage(`${name} needs a non-negative number`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--seconds') o.seconds = num(++i, a)
    else if (a === '--seed') o.seed = Math.trunc(num(++i, a))
    else if (a === '--max-modules') o.maxModules = Math.trunc(num(++i, a))
    else if (a === '--calls') o.calls = Math.trunc(num(++i, a))
    else if (a === '--module') o.module = Math.trunc(num(++i, a))
    else if (a === '--verbose' || a === '-v') o.verbose = true
    else if (a === '--save-nan') o.saveNan = true
    else if (a === '--canon') o.canon = true
    else if (a === '--help' || a === '-h') usage(null)
    else usage(`unknown argument ${a}`)
  }
  return o
}

function usage(err) {
  const text = 'Usage: node fuzz/run.mjs --seconds N --seed S [--max-modules M] [--calls K per export] [--module I] [--verbose] [--save-nan] [--canon]'
  if (err) {
    console.error(`${err}\n${text}`)
    process.exit(2)
  }
  console.log(text)
  process.exit(0)
}

// ---------------------------------------------------------------- outcomes

/** Coarse trap kinds, common to both engines. */
const W_KIND = {
  unreachable: 'unreachable',
  integer_division_by_zero: 'div_by_zero',
  integer_overflow: 'int_overflow', // div_s overflow, and also trunc of an out-of-range float
  bad_conversion_to_integer: 'invalid_conversion', // trunc of NaN
  memory_out_of_bounds: 'out_of_bounds',
  stack_overflow: 'stack_overflow',
  interrupt: 'timeout',
}

function v8Kind(msg) {
  if (msg === 'unreachable') return 'unreachable'
  if (/divide by zero|remainder by zero/.test(msg)) return 'div_by_zero'
  if (/divide result unrepresentable/.test(msg)) return 'int_overflow'
  if (/float unrepresentable in integer range/.test(msg)) return 'invalid_conversion' // NaN or out of range
  if (/out of bounds/.test(msg)) return 'out_of_bounds'
  return `other(${msg})`
}

/** Whether wasmtime's kind `w` and V8's `v` describe the same trap. */
function sameTrap(w, v) {
  // wasmtime reports a trunc of an out-of-range (non-NaN) float as integer_overflow; V8 lumps
  // NaN and out-of-range into "float unrepresentable in integer range".
  return w === v || (w === 'int_overflow' && v === 'invalid_conversion')
}

function oursOutcome(f) {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    if (e instanceof wn.Trap) return { trap: W_KIND[e.trapCode] ?? `other(${e.trapCode})`, code: e.trapCode, msg: e.message.split('\n')[0] }
    return { error: `${e?.name}: ${e?.message}${e?.code ? ` [${e.code}]` : ''}` }
  }
}

function v8Outcome(f) {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) return { trap: v8Kind(e.message), msg: e.message }
    if (e instanceof RangeError && /call stack/.test(e.message)) return { trap: 'stack_overflow', msg: e.message }
    return { error: `${e?.name}: ${e?.message}` }
  }
}

const hex = (n, w) => '0x' + n.toString(16).padStart(w, '0')

/** A JS value as text that shows floats' bits. */
function show(v, t) {
  if (v === undefined) return 'undefined'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') {
    const s = Object.is(v, -0) ? '-0' : String(v)
    if (t === 'f32' && Math.fround(v) === v) return `${s} (f32 ${hex(f32Bits(v), 8)})`
    if (t === 'f32' || t === 'f64') return `${s} (f64 ${hex(f64Bits(v), 16)})`
    return s
  }
  if (Array.isArray(v)) return `[${v.map((x) => show(x)).join(', ')}]`
  return String(v)
}

function showOutcome(o, types) {
  if (o.ok) return types && types.length === 1 ? show(o.value, types[0]) : Array.isArray(o.value) ? `[${o.value.map((x, i) => show(x, types?.[i])).join(', ')}]` : show(o.value)
  if (o.trap) return `trap ${o.trap} (${o.code ?? o.msg})`
  return `threw ${o.error}`
}

/** null when `a` (ours) and `b` (V8) are the same value of type t, else why not. */
function diffValue(t, a, b, stats) {
  if (t === 'i32') return typeof a === 'number' && a === b && (a | 0) === a ? null : 'i32 differs'
  if (t === 'i64') return typeof a === 'bigint' && a === b ? null : 'i64 differs'
  if (typeof a !== 'number' || typeof b !== 'number') return `${t}: not a number`
  if (Number.isNaN(a) && Number.isNaN(b)) {
    if (stats) stats.nanCases++
    return null
  }
  if (t === 'f32' && Math.fround(a) !== a && !Number.isNaN(a)) return 'f32 result is not an f32 value'
  return Object.is(a, b) ? null : `${t} differs`
}

function diffResults(types, a, b, stats) {
  if (types.length === 0) return a === undefined && b === undefined ? null : 'expected undefined'
  if (types.length === 1) return diffValue(types[0], a, b, stats)
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== types.length || b.length !== types.length) return 'multi-value result shape differs'
  for (let i = 0; i < types.length; i++) {
    const d = diffValue(types[i], a[i], b[i], stats)
    if (d) return `result ${i}: ${d}`
  }
  return null
}

/** null when the two instances' globals and memories agree, else a description. */
function diffState(m, ours, v8, useBuffer) {
  if (m.canonNaN) {
    // The checking helpers (gen.mjs, canonNaN) record a NaN result the spec does not allow.
    const a = ours.exports.nan_bad.value
    const b = v8.exports.nan_bad.value
    if (a || b) {
      const op = (id) => (id ? NAN_OPS[id - 1][1] : 'none')
      return `NaN result breaks the spec's NaN rule: ours in ${op(a)}, v8 in ${op(b)}`
    }
  }
  for (const g of m.globals) {
    const a = ours.exports[g.name].value
    const b = v8.exports[g.name].value
    if (diffValue(g.type, a, b, null)) return `global ${g.name}: ours ${show(a, g.type)}, v8 ${show(b, g.type)}`
  }
  const mem = ours.exports.mem
  const pages = mem.size()
  const vbuf = Buffer.from(v8.exports.mem.buffer)
  if (pages * 65536 !== vbuf.length) return `memory size: ours ${pages} pages, v8 ${vbuf.length / 65536} pages`
  const bytes = useBuffer ? Buffer.from(mem.buffer) : Buffer.from(mem.read(0, pages * 65536))
  if (bytes.length !== vbuf.length) return `memory ${useBuffer ? 'buffer' : 'read'} length ${bytes.length}, expected ${vbuf.length}`
  if (bytes.equals(vbuf)) return null
  let first = -1
  let count = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== vbuf[i]) {
      if (first < 0) first = i
      count++
    }
  }
  const lo = Math.max(0, first - 4)
  const hi = Math.min(bytes.length, first + 12)
  return `memory: ${count} byte(s) differ, first at ${first}: ours [${[...bytes.subarray(lo, hi)].map((x) => hex(x, 2)).join(' ')}], v8 [${[...vbuf.subarray(lo, hi)].map((x) => hex(x, 2)).join(' ')}] (from ${lo})`
}

// ---------------------------------------------------------------- one module

/**
 * Sometimes, before a call, the same JS-side operation on both instances: set a global to a
 * random value, write random bytes into the memory, or grow the memory. Returns null (none),
 * or { what, divergence } (divergence: null, or why the two sides disagreed).
 */
function hostOp(m, rng, ours, v8) {
  const r = rng.int(100)
  if (r < 8) {
    const g = rng.pick(m.globals.filter((x) => x.name.startsWith('g_')))
    const v = randArg(rng, g.type)
    const what = `${g.name}.value = ${show(v, g.type)}`
    const a = oursOutcome(() => (ours.exports[g.name].value = v))
    const b = v8Outcome(() => (v8.exports[g.name].value = v))
    return { what, divergence: a.ok !== b.ok ? `ours ${showOutcome(a)}, v8 ${showOutcome(b)}` : null }
  }
  if (r < 14) {
    const len = rng.range(1, 16)
    const size = ours.exports.mem.size() * 65536
    const off = rng.chance(0.8) ? rng.range(0, Math.min(size, 256)) : Math.max(0, size - rng.range(0, 16))
    const bytes = new Uint8Array(len).map(() => rng.int(256))
    const what = `mem.write(${off}, [${[...bytes].join(' ')}])`
    const a = oursOutcome(() => ours.exports.mem.write(off, bytes))
    const b = v8Outcome(() => {
      if (off + len > v8.exports.mem.buffer.byteLength) throw new RangeError('out of bounds')
      new Uint8Array(v8.exports.mem.buffer).set(bytes, off)
    })
    // Out of bounds, ours must refuse too (and write nothing: the memory is compared after).
    return { what, divergence: a.ok !== b.ok ? `ours ${showOutcome(a)}, v8 ${showOutcome(b)}` : null }
  }
  if (r < 16) {
    const delta = rng.pick([0, 1, 1, 2, 4])
    const what = `mem.grow(${delta})`
    const a = oursOutcome(() => ours.exports.mem.grow(delta))
    const b = v8Outcome(() => v8.exports.mem.grow(delta))
    const same = a.ok ? b.ok && a.value === b.value : !b.ok && a.error?.startsWith('RangeError') && b.error?.startsWith('RangeError')
    return { what, divergence: same ? null : `ours ${showOutcome(a)}, v8 ${showOutcome(b)}` }
  }
  return null
}

const engine = new wn.Engine() // no fuel; epoch interruption on, for the timeout safety net
const TIMEOUT_MS = 5000

function newStats() {
  return { modules: 0, instantiated: 0, calls: 0, traps: {}, trapsTotal: 0, instantiationTraps: 0, nanCases: 0, timeouts: 0 }
}

/**
 * Run module `index` of `seed`. Returns { wat, log, divergence: string | null, timeout }.
 * `stats` is updated (pass a scratch object for a re-run).
 */
function runModule(seed, index, opts, stats) {
  const m = genModule(deriveSeed(seed, index, 1), { canonNaN: opts.canonNaN })
  const argRng = makeRng(deriveSeed(seed, index, 2))
  const log = []
  const res = (divergence, extra = {}) => ({ wat: m.wat, log, divergence, timeout: false, ...extra })
  stats.modules++

  let bin
  try {
    bin = wn.wat2wasm(m.wat)
  } catch (e) {
    return res(`generator bug: wat2wasm failed: ${e.message}`)
  }
  // Compile and instantiate: ours first (with the timeout: a start function runs here).
  let ours
  const wo = oursOutcome(() => {
    const store = new wn.Store(engine, { timeoutMs: TIMEOUT_MS })
    ours = new wn.Instance(store, new wn.Module(engine, bin))
    return ours
  })
  if (wo.trap === 'timeout') {
    stats.timeouts++
    return { ...res(null), timeout: true }
  }
  let v8
  const vo = v8Outcome(() => (v8 = new WebAssembly.Instance(new WebAssembly.Module(bin), {})))
  log.push(';; instantiate')
  if (wo.error && vo.error) return res(null) // both reject (e.g. a compile error): agree
  if (wo.error || vo.error || !!wo.trap !== !!vo.trap) return res(`instantiation: ours ${showOutcome(wo)}, v8 ${showOutcome(vo)}`)
  if (wo.trap) {
    if (!sameTrap(wo.trap, vo.trap)) return res(`instantiation trap kind: ours ${showOutcome(wo)}, v8 ${showOutcome(vo)}`)
    stats.instantiationTraps++
    return res(null)
  }
  stats.instantiated++
  const d0 = diffState(m, ours, v8, false)
  if (d0) return res(`after instantiation: ${d0}`)

  const ncalls = m.funcs.length * opts.calls
  for (let k = 0; k < ncalls; k++) {
    const f = argRng.pick(m.funcs)
    const budget = argRng.weighted([[1, 0], [1, 1], [1, 7], [2, 100], [10, 1000], [2, 5000]])
    const args = f.params.map((t) => randArg(argRng, t))
    const call = `${f.name}(${args.map((a, i) => show(a, f.params[i])).join(', ')}) with budget ${budget}`
    log.push(`;; call ${k}: ${call}`)
    ours.exports.budget.value = budget
    v8.exports.budget.value = budget
    const h = hostOp(m, argRng, ours, v8)
    if (h) {
      log.push(`;;   before it: ${h.what}`)
      if (h.divergence) return res(`call ${k}: host operation ${h.what}: ${h.divergence}`)
    }
    const a = oursOutcome(() => ours.exports[f.name](...args))
    if (a.trap === 'timeout') {
      stats.timeouts++
      return { ...res(null), timeout: true }
    }
    const b = v8Outcome(() => v8.exports[f.name](...args))
    stats.calls++
    const where = `call ${k}: ${call}`
    const outcomes = `ours ${showOutcome(a, f.results)}, v8 ${showOutcome(b, f.results)}`
    log[log.length - 1] += ` -> ${showOutcome(b, f.results)}`
    if (a.error || b.error) return res(`${where}: ${outcomes}`)
    if (!!a.trap !== !!b.trap) return res(`${where}: trapped on one side only: ${outcomes}`)
    if (a.trap) {
      if (!sameTrap(a.trap, b.trap)) return res(`${where}: trap kinds differ: ${outcomes}`)
      stats.trapsTotal++
      stats.traps[b.trap] = (stats.traps[b.trap] ?? 0) + 1
    } else {
      const d = diffResults(f.results, a.value, b.value, stats)
      if (d) return res(`${where}: ${d}: ${outcomes}`)
    }
    const ds = diffState(m, ours, v8, k % 5 === 4)
    if (ds) return res(`${where} (${a.trap ? `both trapped: ${b.trap}` : `both returned ${showOutcome(b, f.results)}`}): ${ds}`)
  }
  return res(null)
}

// ---------------------------------------------------------------- main

function main() {
  const o = parseArgs(process.argv.slice(2))
  const stats = { ...newStats(), nanBitModules: 0, divergences: [] }
  const nanBit = []
  const deadline = Date.now() + o.seconds * 1000
  const started = Date.now()
  const indices = o.module !== null ? [o.module] : null
  const divDir = join(HERE, 'divergences')

  for (let i = 0; indices ? i < indices.length : i < o.maxModules && Date.now() < deadline; i++) {
    const index = indices ? indices[i] : i
    const r = runModule(o.seed, index, { canonNaN: o.canon, calls: o.calls }, stats)
    if (o.verbose) {
      console.log(`module ${index}: ${r.timeout ? 'timeout (skipped)' : r.divergence ? `DIVERGES: ${r.divergence}` : 'ok'}`)
      if (o.module !== null) console.log(`${r.wat}\n${r.log.join('\n')}`)
    }
    if (!r.divergence) continue
    if (o.canon) {
      stats.divergences.push({ seed: o.seed, module: index, description: r.divergence, file: `fuzz/divergences/${o.seed}-${index}.canon.wat` })
      save(divDir, `${o.seed}-${index}.canon.wat`, r, `seed ${o.seed} module ${index} (--canon): ${r.divergence}`, o.seed, index)
      console.log(`DIVERGENCE seed ${o.seed} module ${index} (--canon): ${r.divergence}`)
      continue
    }
    // Same module and calls with every nondeterministic NaN canonicalized.
    const rc = runModule(o.seed, index, { canonNaN: true, calls: o.calls }, newStats())
    if (!rc.divergence && !rc.timeout) {
      stats.nanBitModules++
      nanBit.push({ index, description: r.divergence })
      if (o.verbose) console.log(`module ${index}: NaN-bit case (no divergence once NaNs are canonicalized)`)
      if (o.saveNan) save(divDir, `${o.seed}-${index}.nan.wat`, r, `NaN-bit case (disappears with canonNaN): ${r.divergence}`, o.seed, index)
      continue
    }
    const file = `${o.seed}-${index}.wat`
    const desc = `module ${index}: ${r.divergence}${rc.divergence ? '' : ' (canonicalized re-run: timed out)'}`
    stats.divergences.push({ seed: o.seed, module: index, description: r.divergence, file: `fuzz/divergences/${file}` })
    save(divDir, file, r, `seed ${o.seed} ${desc}\nwith canonNaN: ${rc.divergence ?? 'no divergence'}`, o.seed, index)
    console.log(`DIVERGENCE seed ${o.seed} ${desc} -> fuzz/divergences/${file}`)
  }

  const secs = ((Date.now() - started) / 1000).toFixed(1)
  const kinds = Object.entries(stats.traps).sort().map(([k, v]) => `${k}=${v}`).join(' ')
  console.log(`fuzz seed ${o.seed}: ${stats.modules} modules (${stats.instantiated} instantiated, ${stats.instantiationTraps} trapped at instantiation) x ${stats.calls} calls in ${secs}s`)
  console.log(`  traps: ${stats.trapsTotal} (${kinds || 'none'})`)
  console.log(`  NaN cases: ${stats.nanCases} NaN results; ${stats.nanBitModules} NaN-bit module(s) (differ only in nondeterministic NaN bits)`)
  const shown = o.verbose ? nanBit : nanBit.slice(0, 5)
  for (const n of shown) console.log(`    NaN-bit: module ${n.index}: ${n.description}`)
  if (shown.length < nanBit.length) console.log(`    … ${nanBit.length - shown.length} more (--verbose lists them all)`)
  console.log(`  timeouts (skipped): ${stats.timeouts}`)
  console.log(`  divergences: ${stats.divergences.length}`)
  for (const d of stats.divergences) console.log(`    module ${d.module}: ${d.description} (${d.file})`)
  const summary = {
    seed: o.seed, seconds: Number(secs), modules: stats.modules, instantiated: stats.instantiated, instantiationTraps: stats.instantiationTraps,
    calls: stats.calls, traps: stats.trapsTotal, trapKinds: stats.traps, nanCases: stats.nanCases, nanBitModules: stats.nanBitModules,
    timeouts: stats.timeouts, divergences: stats.divergences.length,
  }
  console.log(`FUZZ_SUMMARY ${JSON.stringify(summary)}`)
  process.exitCode = stats.divergences.length ? 1 : 0
}

function save(dir, file, r, header, seed, index) {
  mkdirSync(dir, { recursive: true })
  const text = `;; ${header.split('\n').join('\n;; ')}\n;; reproduce: node fuzz/run.mjs --seed ${seed} --module ${index} --verbose\n${r.log.join('\n')}\n${r.wat}\n`
  writeFileSync(join(dir, file), text)
}

main()
