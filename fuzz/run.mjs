#!/usr/bin/env node
// Differential fuzzer: wasmtime-node against Node's own `WebAssembly` (V8).
//
//   node fuzz/run.mjs --seconds N --seed S [--max-modules M] [--calls K] [--module I] [--verbose] [--save-nan] [--canon]
//
// Generates random valid modules (fuzz/gen.mjs), instantiates each in both engines, calls its
// exports with random arguments, and after instantiation and every call compares: the results
// (floats by bit pattern, except that any NaN matches any NaN: a "NaN case"; v128 by bytes;
// externrefs by identity; funcrefs by the signature of the function they name), whether each
// side trapped and the trap's kind (or threw the same host exception), the calls the module
// made to its host imports and their arguments, the exported globals, both tables (sizes and
// every element) and the memory (size and every byte).
//
// What is fuzzed through the binding's own conversions (V8 is the oracle for all of it):
//   - v128: our side calls the functions taking/returning v128 with 16-byte Uint8Arrays (plain,
//     Buffer, or a view at an offset into a larger buffer) and reads `g_v128` as a Uint8Array;
//     V8 calls the module's `f<i>_w` wrappers (each v128 as two i64 lanes) and `g_v128_get`.
//   - externref/funcref: arguments, results, globals and table elements; externref values come
//     from a pool of JS values (objects, primitives, undefined, NaN, -0…) shared by both sides,
//     so identity is checked; funcref results and table entries are called in turn (a
//     "funcref call"), on V8 through the function it names.
//   - host imports: both engines get equivalent JS functions that record their arguments and
//     echo values back (v128 imports reach V8 through a small adapter module that passes lanes
//     as i64 pairs); "host" "throw" throws a value from a pool: the very same value must come
//     out of both engines' calls.
//   - callAsync: a fraction of our calls go through `.callAsync(...)` (awaited) instead; the
//     result must be what V8's sync call gives.
//
// Any compile or instantiation *error* (not a trap in the start function) on either side is a
// generator or engine bug, and a timeout is a bug too (the generator guarantees termination):
// both are divergences (saved, exit code 1), not skipped.
//
// A module whose run diverges otherwise is run again generated with `canonNaN` (gen.mjs):
// every float op whose NaN result the spec leaves nondeterministic is followed by a NaN
// canonicalization. If the divergence disappears it was a NaN-bit difference (the spec allows
// it; reinterpret, stores or comparisons of bits can carry it to integers and memory): counted
// as "NaN-bit modules", not a divergence. Otherwise it is a divergence: described, its WAT (with
// the calls that led to it) written to fuzz/divergences/<seed>-<i>.wat, and the exit code is 1.
//
// `--canon` runs every module in the canonNaN form from the start (so NaN bits never differ, and
// every NaN result of a scalar arithmetic op is checked against the spec's NaN rule in both
// engines). `--save-nan` also writes the NaN-bit modules' WAT (fuzz/divergences/<seed>-<i>.nan.wat).
//
// Deterministic for a given seed: module i is generated from (seed, i) and its arguments from
// another stream of (seed, i), so `--module I` replays module I alone. `--seconds` bounds the
// wall-clock time (the number of modules then depends on the machine); `--max-modules` fixes it.
import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NAN_OPS, adapterWat, deriveSeed, f32Bits, f64Bits, genModule, hasV128, makeRng, randArg } from './gen.mjs'

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
  table_out_of_bounds: 'table_out_of_bounds',
  indirect_call_to_null: 'indirect_call_to_null',
  bad_signature: 'bad_signature',
  stack_overflow: 'stack_overflow',
  interrupt: 'timeout',
}

function v8Kind(msg) {
  if (msg === 'unreachable') return 'unreachable'
  if (/divide by zero|remainder by zero/.test(msg)) return 'div_by_zero'
  if (/divide result unrepresentable/.test(msg)) return 'int_overflow'
  if (/float unrepresentable in integer range/.test(msg)) return 'invalid_conversion' // NaN or out of range
  if (/table index is out of bounds|element segment out of bounds/.test(msg)) return 'table_out_of_bounds' // incl. table.init past a (dropped) segment
  if (/null function or function signature mismatch/.test(msg)) return 'null_or_bad_signature'
  if (/memory access out of bounds|data segment is out of bounds/.test(msg)) return 'out_of_bounds' // an access, or an active data segment
  return `other(${msg})`
}

/** Whether wasmtime's kind `w` and V8's `v` describe the same trap. */
function sameTrap(w, v) {
  // wasmtime reports a trunc of an out-of-range (non-NaN) float as integer_overflow; V8 lumps
  // NaN and out-of-range into "float unrepresentable in integer range". V8 has one message for
  // call_indirect of a null entry and of a wrong signature.
  return w === v || (w === 'int_overflow' && v === 'invalid_conversion') || ((w === 'indirect_call_to_null' || w === 'bad_signature') && v === 'null_or_bad_signature')
}

/** An exception of our side as an outcome: a host-thrown pool value, a Trap, or an error. */
function oursFailure(ctx, e) {
  const thrown = ctx.thrown.findIndex((x) => Object.is(x, e))
  if (thrown >= 0) return { thrown }
  if (e === HUNG) return { trap: 'timeout', code: `callAsync did not settle within ${HUNG_MS} ms` }
  if (e instanceof wn.Trap) return { trap: W_KIND[e.trapCode] ?? `other(${e.trapCode})`, code: e.trapCode, msg: e.message.split('\n')[0] }
  return { error: `${e?.name}: ${e?.message}${e?.code ? ` [${e.code}]` : ''}` }
}

