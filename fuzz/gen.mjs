// Random valid wasm modules, as WAT text, for the differential fuzzer (fuzz/run.mjs).
//
// Plain JavaScript (no wasm-smith): a seeded PRNG and a type-directed generator, so every module
// validates by construction. What a module holds:
//   - an exported memory `mem` (min 0..2 pages, max min..min+3), random active data segments;
//   - exported mutable globals `g_<type>` for every value type (i32, i64, f32, f64, v128,
//     externref, funcref), `budget` and `depth` (i32, see below), and counters `n_simd`,
//     `n_table`, `n_ind` (how many SIMD results were consumed, table instructions and
//     call_indirects ran: evidence for the harness that those paths executed);
//   - host imports "host" "h<i>": functions of random signatures (any value type, v128
//     included) that the harness implements as recording echo functions, and sometimes
//     "host" "throw" (param i32), which throws a JS value for some arguments;
//   - two exported tables: `tf` (funcref, filled by active segments, with a passive segment for
//     table.init) and `te` (externref), both with a maximum;
//   - 1..8 functions `f0..fN`, all exported, with random params/results of every value type
//     (0..2 results), whose bodies come from a typed expression/statement generator: constants
//     (edge values included), locals, globals, every numeric op (unary, binary, compare, convert,
//     reinterpret, extend, wrap, trapping trunc and trunc_sat), select, if/else, block + br_if,
//     br_table, bounded loops, calls to earlier functions, loads/stores of every width with
//     random offsets/alignment (some out of bounds), memory.size/grow, div/rem, unreachable;
//     SIMD (splat, lane ops, shuffle/swizzle, integer and float arithmetic, compares, shifts,
//     conversions, bitselect, v128 loads/stores incl. lane and splat forms; results reach
//     scalars through extract_lane/any_true/all_true/bitmask, memory and v128 results);
//     references (ref.null/ref.func/ref.is_null, table.get/set/size/grow/fill/copy/init,
//     elem.drop, call_indirect with traps for null entries, out-of-bounds indices and
//     signature mismatches) and calls of host imports;
//   - for each function with a v128 in its signature, an export `f<i>_w` taking and returning
//     every v128 as two i64 lanes (V8's JS API cannot pass v128; the harness calls f<i> on
//     wasmtime-node with Uint8Arrays and f<i>_w on V8), and `g_v128_get`/`g_v128_set` likewise.
//
// Termination by construction: a function calls only functions of lower index directly; every
// loop has its own counter local (set to ≤ 16 on entry, decremented each iteration, and no
// branch but the loop's own back-edge targets a loop label); a global `budget`, decremented at
// every function entry and loop iteration, ends loops and makes functions return zeros when it
// reaches 0 (this also bounds recursion through call_indirect); and call_indirect runs only
// while the global `depth` (incremented around it) is below MAX_INDIRECT_DEPTH, which bounds
// the stack. Host functions never call back into wasm. The harness sets `budget` and `depth`
// before each call.
//
// `canonNaN: true` generates the same module (the PRNG is consumed identically) with every float
// op whose NaN result the spec leaves nondeterministic (arithmetic ops, min/max, sqrt, rounding,
// promote/demote) done by a helper function that (1) checks the NaN against the spec's rule —
// the result of NaN inputs that are all canonical must be a canonical NaN (either sign), else
// any arithmetic (quiet) NaN — recording the first violation in the exported global `nan_bad`
// (the op's number in NAN_OPS, plus 1), and (2) replaces any NaN by the canonical +NaN. Float
// parameters are canonicalized on entry (the JS→wasm NaN bits are not specified either). SIMD
// float ops with nondeterministic NaN lanes are followed by a lane-wise canonicalization (not
// checked against the NaN rule). Used to tell a NaN-bit difference from a real one, and to
// check both engines' NaN results.

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

/** A random v128 constant (lanes of every shape, float lanes with NaN/edge bit patterns). */
function v128Const(rng) {
  const lanes = (n, f) => Array.from({ length: n }, f).join(' ')
  return rng.weighted([
    [3, () => `i32x4 ${lanes(4, () => randI32(rng))}`],
    [2, () => `i8x16 ${lanes(16, () => rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]))}`],
    [1, () => `i16x8 ${lanes(8, () => rng.pick([0, 1, 0x7fff, 0x8000, 0xffff, rng.int(65536)]))}`],
    [2, () => `i64x2 ${lanes(2, () => randI64(rng))}`],
    [2, () => `f32x4 ${lanes(4, () => watF32(randF32Bits(rng)))}`],
    [2, () => `f64x2 ${lanes(2, () => watF64(randF64Bits(rng)))}`],
  ])()
}

