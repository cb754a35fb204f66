// Sharing must not leak: a shared module lives exactly as long as some handle to it (in any
// thread), and its share-registry entry goes with it. Tokens are plain data and keep nothing
// alive; a token of a module dropped everywhere fails with ERR_SHARED_GONE.
//
// As in leak.test.ts, the loops yield to the event loop now and then: Node runs N-API finalizers
// from the event loop, so a loop that never yields cannot free anything a finalizer owns. Each
// test finds the census of helpers/gc.ts (live native objects, the share registry among them, and
// the OS thread count) back at its baseline, count for count.
import test from 'ava'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import { Engine, Instance, Module, Store } from '../dist/index.js'
import type { Shared } from '../dist/index.js'
import { assertBackToBaseline, baseline, gc, rss, settle, tick } from './helpers/gc'
import { fn } from './helpers/util'

// The generated N-API loader's process-wide diagnostics.

const native = require('../index.js') as { compileCount(): number }

const MiB = 1024 * 1024

const fmt = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`
const wat = (n: number) => `(module (func (export "f") (result i32) (i32.const ${n})))`

/**
 * What lives as long as the process, made before a baseline: Engine.default, and the thread pool
 * that wasmtime's first parallel compilation starts (one thread per core; it never ends).
 */
function warmUp(): void {
  fn(new Instance(new Store(), new Module(Engine.default, wat(0))), 'f')()
}

/** The error `f` throws, or undefined. */
function thrownBy(f: () => unknown): (Error & { code?: string }) | undefined {
  try {
    f()
  } catch (e) {
    return e as Error & { code?: string }
  }
  return undefined
}

test.serial('a token outlives its module: once every handle is dropped, fromShared throws ERR_SHARED_GONE', async (t) => {
  // Created in a function scope, so that nothing but the token remains afterwards.
  const shareAndDrop = (): Shared<'Module'> => {
    const module = new Module(Engine.default, wat(1))
    const token = module.share()
    t.is(fn(new Instance(new Store(), Module.fromShared(token)), 'f')(), 1, 'the token works while the module lives')
    return token
  }
  warmUp()
  const base = await baseline()
  const token = shareAndDrop()
  await assertBackToBaseline(t, base, 'after the module was dropped')
  const e = thrownBy(() => Module.fromShared(token))
  t.true(e instanceof Error, 'fromShared of a dropped module throws')
  t.is(e?.code, 'ERR_SHARED_GONE')
})

test.serial('a module whose only handle was in a worker is gone once that worker has ended', async (t) => {
  warmUp()
  const base = await baseline()
  const worker = new Worker(path.join(__dirname, 'workers', 'make-module.mjs'), { workerData: { wat: wat(2) } })
  t.teardown(async () => {
    await worker.terminate()
  })
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
  const message = new Promise<{ token: Shared<'Module'> }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const { token } = await message
  t.is(await exited, 0, 'the worker ends on its own')
  // The worker's module, its share-registry entry and the worker's thread are all gone.
  await assertBackToBaseline(t, base, 'after the worker ended')
  t.is(thrownBy(() => Module.fromShared(token))?.code, 'ERR_SHARED_GONE')
})

test.serial('10,000 modules shared, fetched with fromShared and dropped: RSS flat, modules and share registry back to baseline', async (t) => {
  t.timeout(10 * 60_000)
  const COUNT = 10_000
  const WARMUP = 1_000
  const YIELD_EVERY = 250
  const compilesStart = native.compileCount()
  const sampledTokens: Array<Shared<'Module'>> = []

  /** Compiles module `i`, shares it, fetches it back, drops both; now and then runs the fetched handle. */
  const cycle = (i: number) => {
    const module = new Module(Engine.default, wat(i))
    const token = module.share()
    const handle = Module.fromShared(token)
    if (handle.share().id !== token.id) throw new Error(`module ${i}: fromShared gave another module`)
    if (i % 1000 === 0) {
      const r = fn(new Instance(new Store(), handle), 'f')()
      if (r !== i) throw new Error(`module ${i}: f() returned ${r}`)
      sampledTokens.push(token)
    }
  }

  for (let i = 0; i < WARMUP; i++) {
    cycle(i)
    if (i % YIELD_EVERY === 0) await tick()
  }
  const base = await baseline()
  const rssStart = rss()

  for (let i = WARMUP; i < WARMUP + COUNT; i++) {
    cycle(i)
    if (i % YIELD_EVERY === 0) {
      gc()
      await tick()
    }
  }
  await settle()
  const rssEnd = rss()

  t.log(`RSS after warm-up ${fmt(rssStart)}, after ${COUNT} more: ${fmt(rssEnd)} (growth ${fmt(rssEnd - rssStart)})`)
  t.is(native.compileCount() - compilesStart, WARMUP + COUNT, 'every module was really compiled, and fromShared compiled nothing')
  t.true(rssEnd - rssStart < 100 * MiB, `RSS grew by ${fmt(rssEnd - rssStart)}`)
  // Every module and its share-registry entry gone (modules and shared exactly at baseline).
  const end = await assertBackToBaseline(t, base, `after ${COUNT} modules shared and dropped`)
  t.log(`live objects at the end: ${JSON.stringify(end)}`)
  // The tokens kept nothing alive: every sampled module is gone.
  for (const token of sampledTokens) t.is(thrownBy(() => Module.fromShared(token))?.code, 'ERR_SHARED_GONE', token.id)
})
