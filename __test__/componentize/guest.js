// A small JavaScript guest, made a WebAssembly component by componentize-js
// (scripts/build-componentize.mjs): the world `guest` of guest.wit. It imports `acme:guest/host`
// (log) and exports `acme:guest/process`. It uses nothing of WASI: the build disables all of
// componentize-js's WASI features, so the component imports only acme:guest/host.
//
// For a function returning `result<T, E>`, what the JS function returns is `ok`, and what it
// throws is `err`.
import { log } from 'acme:guest/host'

/** Calls of this instance so far (module state: each instance starts from the build's snapshot). */
let served = 0

const words = (text) => text.split(/\s+/u).filter((w) => w.length > 0)

/** Object keys sorted at every depth, numbers doubled. */
function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === 'number') return value * 2
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const key of Object.keys(value).sort()) out[key] = normalize(value[key])
    return out
  }
  return value
}

const functions = {
  wordCount(text) {
    return words(text).length
  },

  reverse(text) {
    return Array.from(text).reverse().join('')
  },

  wordFrequencies(text, top) {
    const counts = new Map()
    for (const w of words(text.toLowerCase())) counts.set(w, (counts.get(w) ?? 0) + 1)
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    log(`word-frequencies: ${counts.size} distinct of ${sorted.reduce((n, [, c]) => n + c, 0)}`)
    return sorted.slice(0, top)
  },

  summarize(values) {
    if (values.length === 0) return undefined
    let sum = 0n
    let min = values[0]
    let max = values[0]
    for (const v of values) {
      sum += BigInt(v)
      if (v < min) min = v
      if (v > max) max = v
    }
    return { count: values.length, sum, min, max, mean: Number(sum) / values.length }
  },

  transformJson(json) {
    let value
    try {
      value = JSON.parse(json)
    } catch (e) {
      log(`transform-json: rejected (${e.name})`)
      throw `invalid JSON: ${e.message}`
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      log('transform-json: rejected (not an object)')
      throw `not an object: ${JSON.stringify(value)}`
    }
    const out = JSON.stringify(normalize(value))
    log(`transform-json: ${Object.keys(value).length} keys, ${out.length} chars`)
    return out
  },

  fib(n) {
    if (n > 93) throw new RangeError(`fib(${n}) does not fit a u64`)
    let a = 0n
    let b = 1n
    for (let i = 0; i < n; i++) [a, b] = [b, a + b]
    return a
  },

  served() {
    return served
  },
}

/** Each function counts its call (served() reports the calls before it). */
export const process = Object.fromEntries(
  Object.entries(functions).map(([name, f]) => [name, (...args) => {
    try {
      return f(...args)
    } finally {
      served++
    }
  }]),
)