/** A random constant of type t, as a WAT instruction; `fnames`: the functions ref.func may name. */
function constOf(rng, t, fnames = []) {
  switch (t) {
    case 'i32': return `(i32.const ${randI32(rng)})`
    case 'i64': return `(i64.const ${randI64(rng)})`
    case 'f32': return `(f32.const ${watF32(randF32Bits(rng))})`
    case 'f64': return `(f64.const ${watF64(randF64Bits(rng))})`
    case 'v128': return `(v128.const ${v128Const(rng)})`
    case 'externref': return '(ref.null extern)'
    case 'funcref': return fnames.length && rng.chance(0.7) ? `(ref.func ${rng.pick(fnames)})` : '(ref.null func)'
  }
  throw new Error(t)
}

const ZERO = {
  i32: '(i32.const 0)', i64: '(i64.const 0)', f32: '(f32.const 0)', f64: '(f64.const 0)',
  v128: '(v128.const i64x2 0 0)', externref: '(ref.null extern)', funcref: '(ref.null func)',
}

/** A random value type: mostly numeric; `v128` and the references less often. */
function valType(rng) {
  return rng.weighted([[2.5, 'i32'], [2.5, 'i64'], [2.5, 'f32'], [2.5, 'f64'], [1.3, 'v128'], [1, 'externref'], [1, 'funcref']])
}

/** A host import's value type: references and v128 more often (their conversions are the point). */
function hostType(rng) {
  return rng.weighted([[1.5, 'i32'], [1.5, 'i64'], [1.5, 'f32'], [1.5, 'f64'], [1.5, 'v128'], [2, 'externref'], [2, 'funcref']])
}

/**
 * A random JS argument for a parameter of type t, valid for both wasmtime-node (strict: an i32
 * is an integer in [-2^31, 2^32), an i64 a BigInt in [-2^63, 2^64)) and WebAssembly (which wraps
 * the same way). f32 parameters sometimes get doubles that are not f32 values (both round).
 * References and v128 come in an engine-neutral form the harness turns into each side's value:
 * v128 → a 16-byte Uint8Array; externref → null or { x: index into the harness's value pool };
 * funcref → null or { f: index of a module function }.
 */
export function randArg(rng, t, nfuncs = 0) {
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
    case 'v128': return randV128(rng)
    case 'externref': return rng.chance(0.15) ? null : { x: rng.u32() }
    case 'funcref': return nfuncs === 0 || rng.chance(0.2) ? null : { f: rng.int(nfuncs) }
  }
  throw new Error(t)
}

