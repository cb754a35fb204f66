// Random valid wasm modules, as WAT text, for the differential fuzzer (fuzz/run.mjs).
//
// Plain JavaScript (no wasm-smith): a seeded PRNG and a type-directed generator, so every module
// validates by construction. What a module holds:
//   - an exported memory `mem` (min 0..2 pages, max min..min+3), random active data segments;
//   - exported mutable globals `g_i32`, `g_i64`, `g_f32`, `g_f64`, and `budget` (i32, see below);
//   - 1..8 functions `f0..fN`, all exported, with random params/results among i32/i64/f32/f64
//     (0..2 results), whose bodies come from a typed expression/statement generator: constants
//     (edge values included), locals, globals, every numeric op (unary, binary, compare, convert,
//     reinterpret, extend, wrap, trapping trunc and trunc_sat), select, if/else, block + br_if,
//     br_table, bounded loops, calls to earlier functions, loads/stores of every width with
//     random offsets/alignment (some out of bounds), memory.size/grow, div/rem, unreachable.
//
// Termination by construction: a function calls only functions of lower index (no recursion);
// every loop has its own counter local (set to ≤ 16 on entry, decremented each iteration, and
// no branch but the loop's own back-edge targets a loop label); and a global `budget`,
// decremented at every function entry and loop iteration, ends loops and makes functions return
// zeros when it reaches 0. The harness sets `budget` before each call.
//
// `canonNaN: true` generates the same module (the PRNG is consumed identically) with every float
// op whose NaN result the spec leaves nondeterministic (arithmetic ops, min/max, sqrt, rounding,
// promote/demote) done by a helper function that (1) checks the NaN against the spec's rule —
// the result of NaN inputs that are all canonical must be a canonical NaN (either sign), else
// any arithmetic (quiet) NaN — recording the first violation in the exported global `nan_bad`
// (the op's number in NAN_OPS, plus 1), and (2) replaces any NaN by the canonical +NaN. Float
// parameters are canonicalized on entry (the JS→wasm NaN bits are not specified either). Used to
// tell a NaN-bit difference from a real one, and to check both engines' NaN results.

// ---------------------------------------------------------------- PRNG

/** mulberry32: a small, fast 32-bit PRNG; returns an object of helpers over one stream. */
export function makeRng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  const rng = {
    u32: next,
    /** Integer in [0, n). */
    int: (n) => Math.floor((next() / 4294967296) * n),
    /** Integer in [lo, hi]. */
    range: (lo, hi) => lo + Math.floor((next() / 4294967296) * (hi - lo + 1)),
    chance: (p) => next() / 4294967296 < p,
    pick: (arr) => arr[Math.floor((next() / 4294967296) * arr.length)],
    /** Pick from [[weight, value], ...]. */
    weighted: (pairs) => {
      let total = 0
      for (const [w] of pairs) total += w
      let r = (next() / 4294967296) * total
      for (const [w, v] of pairs) {
        if ((r -= w) < 0) return v
      }
      return pairs[pairs.length - 1][1]
    },
    u64: () => (BigInt(next()) << 32n) | BigInt(next()),
  }
  return rng
}

/** A 32-bit seed derived from several integers (splitmix-style mixing). */
export function deriveSeed(...parts) {
  let h = 0x9e3779b9
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
    h = (h ^ (h >>> 16)) >>> 0
  }
  return h
}

// ---------------------------------------------------------------- values

export const TYPES = ['i32', 'i64', 'f32', 'f64']

const f32buf = new Float32Array(1)
const u32buf = new Uint32Array(f32buf.buffer)
const f64buf = new Float64Array(1)
const u64buf = new BigUint64Array(f64buf.buffer)

export const f32FromBits = (b) => ((u32buf[0] = b >>> 0), f32buf[0])
export const f32Bits = (x) => ((f32buf[0] = x), u32buf[0])
export const f64FromBits = (b) => ((u64buf[0] = BigInt.asUintN(64, b)), f64buf[0])
export const f64Bits = (x) => ((f64buf[0] = x), u64buf[0])

const I32_EDGES = [0, 1, -1, 2, 7, 8, 16, 31, 32, 33, 63, 64, 255, 256, 65535, 65536, -65536, 0x7fffffff, -0x80000000, 0x7ffffffe, -0x7fffffff, 0x55555555, -0x55555556, 1 << 24, 0x10000 - 4, 0x1fffc]
const I64_EDGES = [0n, 1n, -1n, 2n, 63n, 64n, 65n, 255n, 65536n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn, 0x100000000n, -0x100000000n,
  0x7fffffffffffffffn, -0x8000000000000000n, -0x7fffffffffffffffn, 0x5555555555555555n, 1n << 53n, (1n << 53n) + 1n, -(1n << 53n) - 1n]
