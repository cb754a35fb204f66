// WAVE (the WebAssembly Value Encoding that `wasmtime run --invoke` uses for components):
// `greet("Node")`, `add(1, 2)`, `check({ x: 1, y: -2 }, [1, 2], some("a"), ok(3))`. Arguments
// are read by the function's WIT parameter types (as `component.exports` spells them) into the JS
// values of jco's mapping, and a result is printed back in WAVE.

/** A WIT type, parsed from the spelling of `component.exports` (crate/call/component_values.rs). */
export type Wit =
  | { k: 'prim'; name: string }
  | { k: 'list' | 'option'; of: Wit }
  | { k: 'tuple'; items: Wit[] }
  | { k: 'result'; ok: Wit | null; err: Wit | null }
  | { k: 'record'; fields: [string, Wit][] }
  | { k: 'variant'; cases: [string, Wit | null][] }
  | { k: 'enum' | 'flags'; names: string[] }

class Reader {
  i = 0
  constructor(readonly s: string, readonly what: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++
  }
  peek(): string {
    this.ws()
    return this.s[this.i] ?? ''
  }
  eat(c: string): boolean {
    if (this.peek() !== c) return false
    this.i++
    return true
  }
  expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected '${c}'`)
  }
  word(): string {
    this.ws()
    const m = /^[A-Za-z_%][\w-]*/.exec(this.s.slice(this.i))
    if (!m) this.fail('expected a name')
    this.i += m![0].length
    return m![0].replace(/^%/, '')
  }
  fail(msg: string): never {
    throw new WaveError(`${this.what}: ${msg} at ${JSON.stringify(this.s.slice(this.i, this.i + 20))}`)
  }
}

export class WaveError extends Error {}

/** Parse a type spelled as `component.exports` spells it. */
export function parseType(text: string): Wit {
  const r = new Reader(text, 'type')
  const t = typeAt(r)
  if (r.peek() !== '') r.fail('unexpected text')
  return t
}

function list<T>(r: Reader, close: string, item: () => T): T[] {
  const out: T[] = []
  while (!r.eat(close)) {
    out.push(item())
    if (!r.eat(',') && r.peek() !== close) r.fail(`expected ',' or '${close}'`)
  }
  return out
}

function typeAt(r: Reader): Wit {
  if (r.eat('_')) return null as unknown as Wit
  const name = r.word()
  switch (name) {
    case 'list':
    case 'option': {
      r.expect('<')
      const of = typeAt(r)
      if (r.eat(',')) {
        // A fixed-length list's length: read as a list.
        r.ws()
        r.i += /^\d*/.exec(r.s.slice(r.i))![0].length
      }
      r.expect('>')
      return { k: name, of }
    }
    case 'tuple':
      r.expect('<')
      return { k: 'tuple', items: list(r, '>', () => typeAt(r)) }
    case 'result': {
      r.expect('<')
      const ok = typeAt(r)
      r.expect(',')
      const err = typeAt(r)
      r.expect('>')
      return { k: 'result', ok, err }
    }
    case 'record':
      r.expect('{')
      return { k: 'record', fields: list(r, '}', () => field(r)) }
    case 'variant':
      r.expect('{')
      return { k: 'variant', cases: list(r, '}', () => variantCase(r)) }
    case 'enum':
    case 'flags':
      r.expect('{')
      return { k: name, names: list(r, '}', () => r.word()) }
    default:
      return { k: 'prim', name }
  }
}

function field(r: Reader): [string, Wit] {
  const name = r.word()
  r.expect(':')
  return [name, typeAt(r)]
}

function variantCase(r: Reader): [string, Wit | null] {
  const name = r.word()
  if (!r.eat('(')) return [name, null]
  const t = typeAt(r)
  r.expect(')')
  return [name, t]
}

const camel = (n: string) => n.replace(/-([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase())
const INTS: Record<string, [number, number]> = { s8: [-128, 127], u8: [0, 255], s16: [-32768, 32767], u16: [0, 65535], s32: [-(2 ** 31), 2 ** 31 - 1], u32: [0, 2 ** 32 - 1] }

/** One WAVE value of type `t` at the reader, as jco's JS value. */
function valueAt(r: Reader, t: Wit): unknown {
  switch (t.k) {
    case 'prim':
      return primAt(r, t.name)
    case 'list': {
      r.expect('[')
      const items = list(r, ']', () => valueAt(r, t.of))
      return t.of.k === 'prim' && t.of.name === 'u8' ? Uint8Array.from(items as number[]) : items
    }
    case 'tuple': {
      r.expect('(')
      let n = 0
      return list(r, ')', () => valueAt(r, t.items[n++] ?? r.fail('too many tuple elements')))
    }
    case 'record': {
      r.expect('{')
      const out: Record<string, unknown> = {}
      list(r, '}', () => {
        const name = r.word()
        const f = t.fields.find(([n]) => n === name) ?? r.fail(`no field ${name}`)
        r.expect(':')
        out[camel(name)] = valueAt(r, f[1])
      })
      return out
    }
    case 'flags': {
      r.expect('{')
      const on = new Set(list(r, '}', () => r.word()))
      return Object.fromEntries(t.names.map((n) => [camel(n), on.has(n)]))
    }
    case 'enum': {
      const name = r.word()
      return t.names.includes(name) ? name : r.fail(`${name} is not a case of the enum`)
    }
    case 'variant': {
      const name = r.word()
      const c = t.cases.find(([n]) => n === name) ?? r.fail(`${name} is not a case of the variant`)
      if (!c[1]) return { tag: name }
      r.expect('(')
      const val = valueAt(r, c[1])
      r.expect(')')
      return { tag: name, val }
    }
    case 'option': {
      const name = r.word()
      const nested = t.of.k === 'option'
      if (name === 'none') return nested ? { tag: 'none' } : undefined
      if (name !== 'some') r.fail('expected some(…) or none')
      r.expect('(')
      const val = valueAt(r, t.of)
      r.expect(')')
      return nested ? { tag: 'some', val } : val
    }
    case 'result': {
      const tag = r.word()
      if (tag !== 'ok' && tag !== 'err') r.fail('expected ok or err')
      const side = tag === 'ok' ? t.ok : t.err
      if (!side) return { tag }
      r.expect('(')
      const val = valueAt(r, side)
      r.expect(')')
      return { tag, val }
    }
  }
}

function primAt(r: Reader, name: string): unknown {
  r.ws()
  const rest = r.s.slice(r.i)
  if (name === 'string' || name === 'char') {
    const q = name === 'string' ? '"' : "'"
    const m = new RegExp(`^${q}((?:[^${q}\\\\]|\\\\.)*)${q}`).exec(rest) ?? r.fail(`expected a ${name}`)
    r.i += m[0].length
    const s = m[1]!.replace(/\\u\{([0-9a-fA-F]+)\}|\\(.)/g, (_, hex: string | undefined, c: string) =>
      hex ? String.fromCodePoint(parseInt(hex, 16)) : ({ n: '\n', t: '\t', r: '\r' } as Record<string, string>)[c] ?? c)
    return s
  }
  const m = /^(true|false|-?inf|nan|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(rest) ?? r.fail(`expected a ${name}`)
  r.i += m[0].length
  const text = m[0]
  if (name === 'bool') return text === 'true' ? true : text === 'false' ? false : r.fail('expected true or false')
  if (name === 's64' || name === 'u64') return BigInt(/^-?\d+$/.test(text) ? text : r.fail(`expected an integer for ${name}`))
  const x = text === 'nan' ? NaN : text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text)
  const range = INTS[name]
  if (range && (!Number.isInteger(x) || x < range[0] || x > range[1])) r.fail(`${text} is not a ${name}`)
  return x
}

/** `name(arg, …)` read by `params`' types: the function's name and its arguments as JS values. */
export function parseCall(text: string, params: (name: string) => Wit[] | undefined): { name: string; args: unknown[] } {
  const r = new Reader(text, '--invoke')
  r.ws()
  // A root function, or `interface#function` (`acme:plugin/api@0.1.0#greet`).
  const m = /^[^\s(]+/.exec(r.s.slice(r.i)) ?? r.fail('expected a function name')
  r.i += m[0].length
  const name = m[0]
  const types = params(name) ?? r.fail(`the component exports no function ${JSON.stringify(name)}`)
  r.expect('(')
  let n = 0
  const args = list(r, ')', () => valueAt(r, types[n++] ?? r.fail(`${name} takes ${types.length} argument(s)`)))
  if (args.length !== types.length) r.fail(`${name} takes ${types.length} argument(s), got ${args.length}`)
  if (r.peek() !== '') r.fail('unexpected text after the call')
  return { name, args }
}

const str = (s: string, q: string) => q + [...s].map((c) => (c === q || c === '\\' ? `\\${c}` : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c)).join('') + q

/** A JS value of type `t` (jco's mapping) in WAVE. */
export function formatValue(v: unknown, t: Wit): string {
  switch (t.k) {
    case 'prim':
      if (t.name === 'string') return str(v as string, '"')
      if (t.name === 'char') return str(v as string, "'")
      if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'
      return String(v)
    case 'list':
      return `[${[...(v as Iterable<unknown>)].map((x) => formatValue(x, t.of)).join(', ')}]`
    case 'tuple':
      return `(${(v as unknown[]).map((x, i) => formatValue(x, t.items[i]!)).join(', ')})`
    case 'record':
      return `{${t.fields.map(([n, ft]) => `${n}: ${formatValue((v as Record<string, unknown>)[camel(n)], ft)}`).join(', ')}}`
    case 'flags':
      return `{${t.names.filter((n) => (v as Record<string, boolean>)[camel(n)]).join(', ')}}`
    case 'enum':
      return String(v)
    case 'variant': {
      const { tag, val } = v as { tag: string; val?: unknown }
      const c = t.cases.find(([n]) => n === tag)
      return c?.[1] ? `${tag}(${formatValue(val, c[1])})` : tag
    }
    case 'option': {
      if (t.of.k === 'option') {
        const o = v as { tag: string; val?: unknown }
        return o.tag === 'none' ? 'none' : `some(${formatValue(o.val, t.of)})`
      }
      return v === undefined ? 'none' : `some(${formatValue(v, t.of)})`
    }
    case 'result': {
      const { tag, val } = v as { tag: 'ok' | 'err'; val?: unknown }
      const side = tag === 'ok' ? t.ok : t.err
      return side ? `${tag}(${formatValue(val, side)})` : tag
    }
  }
}