/** 16 random bytes: lanes of edge values (float bit patterns included) or noise. */
export function randV128(rng) {
  const b = new Uint8Array(16)
  const dv = new DataView(b.buffer)
  rng.weighted([
    [2, () => b.forEach((_, i) => (b[i] = rng.int(256)))],
    [2, () => [0, 4, 8, 12].forEach((o) => dv.setInt32(o, randI32(rng), true))],
    [2, () => [0, 4, 8, 12].forEach((o) => dv.setUint32(o, randF32Bits(rng), true))],
    [2, () => [0, 8].forEach((o) => dv.setBigUint64(o, randF64Bits(rng), true))],
    [1, () => [0, 8].forEach((o) => dv.setBigInt64(o, randI64(rng), true))],
    [1, () => b.fill(rng.pick([0, 0xff, 0x80, 0x7f]))],
  ])()
  return b
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

// ---------------------------------------------------------------- SIMD and references

// v128 → v128 ops: [op, shape whose NaN lanes are nondeterministic (canonicalized in canon mode)].
const V_UNARY = [
  ...['v128.not', 'i8x16.abs', 'i8x16.neg', 'i8x16.popcnt', 'i16x8.abs', 'i16x8.neg', 'i32x4.abs', 'i32x4.neg', 'i64x2.abs', 'i64x2.neg',
    'i16x8.extend_low_i8x16_s', 'i16x8.extend_high_i8x16_u', 'i32x4.extend_low_i16x8_u', 'i32x4.extend_high_i16x8_s', 'i64x2.extend_low_i32x4_s',
    'i64x2.extend_high_i32x4_u', 'i16x8.extadd_pairwise_i8x16_s', 'i16x8.extadd_pairwise_i8x16_u', 'i32x4.extadd_pairwise_i16x8_s',
    'i32x4.extadd_pairwise_i16x8_u', 'i32x4.trunc_sat_f32x4_s', 'i32x4.trunc_sat_f32x4_u', 'i32x4.trunc_sat_f64x2_s_zero', 'i32x4.trunc_sat_f64x2_u_zero',
    'f32x4.convert_i32x4_s', 'f32x4.convert_i32x4_u', 'f64x2.convert_low_i32x4_s', 'f64x2.convert_low_i32x4_u', 'f32x4.abs', 'f32x4.neg', 'f64x2.abs',
    'f64x2.neg'].map((op) => [op, null]),
  ...['sqrt', 'ceil', 'floor', 'trunc', 'nearest'].flatMap((op) => [[`f32x4.${op}`, 'f32x4'], [`f64x2.${op}`, 'f64x2']]),
  ['f32x4.demote_f64x2_zero', 'f32x4'], ['f64x2.promote_low_f32x4', 'f64x2'],
]
const INT_CMP = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u']
const V_BINARY = [
  ...['v128.and', 'v128.or', 'v128.xor', 'v128.andnot', 'i8x16.swizzle', 'i8x16.narrow_i16x8_s', 'i8x16.narrow_i16x8_u', 'i16x8.narrow_i32x4_s',
    'i16x8.narrow_i32x4_u', 'i16x8.q15mulr_sat_s', 'i16x8.extmul_low_i8x16_s', 'i16x8.extmul_high_i8x16_u', 'i32x4.dot_i16x8_s',
    'i32x4.extmul_low_i16x8_u', 'i32x4.extmul_high_i16x8_s', 'i64x2.extmul_low_i32x4_s', 'i64x2.extmul_high_i32x4_u', 'i64x2.add', 'i64x2.sub',
    'i64x2.mul', 'i64x2.eq', 'i64x2.ne', 'i64x2.lt_s', 'i64x2.gt_s', 'i64x2.le_s', 'i64x2.ge_s', 'i32x4.mul', 'i16x8.mul'].map((op) => [op, null]),
  ...['i8x16', 'i16x8'].flatMap((s) => ['add', 'sub', 'add_sat_s', 'add_sat_u', 'sub_sat_s', 'sub_sat_u', 'min_s', 'min_u', 'max_s', 'max_u', 'avgr_u', ...INT_CMP]
    .map((op) => [`${s}.${op}`, null])),
  ...['add', 'sub', 'min_s', 'min_u', 'max_s', 'max_u', ...INT_CMP].map((op) => [`i32x4.${op}`, null]),
  ...['f32x4', 'f64x2'].flatMap((s) => [
    ...['add', 'sub', 'mul', 'div', 'min', 'max'].map((op) => [`${s}.${op}`, s]),
    ...['pmin', 'pmax', 'eq', 'ne', 'lt', 'gt', 'le', 'ge'].map((op) => [`${s}.${op}`, null]),
  ]),
]
const V_SHIFT = ['i8x16', 'i16x8', 'i32x4', 'i64x2'].flatMap((s) => ['shl', 'shr_s', 'shr_u'].map((op) => `${s}.${op}`))
// Lane shapes: [shape, lanes, scalar type, extract ops].
const SHAPES = [
  ['i8x16', 16, 'i32', ['extract_lane_s', 'extract_lane_u']], ['i16x8', 8, 'i32', ['extract_lane_s', 'extract_lane_u']],
  ['i32x4', 4, 'i32', ['extract_lane']], ['i64x2', 2, 'i64', ['extract_lane']], ['f32x4', 4, 'f32', ['extract_lane']], ['f64x2', 2, 'f64', ['extract_lane']],
]
const V_TEST = ['v128.any_true', ...['i8x16', 'i16x8', 'i32x4', 'i64x2'].flatMap((s) => [`${s}.all_true`, `${s}.bitmask`])]
const V_LOADS = [['v128.load', 16], ['v128.load8x8_s', 8], ['v128.load8x8_u', 8], ['v128.load16x4_s', 8], ['v128.load16x4_u', 8], ['v128.load32x2_s', 8],
  ['v128.load32x2_u', 8], ['v128.load8_splat', 1], ['v128.load16_splat', 2], ['v128.load32_splat', 4], ['v128.load64_splat', 8], ['v128.load32_zero', 4],
  ['v128.load64_zero', 8]]
// Lane loads/stores: [bits, lanes].
const V_LANE_MEM = [[8, 16], [16, 8], [32, 4], [64, 2]]

/** The canonNaN-mode lane-wise NaN canonicalization of a float vector. */
function simdCanonHelpers() {
  return [['f32x4', 'f32x4 nan nan nan nan'], ['f64x2', 'f64x2 nan nan']].map(([s, nan]) =>
    `  (func $canon_${s} (param v128) (result v128) (v128.bitselect (local.get 0) (v128.const ${nan}) (${s}.eq (local.get 0) (local.get 0))))`)
}

/** Call_indirect runs only while `depth` is below this: it bounds recursion through tables. */
const MAX_INDIRECT_DEPTH = 12

/** A counter bump (`n_simd`, `n_table`, `n_ind`), then `e` (of type t, or a statement if t is null). */
function counted(c, t, e) {
  const bump = `(global.set $n_${c} (i32.add (global.get $n_${c}) (i32.const 1)))`
  return t ? `(block (result ${t}) ${bump} ${e})` : `${bump} ${e}`
}

/** `(param …) (result …)` of a signature (empty parts left out). */
function sigText(params, results) {
  return `${params.length ? ` (param ${params.join(' ')})` : ''}${results.length ? ` (result ${results.join(' ')})` : ''}`
}

/**
 * A function whose v128 params/results are replaced by two i64 lanes each, calling `callee`
 * (which has the real signature). `inward`: the function has the flat signature (called from
 * JS, calls the v128 one: the `f<i>_w` exports); else the reverse (the V8 adapter of a v128
 * host import, see adapterWat).
 */
function flatBridge(callee, exportName, params, results, inward) {
  const flat = (ts) => ts.flatMap((t) => (t === 'v128' ? ['i64', 'i64'] : [t]))
  const outerP = inward ? flat(params) : params
  const outerR = inward ? flat(results) : results
  const innerR = inward ? results : flat(results) // what the callee returns, kept in locals
  let k = 0
  const args = params.map((t) => {
    if (t !== 'v128') return `(local.get ${k++})`
    if (inward) return `(i64x2.replace_lane 1 (i64x2.splat (local.get ${k++})) (local.get ${k++}))`
    const l = k++
    return `(i64x2.extract_lane 0 (local.get ${l})) (i64x2.extract_lane 1 (local.get ${l}))`
  })
  // The callee's results go to locals (popped in reverse), then out in the outer form.
  const base = outerP.length
  const sets = innerR.map((_, i) => `(local.set ${base + i})`).reverse().join(' ')
  let j = base
  const outs = results.map((t) => {
    if (t !== 'v128') return `(local.get ${j++})`
    if (inward) {
      const l = j++
      return `(i64x2.extract_lane 0 (local.get ${l})) (i64x2.extract_lane 1 (local.get ${l}))`
    }
    const s = `(i64x2.replace_lane 1 (i64x2.splat (local.get ${j})) (local.get ${j + 1}))`
    j += 2
    return s
  })
  const locals = innerR.length ? ` (local ${innerR.join(' ')})` : ''
  const exp = exportName ? ` (export "${exportName}")` : ''
  return `  (func${exp}${sigText(outerP, outerR)}${locals}\n    (call ${callee} ${args.join(' ')}) ${sets} ${outs.join(' ')})`
}

/**
 * For V8: a module exporting "f", a wasm function of the host import's real signature that
 * calls the JS import "js" "f" with each v128 as two i64 lanes (and takes results likewise).
 */
export function adapterWat(params, results) {
  const flat = (ts) => ts.flatMap((t) => (t === 'v128' ? ['i64', 'i64'] : [t]))
  return `(module\n  (import "js" "f" (func $js${sigText(flat(params), flat(results))}))\n${flatBridge('$js', 'f', params, results, false)})`
}

/** Whether a signature holds a v128. */
export const hasV128 = (f) => f.params.includes('v128') || f.results.includes('v128')

// ---------------------------------------------------------------- generator

const MAX_EXPR_DEPTH = 5
const MAX_STMT_DEPTH = 3
export const ALL_TYPES = [...TYPES, 'v128', 'externref', 'funcref']
const isNum = (t) => t === 'i32' || t === 'i64' || t === 'f32' || t === 'f64'
const isRef = (t) => t === 'externref' || t === 'funcref'
const refTable = (t) => (t === 'funcref' ? 'tf' : 'te')

/**
 * Generate one module. Returns { wat, funcs: [{ name, params, results, index, wrapper }],
 * imports: [{ name, kind: 'echo' | 'throw', params, results }], globals: [{ name, type }],
 * tables: { tf, te: { min, max } }, funcIndex (the function index space: imports, then funcs),
 * memory: { min, max }, canonNaN }.
 */
export function genModule(seed, { canonNaN = false } = {}) {
  const rng = makeRng(seed)
  const memMin = rng.weighted([[0.5, 0], [6, 1], [2.5, 2]])
  const memMax = memMin + rng.range(0, 3)
  // Host imports come first in the function index space.
  const imports = []
  const nhost = rng.weighted([[2, 0], [3, 1], [3, 2], [2, 3]])
  for (let i = 0; i < nhost; i++) {
    const params = Array.from({ length: rng.weighted([[1, 0], [3, 1], [3, 2], [2, 3]]) }, () => hostType(rng))
    // Results often of a param's type: the host then echoes that argument (identity for references).
    const results = Array.from({ length: rng.weighted([[3, 0], [6, 1], [1, 2]]) }, () => (params.length && rng.chance(0.5) ? rng.pick(params) : hostType(rng)))
    imports.push({ name: `h${i}`, kind: 'echo', params, results })
  }
  if (rng.chance(0.5)) imports.push({ name: 'throw', kind: 'throw', params: ['i32'], results: [] })
  const nfuncs = rng.range(1, 8)
  const funcs = []
  for (let i = 0; i < nfuncs; i++) {
    const params = Array.from({ length: rng.weighted([[2, 0], [4, 1], [4, 2], [2, 3], [1, 5]]) }, () => valType(rng))
    const results = Array.from({ length: rng.weighted([[2, 0], [8, 1], [1, 2]]) }, () => valType(rng))
    const f = { name: `f${i}`, params, results, index: imports.length + i, wrapper: null }
    if (hasV128(f)) f.wrapper = `${f.name}_w`
    funcs.push(f)
  }
  const fnames = [...imports, ...funcs].map((f) => `$${f.name}`)
  const tables = {}
  for (const [name, hi] of [['tf', 8], ['te', 4]]) {
    const min = rng.chance(0.1) ? 0 : rng.range(1, hi) // empty: every access traps
    tables[name] = { min, max: min + rng.range(0, 6) }
  }
  // A passive segment for table.init/elem.drop, sometimes.
  const passive = rng.chance(0.6) ? Array.from({ length: rng.range(1, 4) }, () => refItem(rng, fnames)) : null

  const globalInit = Object.fromEntries(ALL_TYPES.map((t) => [t, constOf(rng, t, fnames)]))
  const mod = { canonNaN, funcs, imports, fnames, tables, passive: passive?.length ?? 0 }
  const bodies = funcs.map((f, i) => genFunc(rng, f, i, mod))

  const lines = ['(module']
  for (const h of imports) lines.push(`  (import "host" "${h.name}" (func $${h.name}${sigText(h.params, h.results)}))`)
  lines.push(`  (memory (export "mem") ${memMin} ${memMax})`)
  lines.push(`  (table $tf (export "tf") ${tables.tf.min} ${tables.tf.max} funcref)`)
  lines.push(`  (table $te (export "te") ${tables.te.min} ${tables.te.max} externref)`)
  for (const t of ALL_TYPES) lines.push(`  (global $g_${t} (export "g_${t}") (mut ${t}) ${globalInit[t]})`)
  lines.push('  (global $budget (export "budget") (mut i32) (i32.const 1000))')
  lines.push('  (global $depth (export "depth") (mut i32) (i32.const 0))')
  for (const c of COUNTERS) lines.push(`  (global $n_${c} (export "n_${c}") (mut i32) (i32.const 0))`)
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
  // Active segments of `tf`: in bounds, except rarely (instantiation traps).
  const nelem = rng.range(0, 3)
  for (let s = 0; s < nelem; s++) {
    const len = rng.range(1, 5)
    let off = rng.range(0, Math.max(0, tables.tf.min - len))
    if (rng.chance(0.03)) off = tables.tf.min - len + rng.range(1, 3)
    else if (off + len > tables.tf.min) continue
    lines.push(`  (elem (table $tf) (i32.const ${off}) funcref ${Array.from({ length: len }, () => refItem(rng, fnames)).join(' ')})`)
  }
  if (passive) lines.push(`  (elem $p0 funcref ${passive.join(' ')})`)
  lines.push(`  (elem declare func ${fnames.join(' ')})`)
  funcs.forEach((f, i) => lines.push(bodies[i]))
  for (const f of funcs) if (f.wrapper) lines.push(flatBridge(`$${f.name}`, f.wrapper, f.params, f.results, true))
  lines.push('  (func (export "g_v128_get") (result i64 i64) (i64x2.extract_lane 0 (global.get $g_v128)) (i64x2.extract_lane 1 (global.get $g_v128)))')
  lines.push('  (func (export "g_v128_set") (param i64 i64) (global.set $g_v128 (i64x2.replace_lane 1 (i64x2.splat (local.get 0)) (local.get 1))))')
  // A start function, sometimes: the first function without params/results.
  const startable = funcs.findIndex((f) => f.params.length === 0 && f.results.length === 0)
  if (startable >= 0 && rng.chance(0.15)) lines.push(`  (start $f${startable})`)
  if (canonNaN) lines.push(...nanHelpers(), ...simdCanonHelpers())
  lines.push(')')
  const globals = [...ALL_TYPES.map((t) => ({ name: `g_${t}`, type: t })), { name: 'budget', type: 'i32' }, { name: 'depth', type: 'i32' },
    ...COUNTERS.map((c) => ({ name: `n_${c}`, type: 'i32' }))]
  if (canonNaN) globals.push({ name: 'nan_bad', type: 'i32' })
  return { wat: lines.join('\n'), funcs, imports, globals, tables, funcIndex: [...imports, ...funcs], memory: { min: memMin, max: memMax }, canonNaN }
}

/** The execution counters (see the header). */
export const COUNTERS = ['simd', 'table', 'ind']

/** A funcref element: a function (often) or null. */
function refItem(rng, fnames) {
  return rng.chance(0.8) ? `(ref.func ${rng.pick(fnames)})` : '(ref.null func)'
}

function genFunc(rng, f, index, mod) {
  const nlocals = rng.range(0, 5)
  const locals = Array.from({ length: nlocals }, () => valType(rng))
  const cx = {
    ...mod,
    rng,
    index,
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
  if (cx.canonNaN) {
    f.params.forEach((t, i) => {
      if (t === 'f32' || t === 'f64') body.push(`(local.set ${i} (call $canon_${t} (local.get ${i})))`)
    })
  }
  const n = rng.range(0, 6)
  for (let s = 0; s < n; s++) body.push(stmt(cx, 0))
  for (const t of f.results) body.push(expr(cx, t, 0))
  const counterDecl = cx.counters ? ` (local ${Array(cx.counters).fill('i32').join(' ')})` : ''
  const localDecl = locals.length ? ` (local ${locals.join(' ')})` : ''
  return `  (func $f${index} (export "f${index}")${sigText(f.params, f.results)}${localDecl}${counterDecl}\n    ${body.join('\n    ')})`
}

/** `(op args...)`, or in canonNaN mode the call of its checking helper. */
function nanOp(cx, op, args) {
  if (!cx.canonNaN) return `(${op} ${args.join(' ')})`
  if (!NAN_OP_ID.has(op)) throw new Error(`no NaN helper for ${op}`)
  return `(call $op_${op} ${args.join(' ')})`
}

/** A SIMD op's text; in canonNaN mode, with its NaN lanes canonicalized when `shape` says so. */
function simdNan(cx, shape, text) {
  return shape && cx.canonNaN ? `(call $canon_${shape} ${text})` : text
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

/** A table index (i32 expression): in bounds, at the end, or past it. */
function tableIndex(cx, depth, tab) {
  const { rng } = cx
  const min = cx.tables[tab].min
  return rng.weighted([
    [min ? 10 : 0, () => `(i32.const ${rng.range(0, min - 1)})`],
    [0.7, () => `(i32.const ${min})`], // just past the end, unless the table grew
    [2, () => `(i32.sub (table.size $${tab}) (i32.const ${rng.range(1, 2)}))`],
    [0.3, () => `(table.size $${tab})`],
    [1, () => `(i32.rem_u ${expr(cx, 'i32', depth + 1)} (i32.add (table.size $${tab}) (i32.const 1)))`],
    [0.2, () => `(i32.const ${rng.pick([-1, 0x7fffffff, 64, 1000])})`],
  ])()
}

/**
 * Where a call statement's results go: into the globals of their types (compared by the
 * harness after every call, so host and indirect results are observed), or dropped.
 */
function sink(cx, results) {
  if (cx.rng.chance(0.25)) return ' drop'.repeat(results.length)
  return results.map((t) => ` (global.set $g_${t})`).reverse().join('')
}

/** A table.fill/copy/init length or table.grow delta: small, or large (a trap, or -1 for grow). */
function tableLength(cx, depth) {
  const { rng } = cx
  return rng.weighted([
    [8, () => `(i32.const ${rng.range(0, 2)})`],
    [1, () => `(i32.const ${rng.pick([8, 100, -1, 0x7fffffff])})`],
    [1, () => `(i32.and ${expr(cx, 'i32', depth + 1)} (i32.const 3))`],
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
    return rng.chance(0.85) ? constant(cx, t) : `(global.get $g_${t})`
  }
  const num = isNum(t)
  const isInt = t === 'i32' || t === 'i64'
  const vec = t === 'v128'
  const ref = isRef(t)
  const hosts = hostsReturning(cx, t)
  const kinds = [
    [num ? 6 : vec ? 3 : 2, 'const'],
    [vars.length ? 6 : 0, 'get'],
    [vars.length ? 1 : 0, 'tee'],
    [1, 'global'],
    [num ? (isInt ? 3 : 4) : 0, 'unary'],
    [num ? 8 : 0, 'binary'],
    [t === 'i32' ? 4 : 0, 'compare'],
    [num ? 4 : 0, 'convert'],
    [2, 'select'],
    [depth < 3 ? 1.5 : 0, 'if'],
    [depth < 3 ? 1.5 : 0, 'block'],
    [depth < 3 ? 1 : 0, 'loop'],
    [funcsReturning(cx, t).length ? 2 : 0, 'call'],
    [num ? 3 : 0, 'load'],
    [t === 'i32' ? 1 : 0, 'memsize'],
    [t === 'i32' ? 0.5 : 0, 'memgrow'],
    [0.05, 'unreachable'],
    [cx.labels.some((l) => l.results.length === 1 && l.results[0] === t) ? 0.7 : 0, 'br_if_value'],
    // SIMD: scalars out of vectors, and vector ops.
    [num ? 1.2 : 0, 'extract'],
    [t === 'i32' ? 0.6 : 0, 'vtest'],
    [vec ? 3 : 0, 'splat'],
    [vec ? 3 : 0, 'vunary'],
    [vec ? 5 : 0, 'vbinary'],
    [vec ? 1.5 : 0, 'vshift'],
    [vec ? 1 : 0, 'bitselect'],
    [vec ? 1 : 0, 'shuffle'],
    [vec ? 1.5 : 0, 'replace_lane'],
    [vec ? 2.5 : 0, 'vload'],
    // References, tables, host imports.
    [t === 'i32' ? 0.6 : 0, 'is_null'],
    [t === 'i32' ? 0.4 : 0, 'table_size'],
    [t === 'i32' ? 0.3 : 0, 'table_grow'],
    [ref ? 3 : 0, 'table_get'],
    [hosts.length ? (ref || vec ? 3 : 1.5) : 0, 'host'],
    [depth < 4 ? (ref || vec ? 1 : 0.5) : 0, 'call_indirect'],
  ]
  switch (rng.weighted(kinds.map(([w, k]) => [w, k]))) {
    case 'const': return constant(cx, t)
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
      {
        const op = `${t}.${rng.pick(FLOAT_BINARY_ARITH)}`
        const a = expr(cx, t, depth + 1)
        return nanOp(cx, op, [a, expr(cx, t, depth + 1)])
      }
    case 'compare': return compare(cx, depth)
    case 'convert': {
      const [op, from, arith] = rng.pick(CONVERT[t])
      const e = expr(cx, from, depth + 1)
      return arith ? nanOp(cx, op, [e]) : `(${op} ${e})`
    }
    case 'select': {
      // References need the typed form.
      const typed = rng.chance(0.5) || ref ? ` (result ${t})` : ''
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
    case 'extract': {
      const [shape, lanes, , ops] = rng.pick(SHAPES.filter((s) => s[2] === t))
      return counted('simd', t, `(${shape}.${rng.pick(ops)} ${rng.int(lanes)} ${expr(cx, 'v128', depth + 1)})`)
    }
    case 'vtest': return counted('simd', t, `(${rng.pick(V_TEST)} ${expr(cx, 'v128', depth + 1)})`)
    case 'splat': {
      const [shape, , scalar] = rng.pick(SHAPES)
      return `(${shape}.splat ${expr(cx, scalar, depth + 1)})`
    }
    case 'vunary': {
      const [op, shape] = rng.pick(V_UNARY)
      return simdNan(cx, shape, `(${op} ${expr(cx, 'v128', depth + 1)})`)
    }
    case 'vbinary': {
      const [op, shape] = rng.pick(V_BINARY)
      const a = expr(cx, 'v128', depth + 1)
      return simdNan(cx, shape, `(${op} ${a} ${expr(cx, 'v128', depth + 1)})`)
    }
    case 'vshift': {
      const a = expr(cx, 'v128', depth + 1)
      return `(${rng.pick(V_SHIFT)} ${a} ${rng.chance(0.6) ? `(i32.const ${rng.pick([0, 1, 7, 8, 15, 16, 31, 32, 63, 64, -1])})` : expr(cx, 'i32', depth + 1)})`
    }
    case 'bitselect': return `(v128.bitselect ${expr(cx, 'v128', depth + 1)} ${expr(cx, 'v128', depth + 1)} ${expr(cx, 'v128', depth + 1)})`
    case 'shuffle': {
      const lanes = Array.from({ length: 16 }, () => rng.int(32)).join(' ')
      return `(i8x16.shuffle ${lanes} ${expr(cx, 'v128', depth + 1)} ${expr(cx, 'v128', depth + 1)})`
    }
    case 'replace_lane': {
      const [shape, lanes, scalar] = rng.pick(SHAPES)
      const v = expr(cx, 'v128', depth + 1)
      return `(${shape}.replace_lane ${rng.int(lanes)} ${v} ${expr(cx, scalar, depth + 1)})`
    }
    case 'vload': {
      if (rng.chance(0.75)) {
        const [op, width] = rng.pick(V_LOADS)
        return `(${op}${memarg(cx, width)} ${address(cx, depth, width)})`
      }
      const [bits, lanes] = rng.pick(V_LANE_MEM)
      const ma = memarg(cx, bits / 8)
      const addr = address(cx, depth, bits / 8)
      return `(v128.load${bits}_lane${ma} ${rng.int(lanes)} ${addr} ${expr(cx, 'v128', depth + 1)})`
    }
    case 'is_null': return `(ref.is_null ${expr(cx, rng.pick(['externref', 'funcref']), depth + 1)})`
    case 'table_size': return counted('table', t, `(table.size $${rng.pick(['tf', 'te'])})`)
    case 'table_grow': {
      const rt = rng.pick(['externref', 'funcref'])
      const init = expr(cx, rt, depth + 1)
      return counted('table', t, `(table.grow $${refTable(rt)} ${init} ${tableLength(cx, depth)})`)
    }
    case 'table_get': return counted('table', t, `(table.get $${refTable(t)} ${tableIndex(cx, depth, refTable(t))})`)
    case 'host': {
      const h = rng.pick(hosts)
      return `(call $${h.name} ${h.params.map((p) => expr(cx, p, depth + 1)).join(' ')})`
    }
    case 'call_indirect': return callIndirect(cx, depth, t)
  }
  throw new Error('unreachable kind')
}

/**
 * A constant of type t; for externref (whose only constant is null), mostly a value the harness
 * put in `g_externref` or `te` (non-null JS values, whose identity the harness checks).
 */
function constant(cx, t) {
  const { rng } = cx
  if (t !== 'externref') return constOf(rng, t, cx.fnames)
  const min = cx.tables.te.min
  return rng.weighted([
    [2, () => '(ref.null extern)'],
    [3, () => '(global.get $g_externref)'],
    [min ? 3 : 0, () => counted('table', t, `(table.get $te (i32.const ${rng.range(0, min - 1)}))`)],
  ])()
}

function funcsReturning(cx, t) {
  const out = []
  for (let j = 0; j < cx.index; j++) {
    const r = cx.funcs[j].results
    if (r.length === 1 && r[0] === t) out.push(j)
  }
  return out
}

/** The echo host imports returning exactly one t. */
function hostsReturning(cx, t) {
  return cx.imports.filter((h) => h.kind === 'echo' && h.results.length === 1 && h.results[0] === t)
}

/**
 * A call_indirect through `tf` (an expression of type t, or a statement if t is null), guarded
 * by `depth`. Its signature is usually one of the module's functions' (so entries often match),
 * else random (a signature mismatch, when the entry is not null).
 */
function callIndirect(cx, depth, t) {
  const { rng } = cx
  const cands = [...cx.imports, ...cx.funcs].filter((g) => t === null || (g.results.length === 1 && g.results[0] === t))
  const sig = cands.length && rng.chance(0.75) ? rng.pick(cands) : {
    params: Array.from({ length: rng.range(0, 2) }, () => valType(rng)),
    results: t ? [t] : Array.from({ length: rng.range(0, 1) }, () => valType(rng)),
  }
  const args = sig.params.map((p) => expr(cx, p, depth + 1))
  const call = `(call_indirect $tf${sigText(sig.params, sig.results)} ${args.join(' ')} ${tableIndex(cx, depth, 'tf')})`
  const guard = `(i32.lt_u (global.get $depth) (i32.const ${MAX_INDIRECT_DEPTH}))`
  const inc = '(global.set $depth (i32.add (global.get $depth) (i32.const 1)))'
  const dec = '(global.set $depth (i32.sub (global.get $depth) (i32.const 1)))'
  if (t) return `(if (result ${t}) ${guard} (then ${counted('ind', null, inc)} ${call} ${dec}) (else ${ZERO[t]}))`
  return `(if ${guard} (then ${counted('ind', null, inc)} ${call}${sink(cx, sig.results)} ${dec}))`
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
    [1.2, 'vstore'],
    [1.2, 'tset'],
    [0.4, 'tfill'],
    [0.4, 'tcopy'],
    [cx.passive ? 0.3 : 0, 'tinit'],
    [cx.passive ? 0.08 : 0, 'edrop'],
    [cx.imports.length ? 4 : 0, 'host'],
    [0.8, 'call_indirect'],
  ])
  switch (kind) {
    case 'set': {
      const i = rng.int(cx.vars.length)
      return `(local.set ${i} ${expr(cx, cx.vars[i], depth + 1)})`
    }
    case 'gset': {
      const t = valType(rng)
      return `(global.set $g_${t} ${expr(cx, t, depth + 1)})`
    }
    case 'store': {
      const t = rng.pick(TYPES)
      const [op, width] = rng.pick(STORES[t])
      return `(${op}${memarg(cx, width)} ${address(cx, depth, width)} ${expr(cx, t, depth + 1)})`
    }
    case 'drop': return `(drop ${expr(cx, valType(rng), depth + 1)})`
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
      return call + sink(cx, g.results)
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
    case 'vstore': {
      if (rng.chance(0.7)) return counted('simd', null, `(v128.store${memarg(cx, 16)} ${address(cx, depth, 16)} ${expr(cx, 'v128', depth + 1)})`)
      const [bits, lanes] = rng.pick(V_LANE_MEM)
      const ma = memarg(cx, bits / 8)
      const addr = address(cx, depth, bits / 8)
      return counted('simd', null, `(v128.store${bits}_lane${ma} ${rng.int(lanes)} ${addr} ${expr(cx, 'v128', depth + 1)})`)
    }
    case 'tset': {
      const t = rng.pick(['externref', 'funcref'])
      const i = tableIndex(cx, depth, refTable(t))
      return counted('table', null, `(table.set $${refTable(t)} ${i} ${expr(cx, t, depth + 1)})`)
    }
    case 'tfill': {
      const t = rng.pick(['externref', 'funcref'])
      const i = tableIndex(cx, depth, refTable(t))
      const v = expr(cx, t, depth + 1)
      return counted('table', null, `(table.fill $${refTable(t)} ${i} ${v} ${tableLength(cx, depth)})`)
    }
    case 'tcopy': {
      const tab = rng.pick(['tf', 'te'])
      const d = tableIndex(cx, depth, tab)
      const s = tableIndex(cx, depth, tab)
      return counted('table', null, `(table.copy $${tab} $${tab} ${d} ${s} ${tableLength(cx, depth)})`)
    }
    case 'tinit': {
      const d = tableIndex(cx, depth, 'tf')
      return counted('table', null, `(table.init $tf $p0 ${d} (i32.const ${rng.range(0, cx.passive - 1)}) ${tableLength(cx, depth)})`)
    }
    case 'edrop': return counted('table', null, '(elem.drop $p0)')
    case 'host': {
      const h = rng.pick(cx.imports)
      return `(call $${h.name} ${h.params.map((p) => expr(cx, p, depth + 1)).join(' ')})${sink(cx, h.results)}`
    }
    case 'call_indirect': return callIndirect(cx, depth, null)
  }
  throw new Error('unreachable kind')
}
