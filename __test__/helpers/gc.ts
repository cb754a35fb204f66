// Garbage collection for the leak tests: `global.gc` (turned on at run time if node was not
// started with --expose-gc), and a settle step that also lets N-API finalizers run.
import * as v8 from 'node:v8'
import * as vm from 'node:vm'

function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return g
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
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