function v8Failure(ctx, e) {
  const thrown = ctx.thrown.findIndex((x) => Object.is(x, e))
  if (thrown >= 0) return { thrown }
  if (e instanceof WebAssembly.RuntimeError) return { trap: v8Kind(e.message), msg: e.message }
  if (e instanceof RangeError && /call stack/.test(e.message)) return { trap: 'stack_overflow', msg: e.message }
  return { error: `${e?.name}: ${e?.message}` }
}

function oursSync(ctx, f) {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    return oursFailure(ctx, e)
  }
}

function v8Sync(ctx, f) {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    return v8Failure(ctx, e)
  }
}

// A callAsync that never settles (a lost wakeup, a deadlock) must fail the run, not hang it.
const HUNG = Symbol('hung')
const HUNG_MS = 15000

async function oursAsync(ctx, f) {
  let timer
  try {
    const hung = new Promise((_, reject) => (timer = setTimeout(() => reject(HUNG), HUNG_MS)))
    return { ok: true, value: await Promise.race([f(), hung]) }
  } catch (e) {
    return oursFailure(ctx, e)
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------- values

const hex = (n, w) => '0x' + n.toString(16).padStart(w, '0')
const hexBytes = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const sigOf = (f) => `(${f.params.join(' ')}) -> (${f.results.join(' ')})`
const flatTypes = (ts) => ts.flatMap((t) => (t === 'v128' ? ['i64', 'i64'] : [t]))

function lanesToBytes(lo, hi) {
  const b = new Uint8Array(16)
  const dv = new DataView(b.buffer)
  dv.setBigUint64(0, BigInt.asUintN(64, lo), true)
  dv.setBigUint64(8, BigInt.asUintN(64, hi), true)
  return b
}

function bytesToLanes(b) {
  const dv = new DataView(b.buffer, b.byteOffset, 16)
  return [dv.getBigInt64(0, true), dv.getBigInt64(8, true)]
}

/** Values with their v128s as two lanes → values with 16-byte Uint8Arrays. */
function unflatten(types, flat) {
  let k = 0
  return types.map((t) => (t === 'v128' ? lanesToBytes(flat[k++], flat[k++]) : flat[k++]))
}

/** A call's result (undefined / a value / an array) as a list of n values, or null if misshapen. */
function resultList(n, r) {
  if (n === 0) return r === undefined ? [] : null
  if (n === 1) return [r]
  return Array.isArray(r) && r.length === n ? [...r] : null
}

/**
 * A v128 argument for our side: the bytes as a plain Uint8Array, a Buffer, or a view at an
 * offset into a larger buffer (the conversion must honour byteOffset).
 */
function v128Variant(bytes, variant) {
  if (variant === 1) return Buffer.from(bytes)
  if (variant === 2) {
    const big = new Uint8Array(48).fill(0xee)
    big.set(bytes, 7)
    return big.subarray(7, 23)
  }
  return Uint8Array.from(bytes)
}

/** The JS values externrefs take (fresh per module, so identity is meaningful). */
function makePool() {
  return [undefined, 0, -0, NaN, 2.5, 'str', '', true, false, 10n ** 20n, Symbol('fuzz'), { k: 1 }, [1, 2], function poolFn() {}, new Error('payload'),
    Object.create(null), new Uint8Array(16)]
}

/** What "host" "throw" throws (the same value must come out of both engines). */
function makeThrown() {
  return [new Error('host threw'), { thrown: 1 }, 'thrown string', 7, undefined, null]
}

/** Our side's value of type t as a comparable form (numbers stay; see diffNorm). */
function normOurs(t, v) {
  if (t === 'v128') return v instanceof Uint8Array && v.length === 16 ? `v128:${hexBytes(v)}` : `not a v128: ${describe(v)}`
  if (t === 'funcref') {
    if (v === null) return null
    return typeof v === 'function' && v.type ? `func ${sigOf(v.type)}` : `not a funcref: ${describe(v)}`
  }
  return v
}

/** V8's value of type t (v128s already as Uint8Arrays) in the same form. */
function normV8(ctx, t, v) {
  if (t === 'v128') return `v128:${hexBytes(v)}`
  if (t === 'funcref') {
    if (v === null) return null
    const f = v8FuncOf(ctx, v)
    return f ? `func ${sigOf(f)}` : `unidentified function ${describe(v)}`
  }
  return v
}

/**
 * The module function (gen.mjs's descriptor: an import or a func) that a V8 function value
 * names. V8 names an exported function by its index in the module's function index space.
 */
function v8FuncOf(ctx, fn) {
  if (typeof fn !== 'function') return null
  const known = ctx.v8Funcs.get(fn)
  if (known) return known
  const i = Number(fn.name)
  return Number.isInteger(i) && String(i) === fn.name ? ctx.m.funcIndex[i] ?? null : null
}

function describe(v) {
  if (v === null) return 'null'
  if (typeof v === 'function') return `function ${v.name}`
  if (typeof v === 'object') return v.constructor?.name ?? 'object'
  return typeof v
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

/** diffValue for normalized values of every type. */
function diffNorm(t, a, b, stats) {
  if (t === 'externref') return Object.is(a, b) ? null : 'externref differs (not the same JS value)'
  if (t === 'v128' || t === 'funcref') return a === b ? null : `${t} differs`
  return diffValue(t, a, b, stats)
}

function diffList(types, a, b, stats, what) {
  for (let i = 0; i < types.length; i++) {
    const d = diffNorm(types[i], a[i], b[i], stats)
    if (d) return `${what} ${i}: ${d}`
  }
  return null
}

/** A JS value as text that shows floats' bits. */
function show(v, t, ctx) {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') {
    const s = Object.is(v, -0) ? '-0' : String(v)
    if (t === 'f32' && Math.fround(v) === v) return `${s} (f32 ${hex(f32Bits(v), 8)})`
    if (t === 'f32' || t === 'f64') return `${s} (f64 ${hex(f64Bits(v), 16)})`
    return s
  }
  if (t === 'externref' && ctx) {
    const i = ctx.pool.findIndex((x) => Object.is(x, v))
    if (i >= 0) return `pool[${i}]`
    if (Object.hasOwn(Object(v), 'x')) return `pool[${v.x % ctx.pool.length}]` // an engine-neutral argument
    return `a value not from the pool (${describe(v)})`
  }
  if (v instanceof Uint8Array) return `v128:${hexBytes(v)}`
  if (t === 'funcref' && Object.hasOwn(v, 'f')) return `$${ctx.m.funcs[v.f].name}`
  if (typeof v === 'symbol') return v.toString()
  return String(v)
}

function showOutcome(o, types, ctx) {
  if (o.ok) return o.values ? `[${o.values.map((x, i) => show(x, types?.[i], ctx)).join(', ')}]` : 'ok'
  if (o.thrown !== undefined) return `threw host value thrown[${o.thrown}]`
  if (o.trap) return `trap ${o.trap} (${o.code ?? o.msg})`
  return `threw ${o.error}`
}

// ---------------------------------------------------------------- host imports

/**
 * The JS function implementing import `imp` for one side. It records its arguments (in the
 * comparable form) in side.log and returns a function of them: for each result, an argument of
 * the same type (changed a little for numbers and v128; the same value for references), else a
 * value derived from the call count. "throw" throws ctx.thrown[…] when its argument is 1 mod 4.
 * V8's v128 imports take and return lanes (through the adapter, see instantiateV8).
 */
function hostFn(ctx, side, imp) {
  const lanes = side.name === 'v8' && hasV128(imp)
  return (...raw) => {
    const args = lanes ? unflatten(imp.params, raw) : raw
    side.log.push({ name: imp.name, args: imp.params.map((t, i) => side.norm(t, args[i])) })
    const n = side.calls++
    if (imp.kind === 'throw') {
      const x = args[0]
      if ((x & 3) === 1) throw ctx.thrown[(x >>> 2) % ctx.thrown.length]
      return undefined
    }
    const out = imp.results.map((t, j) => echo(ctx, side, t, imp.params, args, n + j))
    if (lanes) {
      const flat = imp.results.flatMap((t, i) => (t === 'v128' ? bytesToLanes(out[i]) : [out[i]]))
      return flat.length === 1 ? flat[0] : flat.length ? flat : undefined
    }
    const mine = out.map((v, i) => (imp.results[i] === 'v128' ? v128Variant(v, n % 3) : v))
    return mine.length === 1 ? mine[0] : mine.length ? mine : undefined
  }
}

function echo(ctx, side, t, params, args, n) {
  const same = []
  params.forEach((p, i) => p === t && same.push(args[i]))
  if (same.length) {
    const a = same[n % same.length]
    switch (t) {
      case 'i32': return (a + n) | 0
      case 'i64': return BigInt.asIntN(64, a * 3n + BigInt(n))
      // A NaN's bits through JS are not specified: give back the canonical one.
      case 'f32': case 'f64': return Number.isNaN(a) ? NaN : a
      case 'v128': {
        const b = a instanceof Uint8Array && a.length === 16 ? Uint8Array.from(a) : new Uint8Array(16)
        b[n % 16] ^= 0x5a
        return b
      }
      default: return a // the same reference back
    }
  }
  switch (t) {
    case 'i32': return Math.imul(n + 1, 0x9e3779b1) | 0
    case 'i64': return (BigInt(n) << 40n) - 3n
    case 'f32': return Math.fround(n / 3)
    case 'f64': return n / 7 - 1
    case 'v128': return Uint8Array.from({ length: 16 }, (_, i) => (n * 31 + i * 17) & 0xff)
    case 'externref': return ctx.pool[n % ctx.pool.length]
    case 'funcref': {
      const ex = side.inst?.exports
      return ex ? ex[ctx.m.funcs[n % ctx.m.funcs.length].name] : null
    }
  }
  throw new Error(t)
}

/** null when both sides made the same host calls (since the last check), else why not. */
function diffHostCalls(ctx) {
  const { ours, v8, stats, m } = ctx
  const a = ours.log
  const b = v8.log
  let d = null
  for (let i = 0; i < Math.max(a.length, b.length) && !d; i++) {
    if (!a[i] || !b[i]) d = `host calls: ours made ${a.length}, v8 ${b.length} (first missing: ${(a[i] ?? b[i]).name})`
    else if (a[i].name !== b[i].name) d = `host call ${i}: ours called ${a[i].name}, v8 ${b[i].name}`
    else {
      const imp = m.imports.find((h) => h.name === a[i].name)
      const dv = diffList(imp.params, a[i].args, b[i].args, stats, `host call ${i} (${imp.name}) argument`)
      if (dv) d = `${dv}: ours ${a[i].args.map((x, j) => show(x, imp.params[j], ctx)).join(', ')}; v8 ${b[i].args.map((x, j) => show(x, imp.params[j], ctx)).join(', ')}`
    }
  }
  for (const e of a) {
    stats.hostCalls++
    if (hasV128(m.imports.find((h) => h.name === e.name))) stats.hostV128Calls++
  }
  a.length = 0
  b.length = 0
  return d
}

// ---------------------------------------------------------------- state

/** null when the two instances' globals, tables and memories agree, else a description. */
function diffState(ctx, useBuffer) {
  const { m, stats } = ctx
  const ours = ctx.ours.inst.exports
  const v8 = ctx.v8.inst.exports
  if (m.canonNaN) {
    // The checking helpers (gen.mjs, canonNaN) record a NaN result the spec does not allow.
    const a = ours.nan_bad.value
    const b = v8.nan_bad.value
    if (a || b) {
      const op = (id) => (id ? NAN_OPS[id - 1][1] : 'none')
      return `NaN result breaks the spec's NaN rule: ours in ${op(a)}, v8 in ${op(b)}`
    }
  }
  for (const g of m.globals) {
    const a = normOurs(g.type, ours[g.name].value)
    // V8 cannot read a v128 global from JS: the module's getter gives its lanes.
    const b = g.type === 'v128' ? normV8(ctx, 'v128', lanesToBytes(...v8.g_v128_get())) : normV8(ctx, g.type, v8[g.name].value)
    if (diffNorm(g.type, a, b, null)) return `global ${g.name}: ours ${show(a, g.type, ctx)}, v8 ${show(b, g.type, ctx)}`
  }
  for (const [tab, t] of [['tf', 'funcref'], ['te', 'externref']]) {
    const size = ours[tab].size()
    if (size !== v8[tab].length) return `table ${tab} size: ours ${size}, v8 ${v8[tab].length}`
    for (let i = 0; i < size; i++) {
      const a = normOurs(t, ours[tab].get(i))
      const b = normV8(ctx, t, v8[tab].get(i))
      if (diffNorm(t, a, b, stats)) return `table ${tab}[${i}]: ours ${show(a, t, ctx)}, v8 ${show(b, t, ctx)}`
    }
  }
  const mem = ours.mem
  const pages = mem.size()
  const vbuf = Buffer.from(v8.mem.buffer)
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

// ---------------------------------------------------------------- arguments

/** Our side's value for an engine-neutral argument (gen.mjs randArg). */
function oursArg(ctx, t, a, variant) {
  if (a === null) return null
  if (t === 'v128') return v128Variant(a, variant)
  if (t === 'externref') return ctx.pool[a.x % ctx.pool.length]
  if (t === 'funcref') return ctx.ours.inst.exports[ctx.m.funcs[a.f].name]
  return a
}

/** V8's arguments for engine-neutral ones, each v128 as two i64 lanes. */
function v8Args(ctx, types, args) {
  return types.flatMap((t, i) => {
    const a = args[i]
    if (a === null) return [null]
    if (t === 'v128') return bytesToLanes(a)
    if (t === 'externref') return [ctx.pool[a.x % ctx.pool.length]]
    if (t === 'funcref') return [ctx.v8.inst.exports[ctx.m.funcs[a.f].name]]
    return [a]
  })
}

/**
 * Sometimes, before a call, the same JS-side operation on both instances: set a global to a
 * random value, write random bytes into the memory, grow the memory, or get/set/grow a table.
 * Returns null (none), or { what, divergence } (divergence: null, or why the two sides disagreed).
 */
function hostOp(ctx, rng) {
  const { m, stats } = ctx
  const ours = ctx.ours.inst.exports
  const v8 = ctx.v8.inst.exports
  const nf = m.funcs.length
  // Both succeed, or both fail with the same class of error.
  const agree = (a, b) => (a.ok && b.ok) || (!a.ok && !b.ok && a.error?.split(':')[0] === b.error?.split(':')[0])
  const result = (what, a, b, same = agree(a, b)) => ({ what, divergence: same ? null : `ours ${a.ok ? 'ok' : showOutcome(a)}, v8 ${b.ok ? 'ok' : showOutcome(b)}` })
  const r = rng.int(100)
  if (r < 10) {
    const g = rng.pick(m.globals.filter((x) => x.name.startsWith('g_')))
    let v = randArg(rng, g.type, nf)
    // A JS-boundary limit, not a bug: V8 canonicalizes a NaN written to a Global (ours keeps
    // its bits), and canonNaN cannot undo it inside wasm. Set the canonical NaN.
    if (Number.isNaN(v)) v = NaN
    const variant = rng.int(3)
    const a = oursSync(ctx, () => (ours[g.name].value = oursArg(ctx, g.type, v, variant)))
    const b = v8Sync(ctx, () => (g.type === 'v128' ? v8.g_v128_set(...bytesToLanes(v)) : (v8[g.name].value = v8Args(ctx, [g.type], [v])[0])))
    return result(`${g.name}.value = ${show(v, g.type, ctx)}`, a, b)
  }
  if (r < 16) {
    const len = rng.range(1, 16)
    const size = ours.mem.size() * 65536
    const off = rng.chance(0.8) ? rng.range(0, Math.min(size, 256)) : Math.max(0, size - rng.range(0, 16))
    const bytes = new Uint8Array(len).map(() => rng.int(256))
    const a = oursSync(ctx, () => ours.mem.write(off, bytes))
    const b = v8Sync(ctx, () => {
      if (off + len > v8.mem.buffer.byteLength) throw new RangeError('out of bounds')
      new Uint8Array(v8.mem.buffer).set(bytes, off)
    })
    // Out of bounds, ours must refuse too (and write nothing: the memory is compared after).
    return result(`mem.write(${off}, [${[...bytes].join(' ')}])`, a, b)
  }
  if (r < 18) {
    const delta = rng.pick([0, 1, 1, 2, 4])
    const a = oursSync(ctx, () => ours.mem.grow(delta))
    const b = v8Sync(ctx, () => v8.mem.grow(delta))
    return result(`mem.grow(${delta})`, a, b, agree(a, b) && (!a.ok || a.value === b.value))
  }
  if (r < 23) {
    // Ours only (V8 collects by itself): unreachable externrefs are released and their slots
    // reused by the next ones; a slot freed while still referenced would break identity.
    const free = () => ctx.ours.store._freeExterns?.length ?? 0 // internal: only for the figures
    const before = free()
    const a = oursSync(ctx, () => ctx.ours.store.gc())
    stats.gcs++
    stats.reclaimedSlots += Math.max(0, free() - before)
    return { what: 'store.gc() (ours)', divergence: a.ok ? null : `ours ${showOutcome(a)}` }
  }
  if (r < 33) {
    const [tab, t] = rng.pick([['tf', 'funcref'], ['te', 'externref']])
    const op = rng.pick(['get', 'set', 'set', 'grow'])
    stats.tableHostOps++
    const i = rng.range(0, ours[tab].size() + 1) // sometimes one past the end
    let v = randArg(rng, t, nf)
    if (op === 'get') {
      const a = oursSync(ctx, () => normOurs(t, ours[tab].get(i)))
      const b = v8Sync(ctx, () => normV8(ctx, t, v8[tab].get(i)))
      return result(`${tab}.get(${i})`, a, b, agree(a, b) && (!a.ok || !diffNorm(t, a.value, b.value, null)))
    }
    if (op === 'set') {
      const a = oursSync(ctx, () => ours[tab].set(i, oursArg(ctx, t, v, 0)))
      const b = v8Sync(ctx, () => v8[tab].set(i, v8Args(ctx, [t], [v])[0]))
      return result(`${tab}.set(${i}, ${show(v, t, ctx)})`, a, b)
    }
    const delta = rng.pick([0, 1, 2, 5])
    const a = oursSync(ctx, () => ours[tab].grow(delta, oursArg(ctx, t, v, 0)))
    const b = v8Sync(ctx, () => v8[tab].grow(delta, v8Args(ctx, [t], [v])[0]))
    return result(`${tab}.grow(${delta}, ${show(v, t, ctx)})`, a, b, agree(a, b) && (!a.ok || a.value === b.value))
  }
  return null
}

// ---------------------------------------------------------------- one module

const engine = new wn.Engine() // no fuel; epoch interruption on, for the timeout safety net
const TIMEOUT_MS = 5000
// The fraction of our calls made with callAsync.
const ASYNC_FRACTION = 0.15
const adapters = new Map() // V8 adapter modules by signature

function newStats() {
  return {
    modules: 0, instantiated: 0, calls: 0, traps: {}, trapsTotal: 0, instantiationTraps: 0, nanCases: 0, timeouts: 0, compileErrors: 0,
    asyncCalls: 0, v128Calls: 0, externrefCalls: 0, funcrefCalls: 0, funcrefResultCalls: 0, hostCalls: 0, hostV128Calls: 0, hostThrows: 0,
    tableHostOps: 0, simdOps: 0, tableOps: 0, indirectCalls: 0, gcs: 0, reclaimedSlots: 0,
  }
}

/** The V8 side's imports: the host functions, v128 ones behind an adapter module. */
function v8Imports(ctx) {
  const host = {}
  for (const imp of ctx.m.imports) {
    const fn = hostFn(ctx, ctx.v8, imp)
    if (!hasV128(imp)) {
      host[imp.name] = fn
      continue
    }
    const key = sigOf(imp)
    if (!adapters.has(key)) adapters.set(key, new WebAssembly.Module(wn.wat2wasm(adapterWat(imp.params, imp.results))))
    host[imp.name] = new WebAssembly.Instance(adapters.get(key), { js: { f: fn } }).exports.f
    ctx.v8Funcs.set(host[imp.name], imp)
  }
  return { host }
}

/**
 * One call on both sides and its comparison. `spec`: { label, params, results, ours (our
 * callable), v8 (V8's function, taking v128s as lanes) }. Returns { divergence, hard, a, b }
 * (a, b: the outcomes; when ok, `raw` holds each side's result values).
 */
async function callBoth(ctx, k, spec, rng, before) {
  const { m, stats, log } = ctx
  const args = spec.params.map((t) => randArg(rng, t, m.funcs.length))
  const variants = args.map(() => rng.int(3))
  const budget = rng.weighted([[1, 0], [1, 1], [1, 7], [2, 100], [10, 1000], [2, 5000]])
  const useAsync = rng.chance(ASYNC_FRACTION)
  const call = `${spec.label}(${args.map((a, i) => show(a, spec.params[i], ctx)).join(', ')}) with budget ${budget}${useAsync ? ', callAsync' : ''}`
  log.push(`;; call ${k}: ${call}`)
  for (const side of [ctx.ours, ctx.v8]) {
    side.inst.exports.budget.value = budget
    side.inst.exports.depth.value = 0
  }
  const h = before?.()
  if (h) {
    log.push(`;;   before it: ${h.what}`)
    if (h.divergence) return { divergence: `call ${k}: host operation ${h.what}: ${h.divergence}` }
  }
  const oargs = spec.params.map((t, i) => oursArg(ctx, t, args[i], variants[i]))
  const vargs = v8Args(ctx, spec.params, args)
  const a = useAsync ? await oursAsync(ctx, () => spec.ours.callAsync(...oargs)) : oursSync(ctx, () => spec.ours(...oargs))
  const where = `call ${k}: ${call}`
  if (a.trap === 'timeout') {
    stats.timeouts++
    return { divergence: `${where}: timed out (${a.code}): the generator guarantees termination`, hard: true }
  }
  const b = v8Sync(ctx, () => spec.v8(...vargs))
  stats.calls++
  if (useAsync) stats.asyncCalls++
  if (hasV128(spec)) stats.v128Calls++
  const types = [...spec.params, ...spec.results]
  if (types.includes('externref')) stats.externrefCalls++
  if (types.includes('funcref')) stats.funcrefCalls++
  if (a.ok) {
    a.raw = resultList(spec.results.length, a.value)
    if (!a.raw) return { divergence: `${where}: ours returned a misshapen result (${describe(a.value)})` }
    a.values = spec.results.map((t, i) => normOurs(t, a.raw[i]))
  }
  if (b.ok) {
    const flat = resultList(flatTypes(spec.results).length, b.value)
    b.raw = unflatten(spec.results, flat)
    b.values = spec.results.map((t, i) => normV8(ctx, t, b.raw[i]))
  }
  const outcomes = `ours ${showOutcome(a, spec.results, ctx)}, v8 ${showOutcome(b, spec.results, ctx)}`
  log[log.length - 1] += ` -> ${showOutcome(b, spec.results, ctx)}`
  const res = (d) => ({ divergence: d, a, b })
  if (a.error || b.error) return res(`${where}: ${outcomes}`)
  if (a.thrown !== undefined || b.thrown !== undefined) {
    if (a.thrown !== b.thrown) return res(`${where}: host exceptions differ: ${outcomes}`)
    stats.hostThrows++
  } else if (!!a.trap !== !!b.trap) {
    return res(`${where}: trapped on one side only: ${outcomes}`)
  } else if (a.trap) {
    if (!sameTrap(a.trap, b.trap)) return res(`${where}: trap kinds differ: ${outcomes}`)
    stats.trapsTotal++
    stats.traps[a.trap] = (stats.traps[a.trap] ?? 0) + 1
  } else {
    const d = diffList(spec.results, a.values, b.values, stats, 'result')
    if (d) return res(`${where}: ${d}: ${outcomes}`)
  }
  const dh = diffHostCalls(ctx)
  if (dh) return res(`${where}: ${dh}`)
  const ds = diffState(ctx, k % 5 === 4)
  if (ds) return res(`${where} (both ${a.ok ? `returned ${showOutcome(b, spec.results, ctx)}` : showOutcome(b)}): ${ds}`)
  return res(null)
}

/** The call of a funcref that both sides hold (from a result or a table), or null if V8 cannot call it. */
function funcrefSpec(ctx, label, oursFn, v8Fn) {
  const f = v8FuncOf(ctx, v8Fn)
  if (!f) return null
  // V8 calls a function with v128 in its signature through the module's wrapper (imports have none).
  const v8 = hasV128(f) ? (f.wrapper ? ctx.v8.inst.exports[f.wrapper] : null) : v8Fn
  return v8 ? { label, params: f.params, results: f.results, ours: oursFn, v8 } : null
}

/**
 * Run module `index` of `seed`. Returns { wat, log, divergence: string | null, hard } (hard: a
 * timeout or compile/instantiation error, which NaN bits cannot explain). `stats` is updated
 * (pass a scratch object for a re-run).
 */
async function runModule(seed, index, opts, stats) {
  const m = genModule(deriveSeed(seed, index, 1), { canonNaN: opts.canonNaN })
  const argRng = makeRng(deriveSeed(seed, index, 2))
  const log = []
  const res = (divergence, hard = false) => ({ wat: m.wat, log, divergence, hard })
  const side = (name, norm) => ({ name, norm, log: [], calls: 0, inst: null })
  const ctx = { m, stats, log, pool: makePool(), thrown: makeThrown(), v8Funcs: new Map() }
  ctx.ours = side('ours', normOurs)
  ctx.v8 = side('v8', (t, v) => normV8(ctx, t, v))
  stats.modules++

  let bin
  try {
    bin = wn.wat2wasm(m.wat)
  } catch (e) {
    stats.compileErrors++
    return res(`generator bug: wat2wasm failed: ${e.message}`, true)
  }
  // Compile and instantiate: ours first (with the timeout: a start function runs here).
  const oursImports = { host: Object.fromEntries(m.imports.map((imp) => [imp.name, hostFn(ctx, ctx.ours, imp)])) }
  const wo = oursSync(ctx, () => {
    const store = (ctx.ours.store = new wn.Store(engine, { timeoutMs: TIMEOUT_MS }))
    return (ctx.ours.inst = new wn.Instance(store, new wn.Module(engine, bin), oursImports))
  })
  if (wo.trap === 'timeout') {
    stats.timeouts++
    return res('instantiation timed out: the generator guarantees termination', true)
  }
  const vo = v8Sync(ctx, () => (ctx.v8.inst = new WebAssembly.Instance(new WebAssembly.Module(bin), v8Imports(ctx))))
  log.push(';; instantiate')
  // The generator makes valid modules only: any compile or link error is a bug (of one of them).
  if (wo.error || vo.error) {
    stats.compileErrors++
    return res(`compile/instantiation error: ours ${showOutcome(wo)}, v8 ${showOutcome(vo)}`, true)
  }
  const failed = (o) => o.trap !== undefined || o.thrown !== undefined
  if (failed(wo) !== failed(vo)) return res(`instantiation: ours ${showOutcome(wo)}, v8 ${showOutcome(vo)}`)
  const dh = diffHostCalls(ctx)
  if (dh) return res(`start function: ${dh}`)
  if (failed(wo)) {
    if (wo.thrown !== vo.thrown || (wo.trap && !sameTrap(wo.trap, vo.trap))) return res(`instantiation failures differ: ours ${showOutcome(wo)}, v8 ${showOutcome(vo)}`)
    stats.instantiationTraps++
    return res(null)
  }
  stats.instantiated++
  for (const f of m.funcs) ctx.v8Funcs.set(ctx.v8.inst.exports[f.name], f)
  const ours = ctx.ours.inst.exports
  const v8 = ctx.v8.inst.exports
  // wasm has no non-null externref constants: give `te` and `g_externref` values from the pool
  // (through each side's JS API), so that externrefs flowing through wasm are mostly not null.
  const seeded = Array.from({ length: v8.te.length + 1 }, () => argRng.int(ctx.pool.length))
  const fill = (side) => () => {
    seeded.slice(0, -1).forEach((p, i) => side.te.set(i, ctx.pool[p]))
    side.g_externref.value = ctx.pool[seeded.at(-1)]
  }
  const fo = oursSync(ctx, fill(ours))
  const fv = v8Sync(ctx, fill(v8))
  log.push(`;; te[i] = pool[${seeded.slice(0, -1).join(', ')}]; g_externref = pool[${seeded.at(-1)}]`)
  if (!fo.ok || !fv.ok) return res(`seeding te and g_externref: ours ${showOutcome(fo)}, v8 ${showOutcome(fv)}`)
  const d0 = diffState(ctx, false)
  if (d0) return res(`after instantiation: ${d0}`)

  const ncalls = m.funcs.length * opts.calls
  let r = null
  for (let k = 0; k < ncalls && !r?.divergence; k++) {
    const f = argRng.pick(m.funcs)
    const spec = { label: f.name, params: f.params, results: f.results, ours: ours[f.name], v8: v8[f.wrapper ?? f.name] }
    r = await callBoth(ctx, k, spec, argRng, () => hostOp(ctx, argRng))
    if (r.divergence || !r.a.ok) continue
    // Call funcrefs: from the results, and sometimes from the table or the global.
    const refs = f.results.flatMap((t, i) => (t === 'funcref' && r.a.raw[i] !== null ? [[`(result ${i} of ${f.name})`, r.a.raw[i], r.b.raw[i]]] : []))
    if (argRng.chance(0.15) && v8.tf.length) {
      const i = argRng.int(v8.tf.length)
      refs.push([`(tf[${i}])`, ours.tf.get(i), v8.tf.get(i)])
    }
    if (argRng.chance(0.05)) refs.push(['(g_funcref)', ours.g_funcref.value, v8.g_funcref.value])
    for (const [label, a, b] of refs) {
      const s = a !== null && b !== null && funcrefSpec(ctx, label, a, b)
      if (!s || !argRng.chance(0.7)) continue
      r = await callBoth(ctx, `${k}'`, s, argRng, null)
      stats.funcrefResultCalls++
      if (r.divergence) break
    }
  }
  // The module's execution counters (equal on both sides: they are compared as globals).
  stats.simdOps += ours.n_simd.value
  stats.tableOps += ours.n_table.value
  stats.indirectCalls += ours.n_ind.value
  return res(r?.divergence ?? null, !!r?.hard)
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2))
  const stats = { ...newStats(), nanBitModules: 0, divergences: [] }
  const nanBit = []
  const deadline = Date.now() + o.seconds * 1000
  const started = Date.now()
  const indices = o.module !== null ? [o.module] : null
  const divDir = join(HERE, 'divergences')

  for (let i = 0; indices ? i < indices.length : i < o.maxModules && Date.now() < deadline; i++) {
    const index = indices ? indices[i] : i
    const r = await runModule(o.seed, index, { canonNaN: o.canon, calls: o.calls }, stats)
    if (o.verbose) {
      console.log(`module ${index}: ${r.divergence ? `DIVERGES: ${r.divergence}` : 'ok'}`)
      if (o.module !== null) console.log(`${r.wat}\n${r.log.join('\n')}`)
    }
    if (!r.divergence) continue
    if (o.canon || r.hard) {
      // Timeouts and compile/instantiation errors are never NaN-bit cases.
      const file = `${o.seed}-${index}${o.canon ? '.canon' : ''}.wat`
      stats.divergences.push({ seed: o.seed, module: index, description: r.divergence, file: `fuzz/divergences/${file}` })
      save(divDir, file, r, `seed ${o.seed} module ${index}${o.canon ? ' (--canon)' : ''}: ${r.divergence}`, o.seed, index)
      console.log(`DIVERGENCE seed ${o.seed} module ${index}: ${r.divergence} -> fuzz/divergences/${file}`)
      continue
    }
    // Same module and calls with every nondeterministic NaN canonicalized.
    const rc = await runModule(o.seed, index, { canonNaN: true, calls: o.calls }, newStats())
    if (!rc.divergence) {
      stats.nanBitModules++
      nanBit.push({ index, description: r.divergence })
      if (o.verbose) console.log(`module ${index}: NaN-bit case (no divergence once NaNs are canonicalized)`)
      if (o.saveNan) save(divDir, `${o.seed}-${index}.nan.wat`, r, `NaN-bit case (disappears with canonNaN): ${r.divergence}`, o.seed, index)
      continue
    }
    const file = `${o.seed}-${index}.wat`
    stats.divergences.push({ seed: o.seed, module: index, description: r.divergence, file: `fuzz/divergences/${file}` })
    save(divDir, file, r, `seed ${o.seed} module ${index}: ${r.divergence}\nwith canonNaN: ${rc.divergence}`, o.seed, index)
    console.log(`DIVERGENCE seed ${o.seed} module ${index}: ${r.divergence} -> fuzz/divergences/${file}`)
  }

  const secs = ((Date.now() - started) / 1000).toFixed(1)
  const kinds = Object.entries(stats.traps).sort().map(([k, v]) => `${k}=${v}`).join(' ')
  console.log(`fuzz seed ${o.seed}: ${stats.modules} modules (${stats.instantiated} instantiated, ${stats.instantiationTraps} trapped at instantiation) x ${stats.calls} calls in ${secs}s`)
  console.log(`  traps: ${stats.trapsTotal} (${kinds || 'none'}); host exceptions through calls: ${stats.hostThrows}`)
  console.log(`  calls: ${stats.asyncCalls} callAsync, ${stats.v128Calls} with v128, ${stats.externrefCalls} with externref, ${stats.funcrefCalls} with funcref, ${stats.funcrefResultCalls} of funcrefs`)
  console.log(`  host import calls: ${stats.hostCalls} (${stats.hostV128Calls} with v128); host table ops: ${stats.tableHostOps}; store.gc(): ${stats.gcs} (${stats.reclaimedSlots} externref slots reclaimed)`)
  console.log(`  executed: ${stats.simdOps} SIMD results consumed, ${stats.tableOps} table instructions, ${stats.indirectCalls} call_indirect`)
  console.log(`  NaN cases: ${stats.nanCases} NaN results; ${stats.nanBitModules} NaN-bit module(s) (differ only in nondeterministic NaN bits)`)
  const shown = o.verbose ? nanBit : nanBit.slice(0, 5)
  for (const n of shown) console.log(`    NaN-bit: module ${n.index}: ${n.description}`)
  if (shown.length < nanBit.length) console.log(`    … ${nanBit.length - shown.length} more (--verbose lists them all)`)
  console.log(`  timeouts: ${stats.timeouts}; compile/instantiation errors: ${stats.compileErrors}`)
  console.log(`  divergences: ${stats.divergences.length}`)
  for (const d of stats.divergences) console.log(`    module ${d.module}: ${d.description} (${d.file})`)
  const { divergences, traps, trapsTotal, nanBitModules, ...counts } = stats
  const summary = { seed: o.seed, seconds: Number(secs), ...counts, traps: trapsTotal, trapKinds: traps, nanBitModules, divergences: divergences.length }
  console.log(`FUZZ_SUMMARY ${JSON.stringify(summary)}`)
  process.exitCode = divergences.length ? 1 : 0
}

function save(dir, file, r, header, seed, index) {
  mkdirSync(dir, { recursive: true })
  const text = `;; ${header.split('\n').join('\n;; ')}\n;; reproduce: node fuzz/run.mjs --seed ${seed} --module ${index} --verbose\n;; (host imports: run.mjs hostFn)\n${r.log.join('\n')}\n${r.wat}\n`
  writeFileSync(join(dir, file), text)
}

await main()
// A callAsync that never settled may keep the process alive: do not let it hang the run.
setTimeout(() => process.exit(), 1000).unref()