// f32 bit patterns: ±0, ±1, ±inf, canonical/negative/payload/signalling NaNs, subnormals,
// min normal, max, and values at the integer-conversion boundaries; 0.5/1.5/2.5 for `nearest`.
const F32_EDGE_BITS = [0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0x7f800001, 0xff800001,
  0x7fffffff, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x4f800000, 0x4f7fffff,
  0x5f000000, 0xdf000000, 0x5effffff, 0x5f800000, 0x3f000000, 0x3fc00000, 0x40200000, 0xbf000000, 0xbfc00000, 0x4b800000, 0x4b800001, 0x3effffff]
const F64_EDGE_BITS = [0n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n,
  0xfff8000000000000n, 0x7ff4000000000000n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7fffffffffffffffn, 1n, 0x8000000000000001n, 0x000fffffffffffffn,
  0x0010000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x41e0000000000000n, 0xc1e0000000000000n, 0x41dfffffffc00000n, 0xc1e0000000200000n,
  0x41dfffffffffffffn, 0x41efffffffffffffn, 0x41f0000000000000n, 0x43e0000000000000n, 0xc3e0000000000000n, 0x43dfffffffffffffn, 0x43f0000000000000n,
  0x3fe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0xbfe0000000000000n, 0x4330000000000000n, 0x4330000000000001n, 0x3fdfffffffffffffn,
  0x36a0000000000000n /* ~2^-149 */, 0x47efffffe0000000n /* f32 max */, 0x47effffff0000000n /* rounds to f32 inf */]

function randI32(rng) {
  return rng.weighted([
    [5, () => rng.pick(I32_EDGES)],
    [3, () => rng.range(-20, 100)],
    [2, () => rng.u32() | 0],
    [1, () => rng.pick(I32_EDGES) + rng.range(-2, 2)],
  ])() | 0
}

function randI64(rng) {
  return BigInt.asIntN(64, rng.weighted([
    [5, () => rng.pick(I64_EDGES)],
    [3, () => BigInt(rng.range(-20, 100))],
    [2, () => rng.u64()],
    [1, () => BigInt(rng.u32() | 0)],
  ])())
}

function randF32Bits(rng) {
  return rng.weighted([
    [5, () => rng.pick(F32_EDGE_BITS)],
    [3, () => f32Bits(Math.fround(rng.range(-100, 100) / rng.pick([1, 2, 4, 3, 10])))],
    [2, () => rng.u32()],
    [1, () => f32Bits(Math.fround((rng.u32() | 0) * rng.pick([1, 256, 1 / 256, 65536 * 65536])))],
  ])() >>> 0
}

function randF64Bits(rng) {
  return BigInt.asUintN(64, rng.weighted([
    [5, () => rng.pick(F64_EDGE_BITS)],
    [3, () => f64Bits(rng.range(-100, 100) / rng.pick([1, 2, 4, 3, 10]))],
    [2, () => rng.u64()],
    [1, () => f64Bits((rng.u32() | 0) * rng.pick([1, 256, 1 / 256, 65536 * 65536, 2 ** 40]))],
  ])())
}

/** An f32 bit pattern as exact WAT text (hex float / nan:0x… / inf). */
export function watF32(bits) {
  bits >>>= 0
  const sign = bits >>> 31 ? '-' : ''
  const exp = (bits >>> 23) & 0xff
  const mant = bits & 0x7fffff
  if (exp === 0xff) return mant === 0 ? `${sign}inf` : `${sign}nan:0x${mant.toString(16)}`
  const m = (mant << 1).toString(16).padStart(6, '0')
  if (exp === 0) return mant === 0 ? `${sign}0x0p+0` : `${sign}0x0.${m}p-126`
  return `${sign}0x1.${m}p${exp - 127 >= 0 ? '+' : ''}${exp - 127}`
}

/** An f64 bit pattern as exact WAT text. */
export function watF64(bits) {
  bits = BigInt.asUintN(64, bits)
  const sign = bits >> 63n ? '-' : ''
  const exp = Number((bits >> 52n) & 0x7ffn)
  const mant = bits & 0xfffffffffffffn
  if (exp === 0x7ff) return mant === 0n ? `${sign}inf` : `${sign}nan:0x${mant.toString(16)}`
  const m = mant.toString(16).padStart(13, '0')
  if (exp === 0) return mant === 0n ? `${sign}0x0p+0` : `${sign}0x0.${m}p-1022`
  return `${sign}0x1.${m}p${exp - 1023 >= 0 ? '+' : ''}${exp - 1023}`
}

