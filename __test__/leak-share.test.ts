// Sharing must not leak, and must not depend on GC timing. A shared module lives as long as some
// handle to it (in any thread) or a token of it that was not received yet: each `share()` pins the
// object until one `fromShared` of it, so `postMessage(x.share())` works with nothing else kept.
// Pins of tokens never received are bounded (1,024 process-wide, the oldest released first). A
// token of a module dropped everywhere, its tokens received, fails with ERR_SHARED_GONE.
//
// As in leak.test.ts, the loops yield to the event loop now and then: Node runs N-API finalizers
// from the event loop, so a loop that never yields cannot free anything a finalizer owns. Each
// test finds the census of helpers/gc.ts (live native objects, the share registry among them, and
// the OS thread count) back at its baseline, count for count.
import test from 'ava'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import { Engine, Instance, Module, Store, liveObjects } from '../dist/index.js'
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

test.serial('a module whose only handle was in a worker outlives the worker until its token is received, then goes', async (t) => {
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
  gc()
  await settle()
  // The token pins the module: it is received here, after the worker and its handle are gone.
  t.is(liveObjects().pendingShares, base.pendingShares + 1, 'one token issued and not received yet')
  const received = (): number => fn(new Instance(new Store(), Module.fromShared(token)), 'f')() as number
  t.is(received(), 2, 'the token still works after its worker ended and a GC')
  // Received once and dropped: the module, its share-registry entry and the worker's thread are all gone.
  await assertBackToBaseline(t, base, 'after the worker ended and its token was received')
  t.is(thrownBy(() => Module.fromShared(token))?.code, 'ERR_SHARED_GONE')
})

test.serial('postMessage(new Module(...).share()): the one-liner works with a forced GC before the worker receives it', async (t) => {
  warmUp()
  const base = await baseline()
  const worker = new Worker(path.join(__dirname, 'workers', 'run-shared.mjs'))
  t.teardown(() => worker.terminate())
  const replies: Array<{ ready?: boolean; result?: number; error?: string }> = []
  let wake = () => {}
  worker.on('message', (m) => {
    replies.push(m)
    wake()
  })
  const next = async () => {
    while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve))
    return replies.shift()!
  }
  t.true((await next()).ready)
  const results: number[] = []
  for (let i = 0; i < 5; i++) {
    // The one-liner: nothing keeps the module but its token; a GC runs before the worker receives it.
    worker.postMessage(new Module(Engine.default, wat(100 + i)).share())
    gc()
    const reply = await next()
    t.is(reply.error, undefined)
    results.push(reply.result!)
  }
  await worker.terminate()
  t.deepEqual(results, [100, 101, 102, 103, 104], 'every worker ran its module')
  await assertBackToBaseline(t, base, 'after the workers received their modules and ended')
})

test.serial('tokens never received are bounded: the 1,025th unreceived token releases the oldest pin', async (t) => {
  warmUp()
  const base = await baseline()
  t.is(base.pendingShares, 0, 'no token pending at the start')
  // Nothing keeps this module but its token, the oldest.
  const first = ((n: number) => new Module(Engine.default, wat(n)).share())(7)
  let long: Module | undefined = new Module(Engine.default, wat(8))
  let longToken = long.share()
  for (let i = 1; i < 1023; i++) longToken = long.share()
  await settle()
  t.is(liveObjects().pendingShares, 1024, '1,024 tokens pending')
  t.is(liveObjects().modules, base.modules + 2, 'the first module is alive through its token alone')
  long.share()
  await settle()
  t.is(liveObjects().pendingShares, 1024, 'never more than 1,024')
  t.is(liveObjects().modules, base.modules + 1, 'the oldest pin was released, and its module with it')
  t.is(thrownBy(() => Module.fromShared(first))?.code, 'ERR_SHARED_GONE')
  // Each receive releases one pin: receiving the long-lived module's token 1,024 times drains them.
  for (let i = 0; i < 1024; i++) Module.fromShared(longToken)
  t.is(liveObjects().pendingShares, 0)
  long = undefined
  await assertBackToBaseline(t, base, 'after the pins were drained and the module dropped')
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
    // Identity through a token received at once (an unreceived token would pin the module).
    const again = handle.share()
    Module.fromShared(again)
    if (again.id !== token.id) throw new Error(`module ${i}: fromShared gave another module`)
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
