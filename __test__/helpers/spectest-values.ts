// Conversions between the spec testsuite's JSON values and the JS values the wasmtime-node API
// takes and returns, and the result comparison assert_return needs. Nothing here touches the
// package: it is all about the data format and JS numbers, so it can be read on its own.
//
// The package's value mapping (README "Values"): i32 ↔ number (signed), i64 ↔ BigInt (signed),
// f32/f64 ↔ number, v128 ↔ 16-byte Uint8Array (little-endian lanes), funcref ↔ function | null,
// externref ↔ any JS value | null.

import { inspect } from 'node:util'
import type { SpecValue } from './spectest-script'

/** A value the JS boundary (or the JSON) cannot spell: the command becomes a documented skip. */
export class UnsupportedValue extends Error {}

/** Why a result comparison was skipped rather than failed (README: "Known limits"): a NaN
 *  crossing a JS number loses its bits. V8 canonicalises every NaN it boxes into a number
 *  (sign and payload are gone), and a signalling NaN argument may be quieted. v128 values
 *  cross as bytes, so SIMD NaN lanes are still checked exactly. */
export const NAN_PAYLOAD_SKIP = {
  result: 'NaN payload through JS number: the expected result is a NaN with a specific sign/payload; V8 canonicalises NaN numbers',
  argument: 'NaN payload through JS number: a signalling NaN argument may be quieted before wasm sees it',
} as const

/** externref identities: the JSON's `N` ↔ one stable JS object per script, so a returned
 *  externref can be checked by identity (`===`), which is what the spec means. */
export class ExternRefs {
  private readonly refs = new Map<string, object>()
  get(n: string): object {
    let ref = this.refs.get(n)
    if (ref === undefined) {
      ref = { ref: n }
      this.refs.set(n, ref)
    }
    return ref
  }
}

// ---------- bit patterns ----------
// One scratch view; always little-endian so v128 lanes and scalars agree.

const scratch = new DataView(new ArrayBuffer(8))
const F32_QUIET = 0x0040_0000
const F64_QUIET = 1n << 51n
const F64_EXP = 0x7ffn << 52n
const F64_MANT = (1n << 52n) - 1n

function f32FromBits(bits: number): number {
  scratch.setUint32(0, bits, true)
  return scratch.getFloat32(0, true)
}
/** The f32 bit pattern of a JS number (setFloat32 rounds to f32, like Math.fround). */
function f32Bits(x: number): number {
  scratch.setFloat32(0, x, true)
  return scratch.getUint32(0, true)
}
function f64FromBits(bits: bigint): number {
  scratch.setBigUint64(0, bits, true)
  return scratch.getFloat64(0, true)
}
function f64Bits(x: number): bigint {
  scratch.setFloat64(0, x, true)
  return scratch.getBigUint64(0, true)
}
const isF32NaN = (bits: number): boolean => (bits & 0x7f80_0000) === 0x7f80_0000 && (bits & 0x007f_ffff) !== 0
const isF64NaN = (bits: bigint): boolean => (bits & F64_EXP) === F64_EXP && (bits & F64_MANT) !== 0n
const hex = (bits: number | bigint, digits: number): string => '0x' + bits.toString(16).padStart(digits, '0')

/** The unsigned bit pattern of a decimal string, whatever its sign, on `width` bits. */
const unsignedBits = (s: string, width: number): bigint => BigInt.asUintN(width, BigInt(s))
const isNanPattern = (s: string): boolean => s.startsWith('nan:')

function scalar(v: SpecValue): string {
  if (typeof v.value !== 'string') throw new Error(`malformed ${v.type} value: ${JSON.stringify(v.value)}`)
  return v.value
}
function lanes(v: SpecValue): readonly string[] {
  if (!Array.isArray(v.value)) throw new Error(`malformed v128 value: ${JSON.stringify(v.value)}`)
  return v.value as readonly string[]
}

// ---------- v128 ----------

const LANE_BITS: Record<string, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 }

function laneBits(laneType: string | undefined): number {
  const bits = laneType === undefined ? undefined : LANE_BITS[laneType]
  if (bits === undefined) throw new UnsupportedValue(`v128 lane type ${String(laneType)}`)
  return bits
}

/** Lane `i` of a 16-byte vector as an unsigned bit pattern (float lanes included). */
function readLane(bytes: Uint8Array, width: number, i: number): bigint {
  let bits = 0n
  for (let b = width / 8 - 1; b >= 0; b--) bits = (bits << 8n) | BigInt(bytes[i * (width / 8) + b])
  return bits
}

function writeLane(bytes: Uint8Array, width: number, i: number, bits: bigint): void {
  for (let b = 0; b < width / 8; b++) bytes[i * (width / 8) + b] = Number((bits >> BigInt(8 * b)) & 0xffn)
}