/** A random constant of type t, as a WAT instruction. */
function constOf(rng, t) {
  switch (t) {
    case 'i32': return `(i32.const ${randI32(rng)})`
    case 'i64': return `(i64.const ${randI64(rng)})`
    case 'f32': return `(f32.const ${watF32(randF32Bits(rng))})`
    case 'f64': return `(f64.const ${watF64(randF64Bits(rng))})`
  }
  throw new Error(t)
}

const ZERO = { i32: '(i32.const 0)', i64: '(i64.const 0)', f32: '(f32.const 0)', f64: '(f64.const 0)' }

/**
 * A random JS argument for a parameter of type t, valid for both wasmtime-node (strict: an i32
 * is an integer in [-2^31, 2^32), an i64 a BigInt in [-2^63, 2^64)) and WebAssembly (which wraps
 * the same way). f32 parameters sometimes get doubles that are not f32 values (both round).
 */
export function randArg(rng, t) {
  switch (t) {
    case 'i32': return rng.chance(0.1) ? rng.u32() : rng.chance(0.02) ? -0 : randI32(rng) // u32: the unsigned form wraps
    case 'i64': return rng.chance(0.1) ? rng.u64() : randI64(rng)
    case 'f32':
      return rng.weighted([
        [6, () => f32FromBits(randF32Bits(rng))],
        [2, () => f64FromBits(randF64Bits(rng))], // rounded to f32 by both sides
        [1, () => f64FromBits(0x47efffffe0000000n + BigInt(rng.range(-3, 0x10000001)))], // around FLT_MAX → inf
        [1, () => f64FromBits((BigInt(1023 + rng.range(-152, -147)) << 52n) | (rng.u64() & 0xfffffffffffffn))], // around the smallest subnormal
      ])()
    case 'f64': return f64FromBits(randF64Bits(rng))
  }
  throw new Error(t)
}

// ---------------------------------------------------------------- operators

const INT_UNARY = { i32: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s'], i64: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'] }
const INT_BINARY = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr']
const INT_COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u']
// Float ops whose NaN result has nondeterministic bits (arithmetic NaN): wrapped in canon mode.
const FLOAT_UNARY_ARITH = ['sqrt', 'ceil', 'floor', 'trunc', 'nearest']
const FLOAT_UNARY_EXACT = ['abs', 'neg']
const FLOAT_BINARY_ARITH = ['add', 'sub', 'mul', 'div', 'min', 'max']
const FLOAT_COMPARE = ['eq', 'ne', 'lt', 'gt', 'le', 'ge']

/** The ops checked in canonNaN mode: [result type, op, input types]. `nan_bad` - 1 indexes this. */
export const NAN_OPS = [
  ...['f32', 'f64'].flatMap((t) => [
    ...FLOAT_UNARY_ARITH.map((op) => [t, `${t}.${op}`, [t]]),
    ...FLOAT_BINARY_ARITH.map((op) => [t, `${t}.${op}`, [t, t]]),
  ]),
  ['f32', 'f32.demote_f64', ['f64']],
  ['f64', 'f64.promote_f32', ['f32']],
]
const NAN_OP_ID = new Map(NAN_OPS.map(([, op], i) => [op, i]))

/** The canonNaN-mode helpers: $canon_f32/$canon_f64, $op_<op> for each op of NAN_OPS, $nan_bad. */
function nanHelpers() {
  const bits = { f32: ['i32', 'i32.reinterpret_f32', '0x7fffffff', '0x7fc00000', '0x00400000'], f64: ['i64', 'i64.reinterpret_f64', '0x7fffffffffffffff', '0x7ff8000000000000', '0x0008000000000000'] }
  // $is_canon_T: 1 if x is not a NaN or is a canonical NaN (either sign).
  const out = ['f32', 'f64'].flatMap((t) => {
    const [it, reinterp, abs, canonBits] = bits[t]
    return [
      `  (func $canon_${t} (param ${t}) (result ${t}) (select (${t}.const nan) (local.get 0) (${t}.ne (local.get 0) (local.get 0))))`,
      `  (func $in_ok_${t} (param ${t}) (result i32) (i32.or (${t}.eq (local.get 0) (local.get 0)) (${it}.eq (${it}.and (${reinterp} (local.get 0)) (${it}.const ${abs})) (${it}.const ${canonBits}))))`,
    ]
  })
  out.push('  (func $nan_bad (param i32) (if (i32.eqz (global.get $nan_bad)) (then (global.set $nan_bad (local.get 0)))))')
  NAN_OPS.forEach(([t, op, ins], id) => {
    const [it, reinterp, abs, canonBits, quiet] = bits[t]
    const r = ins.length
    const allCanon = ins.map((u, i) => `(call $in_ok_${u} (local.get ${i}))`).reduce((a, b) => `(i32.and ${a} ${b})`)
    const rb = `(${reinterp} (local.get ${r}))`
    out.push(`  (func $op_${op} (param ${ins.join(' ')}) (result ${t}) (local ${t})
    (local.set ${r} (${op} ${ins.map((_, i) => `(local.get ${i})`).join(' ')}))
    (if (${t}.ne (local.get ${r}) (local.get ${r})) (then
      (if (i32.eqz (if (result i32) ${allCanon}
            (then (${it}.eq (${it}.and ${rb} (${it}.const ${abs})) (${it}.const ${canonBits})))
            (else (${it}.ne (${it}.and ${rb} (${it}.const ${quiet})) (${it}.const 0)))))
        (then (call $nan_bad (i32.const ${id + 1}))))
      (local.set ${r} (${t}.const nan))))
    (local.get ${r}))`)
  })
  return out
}

