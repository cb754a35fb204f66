// Strings and bytes between JS and a guest (issue 17, item 2): memory.readString/writeString, and
// instance.passBytes/passString through the guest's own allocator — with a real C guest
// (programs/strings.c, a WASI reactor built by clang-14) whose exports take (ptr, len).
// Expected values come from JS itself (code points, Buffer's UTF-8, an FNV-1a written here).
import test from 'ava'
import * as fs from 'node:fs'

import { Engine, Instance, Linker, Memory, Module, Store, WasmtimeError } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'
import { program, programTest } from './helpers/programs'

const ptest = programTest()
const TEXTS = ['', 'hello', 'héllo, wörld', 'naïve café — 😀🎉 ünïcödé', 'x'.repeat(10_000) + '€']

function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0
  return h
}

/** The exports of programs/strings.c, declared (pointers and sizes are i32s). */
interface StringsExports {
  _initialize(): void
  alloc(size: number): number
  dealloc(ptr: number): void
  cabi_realloc(old: number, oldSize: number, align: number, newSize: number): number
  count_chars(ptr: number, len: number): number
  shout(ptr: number, len: number): number
  fnv1a(ptr: number, len: number): number
  memory: Memory
}

function guest() {
  const linker = new Linker(Engine.default)
  linker.defineWasi()
  const store = new Store(Engine.default, { wasi: {} })
  const instance = linker.instantiate<StringsExports>(store, new Module(Engine.default, fs.readFileSync(program('strings.wasm'))))
  const ex = instance.exports
  ex._initialize()
  return { instance, ex, memory: instance.getMemory('memory')! }
}

test('memory.writeString / readString: UTF-8 both ways, bytes written, bounds checked', (t) => {
  const memory = new Memory(new Store(), { minimum: 1 })
  let at = 0
  for (const text of TEXTS) {
    const n = memory.writeString(at, text)
    t.is(n, Buffer.byteLength(text, 'utf8'), `bytes written for ${JSON.stringify(text.slice(0, 20))}`)
    t.deepEqual(Buffer.from(memory.read(at, n)), Buffer.from(text, 'utf8'))
    t.is(memory.readString(at, n), text)
    at = (at + n) % 40_000
  }
  // Malformed UTF-8 reads as U+FFFD, as Buffer decodes it.
  const bad = new Uint8Array([0x61, 0xff, 0xc3, 0x28, 0x62])
  memory.write(100, bad)
  t.is(memory.readString(100, bad.length), Buffer.from(bad).toString('utf8'))
  // Text that does not fit: RangeError, and nothing written.
  memory.write(65_530, new Uint8Array(6).fill(7))
  assertError(t, thrown(t, () => memory.writeString(65_530, 'abcdefgh'), 'past the end'), RangeError, 'ERR_OUT_OF_RANGE', 'past the end')
  t.deepEqual([...memory.read(65_530, 6)], [7, 7, 7, 7, 7, 7], 'nothing was written')
  assertError(t, thrown(t, () => memory.readString(65_530, 7), 'read past the end'), RangeError, 'ERR_OUT_OF_RANGE', 'read past the end')
  assertError(t, thrown(t, () => memory.writeString(0, 42 as unknown as string), 'not a string'), TypeError, 'ERR_INVALID_ARG_TYPE', 'not a string')
})

ptest('passString through cabi_realloc (the default) and passBytes through a malloc-like export, to a C guest', (t) => {
  const { instance, ex, memory } = guest()
  for (const text of TEXTS) {
    const { ptr, len } = instance.passString(text)
    t.is(len, Buffer.byteLength(text, 'utf8'))
    t.is(ex.count_chars(ptr, len), [...text].length, `code points of ${JSON.stringify(text.slice(0, 20))}`)
    t.is(memory.readString(ptr, len), text)
    ex.dealloc(ptr)
  }
  for (const text of TEXTS) {
    const bytes = Buffer.from(text, 'utf8')
    const { ptr, len } = instance.passBytes(bytes, { alloc: 'alloc' })
    t.is(ex.fnv1a(ptr, len) >>> 0, fnv1a(bytes), `FNV-1a of ${JSON.stringify(text.slice(0, 20))}`)
    // The guest changes the bytes in place; the host reads the result back.
    t.is(ex.shout(ptr, len), (text.match(/[a-z]/g) ?? []).length)
    t.is(memory.readString(ptr, len), text.replace(/[a-z]/g, (c) => c.toUpperCase()))
    ex.dealloc(ptr)
  }
  // An ArrayBuffer and a view at an offset pass exactly their bytes.
  const whole = new Uint8Array([1, 2, 3, 4, 5, 6])
  const view = new Uint8Array(whole.buffer, 2, 3)
  const a = instance.passBytes(view)
  t.deepEqual([...memory.read(a.ptr, a.len)], [3, 4, 5])
  const b = instance.passBytes(whole.buffer)
  t.deepEqual([...memory.read(b.ptr, b.len)], [1, 2, 3, 4, 5, 6])
})

ptest('passBytes: a missing or mistyped allocator or memory, bad options, and an allocator that fails are typed errors', (t) => {
  const { instance } = guest()
  const bad = (run: () => unknown, cls: abstract new (...args: never[]) => Error, code: string, what: string) => assertError(t, thrown(t, run, what), cls, code, what)
  bad(() => instance.passString('x', { alloc: 'nope' }), TypeError, 'ERR_INVALID_ARG_VALUE', 'no such export')
  bad(() => instance.passString('x', { alloc: 'count_chars' }), TypeError, 'ERR_INVALID_ARG_VALUE', '(i32, i32) -> i32 is no allocator')
  bad(() => instance.passString('x', { memory: 'mem' }), TypeError, 'ERR_INVALID_ARG_VALUE', 'no such memory')
  bad(() => instance.passString('x', { aloc: 'alloc' } as never), TypeError, 'ERR_INVALID_ARG_VALUE', 'an unknown option')
  bad(() => instance.passString(5 as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE', 'not a string')
  bad(() => instance.passBytes('x' as unknown as Uint8Array), TypeError, 'ERR_INVALID_ARG_TYPE', 'not bytes')
  // An allocator that returns NULL.
  const oom = new Instance(new Store(), new Module(Engine.default, '(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 0)))'))
  bad(() => oom.passBytes(new Uint8Array(8), { alloc: 'malloc' }), WasmtimeError, 'ERR_GUEST_ALLOC', 'NULL from the allocator')
  t.deepEqual(oom.passBytes(new Uint8Array(0), { alloc: 'malloc' }), { ptr: 0, len: 0 }, 'an empty request may get NULL')
})
