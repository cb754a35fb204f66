// Option typos are errors, not silence (issue 15, item 6): an unknown key in any options object
// is a TypeError ERR_INVALID_ARG_VALUE naming the key and the closest known one — an untrusted
// guest must not run without its timeout or memory cap because of a typo.
import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { Config, Engine, Instance, Memory, Module, Store, runWasi, runWasiAsync } from '../dist/index.js'
import { assertError, rejection, thrown } from './helpers/assert'
import { fn } from './helpers/util'

const A = (v: unknown): any => v
const COMMAND = '(module (func (export "_start")) (memory (export "memory") 1))'
const SPIN = new Module(Engine.default, '(module (func (export "spin") (loop $l (br $l))) (func (export "one") (result i32) (i32.const 1)))')

/** The typo `key` is refused, and the message proposes `near` (when given). */
function refused(t: import('ava').ExecutionContext, e: unknown, key: string, near: string | null, what: string): void {
  assertError(t, e, TypeError, 'ERR_INVALID_ARG_VALUE', what, `'${key}'`)
  const message = (e as Error).message
  if (near) t.true(message.includes(`did you mean '${near}'`), `${what}: ${message}`)
  else t.false(message.includes('did you mean'), `${what}: ${message}`)
}

test('engine options: unknown keys are refused, with the closest known one', (t) => {
  const cases: [string, object, string, string | null][] = [
    ['new Engine', { consumeFule: true }, 'consumeFule', 'consumeFuel'],
    ['new Engine', { epochinterruption: false }, 'epochinterruption', 'epochInterruption'],
    ['new Engine', { allocator: { pooling: { totalMemory: 4 } } }, 'totalMemory', 'totalMemories'],
    ['new Engine', { allocator: { pooling: {}, extra: 1 } }, 'extra', null],
    ['new Engine', { cache: { dir: os.tmpdir() } }, 'dir', null],
    ['new Config', { optlevel: 'speed' }, 'optlevel', 'optLevel'],
    ['new Engine', { somethingElse: 1 }, 'somethingElse', null],
  ]
  for (const [what, options, key, near] of cases) {
    const e = thrown(t, () => (what === 'new Config' ? new Config(A(options)) : new Engine(A(options))), `${what} ${key}`)
    refused(t, e, key, near, `${what} ${key}`)
  }
  // Every known key together is fine.
  const engine = new Engine({
    strategy: 'cranelift', optLevel: 'speed', consumeFuel: false, epochInterruption: true, maxWasmStack: 1 << 20,
    features: { simd: true }, allocator: 'on-demand', cache: false, parallelCompilation: true, debugInfo: false,
    memoryReservation: 1 << 30, memoryGuardSize: 1 << 16,
  })
  t.true(engine.epochInterruption)
})

test('store options and limits: a typo never leaves a guest without its timeout or cap', (t) => {
  refused(t, thrown(t, () => new Store(undefined, A({ timeoutMS: 5 })), 'timeoutMS'), 'timeoutMS', 'timeoutMs', 'store timeoutMS')
  refused(t, thrown(t, () => new Store(undefined, A({ limits: { memorysize: 1 } })), 'memorysize'), 'memorysize', 'memorySize', 'limits memorysize')
  refused(t, thrown(t, () => new Store(undefined, A({ Fuel: 5 })), 'Fuel'), 'Fuel', 'fuel', 'store Fuel')
  const store = new Store(undefined, { data: 1, limits: { memorySize: 1 << 16 }, timeoutMs: 50 })
  refused(t, thrown(t, () => store.setLimits(A({ table_elements: 4 })), 'setLimits'), 'table_elements', 'tableElements', 'setLimits table_elements')
  // The timeout that was spelled right is in force.
  const inst = new Instance(store, SPIN)
  const e = thrown(t, () => fn(inst, 'spin')(), 'spin')
  t.is((e as { trapCode?: string }).trapCode, 'interrupt')
})

test('wasi options, preopens and runWasi options', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-options-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  refused(t, thrown(t, () => new Store(undefined, { wasi: A({ arg: ['x'] }) }), 'wasi arg'), 'arg', 'args', 'wasi arg')
  refused(t, thrown(t, () => new Store(undefined, { wasi: { preopens: { '/d': A({ path: dir, readOnly: true }) } } }), 'readOnly'), 'readOnly', 'readonly', 'preopen readOnly')
  refused(t, thrown(t, () => runWasi(COMMAND, A({ timeout: 5 })), 'runWasi timeout'), 'timeout', 'timeoutMs', 'runWasi timeout')
  refused(t, await rejection(t, runWasiAsync(COMMAND, A({ stdOut: 'capture' })), 'runWasiAsync stdOut'), 'stdOut', 'stdout', 'runWasiAsync stdOut')
  t.is(runWasi(COMMAND, { args: ['a'], timeoutMs: 1000, fuel: undefined, stdout: 'capture', preopens: { '/d': { path: dir, readonly: true } } }).exitCode, 0)
})

test('callAsync options: a typo rejects instead of running without a timeout', async (t) => {
  const inst = new Instance(new Store(), SPIN)
  const e = await rejection(t, fn(inst, 'spin').callAsync(A({ timeoutMS: 20 })), 'timeoutMS')
  refused(t, e, 'timeoutMS', 'timeoutMs', 'callAsync timeoutMS')
  t.is(await fn(inst, 'one').callAsync({}), 1, 'an empty options object is fine')
  const trap = await rejection(t, fn(inst, 'spin').callAsync({ timeoutMs: 20 }), 'timeoutMs')
  t.is((trap as { trapCode?: string }).trapCode, 'interrupt')
})

test('memory types: shared and memory64 are refused, not ignored', (t) => {
  const store = new Store()
  assertError(t, thrown(t, () => new Memory(store, A({ minimum: 1, shared: true })), 'shared'), TypeError, 'ERR_INVALID_ARG_VALUE', 'shared: true', 'shared')
  assertError(t, thrown(t, () => new Memory(store, A({ minimum: 1, memory64: true })), 'memory64'), TypeError, 'ERR_INVALID_ARG_VALUE', 'memory64: true', '64-bit')
  refused(t, thrown(t, () => new Memory(store, A({ minimum: 1, maximun: 2 })), 'maximun'), 'maximun', 'maximum', 'memory maximun')
  // A type read from an existing memory is accepted back.
  const m = new Memory(store, { minimum: 1, maximum: 2 })
  t.is(new Memory(store, m.type).type.maximum, 2)
})