// Conversions to each type: [op, from type, nondeterministic NaN result?]
const CONVERT = {
  i32: [['i32.wrap_i64', 'i64'], ['i32.trunc_f32_s', 'f32'], ['i32.trunc_f32_u', 'f32'], ['i32.trunc_f64_s', 'f64'], ['i32.trunc_f64_u', 'f64'],
    ['i32.trunc_sat_f32_s', 'f32'], ['i32.trunc_sat_f32_u', 'f32'], ['i32.trunc_sat_f64_s', 'f64'], ['i32.trunc_sat_f64_u', 'f64'], ['i32.reinterpret_f32', 'f32']],
  i64: [['i64.extend_i32_s', 'i32'], ['i64.extend_i32_u', 'i32'], ['i64.trunc_f32_s', 'f32'], ['i64.trunc_f32_u', 'f32'], ['i64.trunc_f64_s', 'f64'],
    ['i64.trunc_f64_u', 'f64'], ['i64.trunc_sat_f32_s', 'f32'], ['i64.trunc_sat_f32_u', 'f32'], ['i64.trunc_sat_f64_s', 'f64'], ['i64.trunc_sat_f64_u', 'f64'],
    ['i64.reinterpret_f64', 'f64']],
  f32: [['f32.convert_i32_s', 'i32'], ['f32.convert_i32_u', 'i32'], ['f32.convert_i64_s', 'i64'], ['f32.convert_i64_u', 'i64'], ['f32.demote_f64', 'f64', true],
    ['f32.reinterpret_i32', 'i32']],
  f64: [['f64.convert_i32_s', 'i32'], ['f64.convert_i32_u', 'i32'], ['f64.convert_i64_s', 'i64'], ['f64.convert_i64_u', 'i64'], ['f64.promote_f32', 'f32', true],
    ['f64.reinterpret_i64', 'i64']],
}

// Loads producing each type: [op, bytes]; stores of each type.
const LOADS = {
  i32: [['i32.load', 4], ['i32.load8_s', 1], ['i32.load8_u', 1], ['i32.load16_s', 2], ['i32.load16_u', 2]],
  i64: [['i64.load', 8], ['i64.load8_s', 1], ['i64.load8_u', 1], ['i64.load16_s', 2], ['i64.load16_u', 2], ['i64.load32_s', 4], ['i64.load32_u', 4]],
  f32: [['f32.load', 4]],
  f64: [['f64.load', 8]],
}
const STORES = {
  i32: [['i32.store', 4], ['i32.store8', 1], ['i32.store16', 2]],
  i64: [['i64.store', 8], ['i64.store8', 1], ['i64.store16', 2], ['i64.store32', 4]],
  f32: [['f32.store', 4]],
  f64: [['f64.store', 8]],
}

// ---------------------------------------------------------------- generator

const MAX_EXPR_DEPTH = 5
const MAX_STMT_DEPTH = 3

/**
 * Generate one module. Returns { wat, funcs: [{ name, params, results }], globals: [{ name, type }],
 * memory: { min, max } }.
 */