function v128FromLanes(v: SpecValue): Uint8Array {
  const width = laneBits(v.lane_type)
  const bytes = new Uint8Array(16)
  lanes(v).forEach((s, i) => {
    if (isNanPattern(s)) throw new UnsupportedValue(`${s} as a v128 argument lane`)
    writeLane(bytes, width, i, unsignedBits(s, width))
  })
  return bytes
}

function isNaNLane(bits: bigint, width: number): boolean {
  if (width === 32) return isF32NaN(Number(bits))
  return isF64NaN(bits)
}

function describeLanes(bytes: Uint8Array, laneType: string): string {
  const width = laneBits(laneType)
  const out: string[] = []
  for (let i = 0; i < 128 / width; i++) out.push(readLane(bytes, width, i).toString())
  return `${laneType}x${128 / width}[${out.join(' ')}]`
}

// ---------- arguments ----------

/** Is this a scalar f32/f64 signalling NaN (quiet bit clear)? Such an argument cannot be relied
 *  on to reach wasm intact through a JS number. (v128 lanes travel as bytes: not affected.) */
export function isSignallingNaN(v: SpecValue): boolean {
  if (typeof v.value !== 'string' || isNanPattern(v.value)) return false
  if (v.type === 'f32') {
    const bits = Number(unsignedBits(v.value, 32))
    return isF32NaN(bits) && (bits & F32_QUIET) === 0
  }
  if (v.type === 'f64') {
    const bits = unsignedBits(v.value, 64)
    return isF64NaN(bits) && (bits & F64_QUIET) === 0n
  }
  return false
}

/** The JS value to pass for a JSON argument. */
export function toJsArg(v: SpecValue, externs: ExternRefs): unknown {
  switch (v.type) {
    case 'i32': return Number(BigInt.asIntN(32, BigInt(scalar(v))))
    case 'i64': return BigInt.asIntN(64, BigInt(scalar(v)))
    case 'f32': return f32FromBits(Number(unsignedBits(scalar(v), 32)))
    case 'f64': return f64FromBits(unsignedBits(scalar(v), 64))
    case 'v128': return v128FromLanes(v)
    case 'funcref':
      if (scalar(v) === 'null') return null
      throw new UnsupportedValue('a non-null funcref argument (the JSON gives no function)')
    case 'externref': return scalar(v) === 'null' ? null : externs.get(scalar(v))
    default: throw new UnsupportedValue(`argument type ${v.type}`)
  }
}

// ---------- results ----------

export type Check =
  | { readonly ok: true }
  | { readonly ok: false; readonly why: string; /** differs only by a NaN quieted in a JS number */ readonly nanPayloadOnly: boolean }

const OK: Check = { ok: true }
const bad = (why: string, nanPayloadOnly = false): Check => ({ ok: false, why, nanPayloadOnly })

/** Does `got` (one result) match the expected JSON value? Floats are compared by bit pattern. */
export function checkValue(expected: SpecValue, got: unknown, externs: ExternRefs): Check {
  switch (expected.type) {
    case 'i32': return checkI32(scalar(expected), got)
    case 'i64': return checkI64(scalar(expected), got)
    case 'f32': return checkF32(scalar(expected), got)
    case 'f64': return checkF64(scalar(expected), got)
    case 'v128': return checkV128(expected, got)
    case 'funcref': return checkFuncref(scalar(expected), got)
    case 'externref': return checkExternref(scalar(expected), got, externs)
    default: throw new UnsupportedValue(`result type ${expected.type}`)
  }
}

function checkI32(s: string, got: unknown): Check {
  const want = Number(BigInt.asIntN(32, BigInt(s)))
  if (typeof got !== 'number') return bad(`i32 result is a ${typeof got}, not a number`)
  return Object.is(got, want) ? OK : bad(`i32 ${describeGot(got)} ≠ ${want}`)
}

function checkI64(s: string, got: unknown): Check {
  const want = BigInt.asIntN(64, BigInt(s))
  if (typeof got !== 'bigint') return bad(`i64 result is a ${typeof got}, not a bigint`)
  return got === want ? OK : bad(`i64 ${got}n ≠ ${want}n`)
}

function checkF32(s: string, got: unknown): Check {
  if (typeof got !== 'number') return bad(`f32 result is a ${typeof got}, not a number`)
  if (isNanPattern(s)) return Number.isNaN(got) ? OK : bad(`f32 ${got} is not a NaN (${s})`)
  if (!Number.isNaN(got) && Math.fround(got) !== got) return bad(`f32 result ${got} is not an f32 value`)
  const want = Number(unsignedBits(s, 32))
  const bits = f32Bits(got)
  if (bits === want) return OK
  const why = `f32 bits ${hex(bits, 8)} ≠ ${hex(want, 8)}`
  return bad(why, isF32NaN(want) && Number.isNaN(got))
}

