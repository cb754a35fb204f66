// Garbage collection for the leak tests: `global.gc` (turned on at run time if node was not
// started with --expose-gc), a settle step that also lets N-API finalizers run, and the census of
// native objects and OS threads that a leak test must find back at its baseline.
import type { ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'

import { liveObjects } from '../../dist/index.js'
import type { LiveObjects } from '../../dist/index.js'

function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return g
  v8.setFlagsFromString('--expose-gc')
  const fromContext = vm.runInNewContext('gc') as unknown
  if (typeof fromContext !== 'function') throw new Error('could not turn on global.gc (--expose-gc)')
  return fromContext as () => void
}

export const gc = exposeGc()

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Collects garbage and lets pending finalizers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc()
    await tick()
  }
  await new Promise<void>((resolve) => setTimeout(resolve, 50))
  gc()
  await tick()
}

export const rss = () => process.memoryUsage().rss

/** All OS threads of this process, the pool's included, from /proc/self/status. */
export function allOsThreads(): number {
  const m = /^Threads:\s*(\d+)\s*$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  if (!m) throw new Error('no Threads: line in /proc/self/status')
  return Number(m[1])
}

/**
 * OS threads of this process (the package's and Node's own), from /proc/self/task — except the
 * threads of the package's `callAsync` pool ("wasmtime-node-pool"): a fixed set started once per
 * process plus reused blocking threads that retire 10 s after their last job, so their number
 * follows the pool's life, not the test's loop. Work on them shows in `liveObjects().threads`.
 */
export function osThreads(): number {
  let n = 0
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (!fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('wasmtime-node-p')) n++
    } catch {
      // the thread ended while we looked
    }
  }
  return n
}

/** The package's live native objects (process-wide) and the process's OS threads. */
export type Census = LiveObjects & { osThreads: number }

export const census = (): Census => ({ ...liveObjects(), osThreads: osThreads() })

/** A settled census: the baseline a leak test compares against after its loop. */
export async function baseline(): Promise<Census> {
  await settle()
  return census()
}

const sameCensus = (a: Census, b: Census) => (Object.keys(b) as Array<keyof Census>).every((k) => a[k] === b[k])

/** Objects a test made before its baseline and still counts on: held here while a check runs. */
let _held: unknown

/**
 * Settles until the census is back at `base` (or `waitMs` passed), then asserts that every count
 * is exactly its baseline value. The waiting is for what ends on its own shortly after the work:
 * a callAsync thread after its call, an epoch ticker within one tick (1 ms) of its engine's last
 * call with a deadline (control.rs `tick_loop`), a finalizer on a later event-loop turn. A leak
 * never comes back, so waiting hides none. `keep`: what the baseline counted and the test no
 * longer uses (a module, a linker), kept alive until the check is done so that GC does not take
 * it away from the count.
 */
export async function assertBackToBaseline(t: ExecutionContext, base: Census, what: string, opts: { keep?: unknown; waitMs?: number } = {}): Promise<Census> {
  _held = opts.keep
  const t0 = performance.now()
  let now: Census
  for (;;) {
    await settle()
    now = census()
    if (sameCensus(now, base) || performance.now() - t0 > (opts.waitMs ?? 10_000)) break
  }
  t.deepEqual(now, base, `${what}: live native objects or OS threads not back at their baseline`)
  _held = undefined
  return now
}

/** `count` minus `base` for each count that differs, as `stores +3, instances +1`, or `none`. */
export function censusDelta(now: Census, base: Census): string {
  const d = (Object.keys(base) as Array<keyof Census>).filter((k) => now[k] !== base[k]).map((k) => `${k} ${now[k] - base[k] >= 0 ? '+' : ''}${now[k] - base[k]}`)
  return d.length ? d.join(', ') : 'none'
}