export function genModule(seed, { canonNaN = false } = {}) {
  const rng = makeRng(seed)
  const memMin = rng.weighted([[0.5, 0], [6, 1], [2.5, 2]])
  const memMax = memMin + rng.range(0, 3)
  const nfuncs = rng.range(1, 8)
  const funcs = []
  for (let i = 0; i < nfuncs; i++) {
    const params = Array.from({ length: rng.weighted([[2, 0], [4, 1], [4, 2], [2, 3], [1, 5]]) }, () => rng.pick(TYPES))
    const results = Array.from({ length: rng.weighted([[2, 0], [8, 1], [1, 2]]) }, () => rng.pick(TYPES))
    funcs.push({ name: `f${i}`, params, results })
  }

  const globalInit = Object.fromEntries(TYPES.map((t) => [t, constOf(rng, t)]))
  const bodies = funcs.map((f, i) => genFunc(rng, f, i, funcs, canonNaN))

  const lines = ['(module']
  lines.push(`  (memory (export "mem") ${memMin} ${memMax})`)
  for (const t of TYPES) lines.push(`  (global $g_${t} (export "g_${t}") (mut ${t}) ${globalInit[t]})`)
  lines.push('  (global $budget (export "budget") (mut i32) (i32.const 1000))')
  if (canonNaN) lines.push('  (global $nan_bad (export "nan_bad") (mut i32) (i32.const 0))')
  // Active data segments: in bounds, except rarely one that makes instantiation trap.
  const nseg = rng.range(0, 3)
  for (let s = 0; s < nseg; s++) {
    const len = rng.range(1, 24)
    const limit = memMin * 65536
    let off = rng.chance(0.6) ? rng.range(0, 64) : rng.range(0, Math.max(0, limit - len))
    const oob = rng.chance(0.02)
    if (oob) off = limit - len + rng.range(1, 8) // instantiation traps
    else if (off + len > limit) continue // memory of 0 pages
    const bytes = Array.from({ length: len }, () => '\\' + rng.pick([0, 0xff, 0x80, 0x7f, rng.int(256), rng.int(256)]).toString(16).padStart(2, '0')).join('')
    lines.push(`  (data (i32.const ${off}) "${bytes}")`)
  }
  funcs.forEach((f, i) => lines.push(bodies[i]))
  // A start function, sometimes: the first function without params/results.
  const startable = funcs.findIndex((f) => f.params.length === 0 && f.results.length === 0)
  if (startable >= 0 && rng.chance(0.15)) lines.push(`  (start $f${startable})`)
  if (canonNaN) lines.push(...nanHelpers())
  lines.push(')')
  const globals = [...TYPES.map((t) => ({ name: `g_${t}`, type: t })), { name: 'budget', type: 'i32' }]
  if (canonNaN) globals.push({ name: 'nan_bad', type: 'i32' })
  return { wat: lines.join('\n'), funcs, globals, memory: { min: memMin, max: memMax }, canonNaN }
}

function genFunc(rng, f, index, funcs, canonNaN) {
  const nlocals = rng.range(0, 5)
  const locals = Array.from({ length: nlocals }, () => rng.pick(TYPES))
  const cx = {
    rng,
    canonNaN,
    index,
    funcs,
    // Locals random code may read and write: params and declared locals (not loop counters).
    vars: [...f.params, ...locals],
    results: f.results,
    counters: 0, // loop counter locals, declared after `vars`
    labels: [], // enclosing blocks we may branch to: { name, results: [] | [t] }
    nlabels: 0,
    size: 0, // rough instruction count, to keep bodies bounded
  }
  const body = []
  // Prologue: spend one unit of budget; with none left, return zeros.
  body.push(`(if (i32.le_s (global.get $budget) (i32.const 0)) (then (return ${f.results.map((t) => ZERO[t]).join(' ')})))`)
  body.push('(global.set $budget (i32.sub (global.get $budget) (i32.const 1)))')
  if (canonNaN) {
    f.params.forEach((t, i) => {
      if (t === 'f32' || t === 'f64') body.push(`(local.set ${i} (call $canon_${t} (local.get ${i})))`)
    })
  }
  const n = rng.range(0, 6)
  for (let s = 0; s < n; s++) body.push(stmt(cx, 0))
  for (const t of f.results) body.push(expr(cx, t, 0))
  const counterDecl = cx.counters ? ` (local ${Array(cx.counters).fill('i32').join(' ')})` : ''
  const sig = `${f.params.length ? ` (param ${f.params.join(' ')})` : ''}${f.results.length ? ` (result ${f.results.join(' ')})` : ''}`
  const localDecl = locals.length ? ` (local ${locals.join(' ')})` : ''
  return `  (func $f${index} (export "f${index}")${sig}${localDecl}${counterDecl}\n    ${body.join('\n    ')})`
}

/** `(op args...)`, or in canonNaN mode the call of its checking helper. */
function nanOp(cx, op, args) {
  if (!cx.canonNaN) return `(${op} ${args.join(' ')})`
  if (!NAN_OP_ID.has(op)) throw new Error(`no NaN helper for ${op}`)
  return `(call $op_${op} ${args.join(' ')})`
}

function varsOf(cx, t) {
  const out = []
  cx.vars.forEach((vt, i) => vt === t && out.push(i))
  return out
}

function newCounter(cx) {
  return cx.vars.length + cx.counters++
}

function newLabel(cx, prefix) {
  return `$${prefix}${cx.nlabels++}`
}