function checkF64(s: string, got: unknown): Check {
  if (typeof got !== 'number') return bad(`f64 result is a ${typeof got}, not a number`)
  if (isNanPattern(s)) return Number.isNaN(got) ? OK : bad(`f64 ${got} is not a NaN (${s})`)
  const want = unsignedBits(s, 64)
  const bits = f64Bits(got)
  if (bits === want) return OK
  const why = `f64 bits ${hex(bits, 16)} ≠ ${hex(want, 16)}`
  return bad(why, isF64NaN(want) && Number.isNaN(got))
}

/** v128 results cross the boundary as bytes, so every lane (NaN payloads too) must be exact. */
function checkV128(expected: SpecValue, got: unknown): Check {
  if (!(got instanceof Uint8Array) || got.byteLength !== 16) return bad(`v128 result is ${describeGot(got)}, not a 16-byte Uint8Array`)
  const laneType = expected.lane_type ?? 'i8'
  const width = laneBits(laneType)
  const wrong: number[] = []
  lanes(expected).forEach((s, i) => {
    const bits = readLane(got, width, i)
    const match = isNanPattern(s) ? isNaNLane(bits, width) : bits === unsignedBits(s, width)
    if (!match) wrong.push(i)
  })
  return wrong.length === 0 ? OK : bad(`lane ${wrong.join(',')} of ${describeLanes(got, laneType)}`)
}

function checkFuncref(s: string, got: unknown): Check {
  if (s === 'null') return got === null ? OK : bad(`funcref ${describeGot(got)} is not null`)
  return typeof got === 'function' ? OK : bad(`funcref ${describeGot(got)} is not a function`)
}

function checkExternref(s: string, got: unknown, externs: ExternRefs): Check {
  if (s === 'null') return got === null ? OK : bad(`externref ${describeGot(got)} is not null`)
  return got === externs.get(s) ? OK : bad(`externref ${describeGot(got)} is not the object passed as externref ${s}`)
}

/** A call's return value as a list of `count` results: none → undefined, one → the value,
 *  several → an array. Returns a string saying what is wrong when the shape does not fit. */
export function resultList(got: unknown, count: number): unknown[] | string {
  if (count === 0) return got === undefined ? [] : 'expected no result (undefined)'
  if (count === 1) return [got]
  if (!Array.isArray(got)) return `expected an array of ${count} results`
  return got.length === count ? got : `expected ${count} results, got ${got.length}`
}

// ---------- descriptions for failure messages ----------

/** A JSON value, readably: integers signed, floats as value and bits, v128 as lanes. */
export function describeValue(v: SpecValue): string {
  if (v.value === undefined) return v.type
  switch (v.type) {
    case 'i32': return `i32:${BigInt.asIntN(32, BigInt(scalar(v)))}`
    case 'i64': return `i64:${BigInt.asIntN(64, BigInt(scalar(v)))}`
    case 'f32': {
      const s = scalar(v)
      return isNanPattern(s) ? `f32:${s}` : `f32:${f32FromBits(Number(unsignedBits(s, 32)))}(${hex(unsignedBits(s, 32), 8)})`
    }
    case 'f64': {
      const s = scalar(v)
      return isNanPattern(s) ? `f64:${s}` : `f64:${f64FromBits(unsignedBits(s, 64))}(${hex(unsignedBits(s, 64), 16)})`
    }
    case 'v128': return `v128:${v.lane_type}x${lanes(v).length}[${lanes(v).join(' ')}]`
    default: return `${v.type}:${String(v.value)}`
  }
}

export function describeValues(vs: readonly SpecValue[]): string {
  return vs.length === 1 ? describeValue(vs[0]) : `[${vs.map(describeValue).join(', ')}]`
}

/** A JS value returned by the package, readably (NaNs with their f64 bits). */
export function describeGot(x: unknown): string {
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return `NaN(${hex(f64Bits(x), 16)})`
    return Object.is(x, -0) ? '-0' : String(x)
  }
  if (typeof x === 'bigint') return `${x}n`
  if (typeof x === 'function') return `[function ${x.name}]`
  if (x instanceof Uint8Array) return `Uint8Array[${Array.from(x, b => b.toString(16).padStart(2, '0')).join(' ')}]`
  if (Array.isArray(x)) return `[${x.map(describeGot).join(', ')}]`
  return inspect(x, { depth: 1, breakLength: Infinity })
}

/** An error, with the package's stable `code` and `trapCode` when present. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return `a non-Error ${describeGot(e)}`
  const { code, trapCode } = e as { code?: unknown; trapCode?: unknown }
  const tags = [code !== undefined && `code=${String(code)}`, trapCode !== undefined && `trapCode=${String(trapCode)}`].filter(Boolean)
  const message = (e.message.split('\n')[0] ?? '').slice(0, 200)
  return `${e.constructor?.name ?? e.name}${tags.length > 0 ? ` [${tags.join(' ')}]` : ''}: ${message}`
}
