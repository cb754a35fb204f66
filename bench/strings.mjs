// Strings into a guest: `instance.passString` against the same steps written by hand (encode,
// call the guest's allocator, write), with the real C guest of the tests (programs/strings.c).
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

export async function run() {
  const linker = new wt.Linker(wt.Engine.default)
  linker.defineWasi()
  const module = new wt.Module(wt.Engine.default, readFileSync(new URL('../programs/wasm/strings.wasm', import.meta.url)))
  const instance = linker.instantiate(new wt.Store(wt.Engine.default, { wasi: {} }), module)
  const { _initialize, count_chars: count, dealloc, alloc } = instance.exports
  _initialize()
  const memory = instance.getMemory('memory')
  const rows = []
  for (const [label, text] of [['12-byte string', 'héllo wörld'], ['4 KiB string', 'naïve café '.repeat(340)]]) {
    const N = 20_000
    const ours = bestOf(() => {
      for (let i = 0; i < N; i++) {
        const { ptr, len } = instance.passString(text, { alloc: 'alloc' })
        count(ptr, len)
        dealloc(ptr)
      }
    }, N)
    const encoder = new TextEncoder()
    const byHand = bestOf(() => {
      for (let i = 0; i < N; i++) {
        const bytes = encoder.encode(text)
        const ptr = alloc(bytes.length)
        memory.write(ptr, bytes)
        count(ptr, bytes.length)
        dealloc(ptr)
      }
    }, N)
    rows.push({ name: `pass a ${label} to a guest, call, free`, unit: 'ns/op', ours, peer: byHand, peerName: 'the same steps by hand (encode, alloc, write)', target: '≤ 1×' })
  }
  return rows
}