/** A memory address (i32 expression), biased towards in-bounds, near-the-end and just-past-the-end. */
function address(cx, depth, width) {
  const { rng } = cx
  return rng.weighted([
    [8, () => `(i32.const ${rng.range(0, 96)})`],
    [4, () => `(i32.and ${expr(cx, 'i32', depth + 1)} (i32.const ${rng.pick([0xff, 0xfff, 0xfff8, 0xffff, 0x1ffff])}))`],
    // Around the current end of memory: some accesses straddle it.
    [0.8, () => `(i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const ${rng.range(0, 2 * width + 2)}))`],
    [0.3, () => expr(cx, 'i32', depth + 1)],
    [0.3, () => `(i32.const ${rng.pick([65536 - width, 65536, 131072 - width, -1, -width, 0x7fffffff])})`],
  ])()
}

function memarg(cx, width) {
  const { rng } = cx
  const offset = rng.weighted([[12, 0], [6, rng.range(1, 64)], [1, rng.pick([65536 - width, 65535, 65536, 131068, 0x7fffffff, 0xffffffff])]])
  const align = rng.chance(0.7) ? width : 2 ** rng.int(Math.log2(width) + 1)
  return `${offset ? ` offset=${offset}` : ''}${align !== width || rng.chance(0.2) ? ` align=${align}` : ''}`
}

function bulkLength(cx, depth) {
  const { rng } = cx
  return rng.weighted([
    [6, () => `(i32.const ${rng.range(0, 40)})`],
    [1, () => `(i32.const ${rng.pick([65536, 65535, 131072, -1, 0x7fffffff])})`],
    [1, () => `(i32.and ${expr(cx, 'i32', depth + 1)} (i32.const 0x3ff))`],
  ])()
}

/** An i32 condition, often a comparison. */
function cond(cx, depth) {
  return cx.rng.chance(0.5) ? expr(cx, 'i32', depth + 1) : compare(cx, depth)
}

function compare(cx, depth) {
  const { rng } = cx
  const t = rng.pick(TYPES)
  if (t[0] === 'i') {
    if (rng.chance(0.15)) return `(${t}.eqz ${expr(cx, t, depth + 1)})`
    return `(${t}.${rng.pick(INT_COMPARE)} ${expr(cx, t, depth + 1)} ${expr(cx, t, depth + 1)})`
  }
  return `(${t}.${rng.pick(FLOAT_COMPARE)} ${expr(cx, t, depth + 1)} ${expr(cx, t, depth + 1)})`
}

/** A sequence of 0..max statements (as one string). */
function stmts(cx, depth, max) {
  const n = cx.rng.range(0, max)
  const out = []
  for (let i = 0; i < n; i++) out.push(stmt(cx, depth))
  return out.join(' ')
}

/** An expression of type t. */
function expr(cx, t, depth) {
  const { rng } = cx
  cx.size++
  const leaf = depth >= MAX_EXPR_DEPTH || cx.size > 400
  const vars = varsOf(cx, t)
  if (leaf) {
    if (vars.length && rng.chance(0.5)) return `(local.get ${rng.pick(vars)})`
    return rng.chance(0.85) ? constOf(rng, t) : `(global.get $g_${t})`
  }
  const isInt = t[0] === 'i'
  const kinds = [
    [6, 'const'],
    [vars.length ? 6 : 0, 'get'],
    [vars.length ? 1 : 0, 'tee'],
    [1, 'global'],
    [isInt ? 3 : 4, 'unary'],
    [8, 'binary'],
    [t === 'i32' ? 4 : 0, 'compare'],
    [4, 'convert'],
    [2, 'select'],
    [depth < 3 ? 1.5 : 0, 'if'],
    [depth < 3 ? 1.5 : 0, 'block'],
    [depth < 3 ? 1 : 0, 'loop'],
    [funcsReturning(cx, t).length ? 2 : 0, 'call'],
    [3, 'load'],
    [t === 'i32' ? 1 : 0, 'memsize'],
    [t === 'i32' ? 0.5 : 0, 'memgrow'],
    [0.05, 'unreachable'],
    [cx.labels.some((l) => l.results.length === 1 && l.results[0] === t) ? 0.7 : 0, 'br_if_value'],
  ]
  switch (rng.weighted(kinds.map(([w, k]) => [w, k]))) {
    case 'const': return constOf(rng, t)
    case 'get': return `(local.get ${rng.pick(vars)})`
    case 'tee': return `(local.tee ${rng.pick(vars)} ${expr(cx, t, depth + 1)})`
    case 'global': return `(global.get $g_${t})`
    case 'unary':
      if (isInt) return `(${t}.${rng.pick(INT_UNARY[t])} ${expr(cx, t, depth + 1)})`
      if (rng.chance(0.6)) return nanOp(cx, `${t}.${rng.pick(FLOAT_UNARY_ARITH)}`, [expr(cx, t, depth + 1)])
      return `(${t}.${rng.pick(FLOAT_UNARY_EXACT)} ${expr(cx, t, depth + 1)})`
    case 'binary':
      if (isInt) {
        const op = rng.pick(INT_BINARY)
        const a = expr(cx, t, depth + 1)
        const b = expr(cx, t, depth + 1)
        // Half the divisions get a divisor made odd (never 0, still -1 for INT_MIN / -1);
        // some signed ones divide INT_MIN (overflow with -1, for div_s only).
        if (/_s$/.test(op) && /div|rem/.test(op) && rng.chance(0.15)) {
          return `(${t}.${op} (${t}.const ${t === 'i32' ? -0x80000000 : -0x8000000000000000n}) ${rng.chance(0.5) ? `(${t}.const -1)` : `(${t}.or ${b} (${t}.const -2))`})`
        }
        if (/div|rem/.test(op) && rng.chance(0.5)) return `(${t}.${op} ${a} (${t}.or ${b} (${t}.const 1)))`
        return `(${t}.${op} ${a} ${b})`
      }
      if (rng.chance(0.15)) return `(${t}.copysign ${expr(cx, t, depth + 1)} ${expr(cx, t, depth + 1)})`
      const op = `${t}.${rng.pick(FLOAT_BINARY_ARITH)}`
      const a = expr(cx, t, depth + 1)
      return nanOp(cx, op, [a, expr(cx, t, depth + 1)])
    case 'compare': return compare(cx, depth)
    case 'convert': {
      const [op, from, arith] = rng.pick(CONVERT[t])
      const e = expr(cx, from, depth + 1)
      return arith ? nanOp(cx, op, [e]) : `(${op} ${e})`
    }
    case 'select': {
      const typed = rng.chance(0.5) ? ` (result ${t})` : ''
      return `(select${typed} ${expr(cx, t, depth + 1)} ${expr(cx, t, depth + 1)} ${cond(cx, depth)})`
    }
    case 'if': {
      const c = cond(cx, depth)
      const a = stmts(cx, depth + 1, 2)
      const ea = expr(cx, t, depth + 1)
      const b = stmts(cx, depth + 1, 2)
      const eb = expr(cx, t, depth + 1)
      return `(if (result ${t}) ${c} (then ${a} ${ea}) (else ${b} ${eb}))`
    }
    case 'block': {
      const label = newLabel(cx, 'b')
      cx.labels.push({ name: label, results: [t] })
      const parts = [stmts(cx, depth + 1, 2)]
      if (rng.chance(0.6)) parts.push(`(drop (br_if ${label} ${expr(cx, t, depth + 1)} ${cond(cx, depth)}))`)
      parts.push(stmts(cx, depth + 1, 2))
      parts.push(expr(cx, t, depth + 1))
      cx.labels.pop()
      return `(block ${label} (result ${t}) ${parts.join(' ')})`
    }
    case 'loop': return loop(cx, depth, t)
    case 'call': {
      const j = rng.pick(funcsReturning(cx, t))
      return `(call $f${j} ${cx.funcs[j].params.map((p) => expr(cx, p, depth + 1)).join(' ')})`
    }
    case 'load': {
      const [op, width] = rng.pick(LOADS[t])
      return `(${op}${memarg(cx, width)} ${address(cx, depth, width)})`
    }
    case 'memsize': return '(memory.size)'
    case 'memgrow': return `(memory.grow ${rng.chance(0.7) ? `(i32.const ${rng.pick([0, 1, 1, 2, 3, 65536, -1])})` : expr(cx, 'i32', depth + 1)})`
    case 'unreachable': return '(unreachable)'
    case 'br_if_value': {
      const l = rng.pick(cx.labels.filter((x) => x.results.length === 1 && x.results[0] === t))
      return `(br_if ${l.name} ${expr(cx, t, depth + 1)} ${cond(cx, depth)})`
    }
  }
  throw new Error('unreachable kind')
}

function funcsReturning(cx, t) {
  const out = []
  for (let j = 0; j < cx.index; j++) {
    const r = cx.funcs[j].results
    if (r.length === 1 && r[0] === t) out.push(j)
  }
  return out
}

/**
 * A bounded loop; with `t`, an expression of type t (the value after the last iteration),
 * else a statement. Only the loop's own back-edge targets its label.
 */
function loop(cx, depth, t) {
  const { rng } = cx
  const c = newCounter(cx)
  const label = newLabel(cx, 'l')
  const init = `(local.set ${c} (i32.const ${rng.weighted([[1, 0], [1, 1], [6, rng.range(2, 8)], [2, rng.range(9, 16)]])}))`
  // Branches from inside go to enclosing blocks only (never to a loop label): not pushed.
  const body = stmts(cx, depth + 1, 3)
  const step = `(local.set ${c} (i32.sub (local.get ${c}) (i32.const 1))) (global.set $budget (i32.sub (global.get $budget) (i32.const 1)))`
  const back = `(br_if ${label} (i32.and (i32.gt_s (local.get ${c}) (i32.const 0)) (i32.gt_s (global.get $budget) (i32.const 0))))`
  if (t) return `(block (result ${t}) ${init} (loop ${label} (result ${t}) ${body} ${step} ${back} ${expr(cx, t, depth + 1)}))`
  return `${init} (loop ${label} ${body} ${step} ${back})`
}

/** A statement (no values left on the stack). */
function stmt(cx, depth) {
  const { rng } = cx
  cx.size++
  const deep = depth >= MAX_STMT_DEPTH || cx.size > 400
  const voidLabels = cx.labels.filter((l) => l.results.length === 0)
  const callable = cx.index
  const kind = rng.weighted([
    [cx.vars.length ? 6 : 0, 'set'],
    [2, 'gset'],
    [5, 'store'],
    [2, 'drop'],
    [deep ? 0 : 2, 'if'],
    [deep ? 0 : 2, 'block'],
    [deep ? 0 : 1.5, 'loop'],
    [callable ? 2 : 0, 'call'],
    [voidLabels.length ? 2 : 0, 'br_if'],
    [voidLabels.length ? 0.3 : 0, 'br_table'],
    [0.25, 'trap_if'],
    [0.5, 'grow'],
    [1, 'fill'],
    [1, 'copy'],
    [0.3, 'return'],
  ])
  switch (kind) {
    case 'set': {
      const i = rng.int(cx.vars.length)
      return `(local.set ${i} ${expr(cx, cx.vars[i], depth + 1)})`
    }
    case 'gset': {
      const t = rng.pick(TYPES)
      return `(global.set $g_${t} ${expr(cx, t, depth + 1)})`
    }
    case 'store': {
      const t = rng.pick(TYPES)
      const [op, width] = rng.pick(STORES[t])
      return `(${op}${memarg(cx, width)} ${address(cx, depth, width)} ${expr(cx, t, depth + 1)})`
    }
    case 'drop': return `(drop ${expr(cx, rng.pick(TYPES), depth + 1)})`
    case 'if': {
      const c = cond(cx, depth)
      return rng.chance(0.5) ? `(if ${c} (then ${stmts(cx, depth + 1, 3)}))` : `(if ${c} (then ${stmts(cx, depth + 1, 3)}) (else ${stmts(cx, depth + 1, 3)}))`
    }
    case 'block': {
      const label = newLabel(cx, 'b')
      cx.labels.push({ name: label, results: [] })
      const s = `(block ${label} ${stmts(cx, depth + 1, 3)} ${rng.chance(0.5) ? `(br_if ${label} ${cond(cx, depth)})` : ''} ${stmts(cx, depth + 1, 3)})`
      cx.labels.pop()
      return s
    }
    case 'loop': return loop(cx, depth, null)
    case 'call': {
      const j = rng.int(callable)
      const g = cx.funcs[j]
      const call = `(call $f${j} ${g.params.map((p) => expr(cx, p, depth + 1)).join(' ')})`
      return call + ' drop'.repeat(g.results.length)
    }
    case 'br_if': return `(br_if ${rng.pick(voidLabels).name} ${cond(cx, depth)})`
    case 'br_table': {
      const targets = Array.from({ length: rng.range(1, 4) }, () => rng.pick(voidLabels).name)
      return `(br_table ${targets.join(' ')} ${expr(cx, 'i32', depth + 1)})`
    }
    case 'trap_if': return `(if ${cond(cx, depth)} (then unreachable))`
    case 'grow': return `(drop (memory.grow (i32.const ${rng.pick([0, 1, 2, 5, -1, 0x10000])})))`
    // Bulk memory: lengths that sometimes run past the end (a trap, and nothing written).
    case 'fill': return `(memory.fill ${address(cx, depth, 1)} ${expr(cx, 'i32', depth + 1)} ${bulkLength(cx, depth)})`
    case 'copy': return `(memory.copy ${address(cx, depth, 1)} ${address(cx, depth, 1)} ${bulkLength(cx, depth)})`
    case 'return': return `(if ${cond(cx, depth)} (then (return ${cx.results.map((t) => expr(cx, t, depth + 1)).join(' ')})))`
  }
  throw new Error('unreachable kind')
}
