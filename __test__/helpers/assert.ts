// Assertions shared by the tests: what a call throws or rejects with, error class + code, traps, and
// the latency bounds of timeouts and interrupts.
import type { ExecutionContext } from 'ava'
import { Trap } from '../../dist/index.js'

/** What `f` throws, or fails the test when it returns. */
export function thrown(t: ExecutionContext, f: () => unknown, what: string): unknown {
  try {
    const v = f()
    t.fail(`${what}: expected a throw, got ${String(v)}`)
    return undefined
  } catch (e) {
    return e
  }
}

/** The rejection of `p`, or fails the test when it resolves. */
export async function rejection(t: ExecutionContext, p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    const v = await p
    t.fail(`${what}: expected a rejection, got ${String(v)}`)
    return undefined
  } catch (e) {
    return e
  }
}

export function assertTrap(t: ExecutionContext, e: unknown, trapCode: string, what: string): void {
  t.true(e instanceof Trap, `${what}: expected a Trap, got ${String(e)}`)
  t.is((e as Trap).code, 'ERR_WASM_TRAP', what)
  t.is((e as Trap).trapCode, trapCode, `${what}: trapCode`)
}

/** `e` is an instance of `cls` with this exact `code` (and message fragment, when given). */
export function assertError(t: ExecutionContext, e: unknown, cls: abstract new (...args: never[]) => Error, code: string, what: string, fragment?: string): void {
  t.true(e instanceof cls, `${what}: expected a ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
  t.is((e as { code?: unknown })?.code, code, `${what}: code (${String((e as Error)?.message)})`)
  if (fragment !== undefined) t.true(String((e as Error)?.message).includes(fragment), `${what}: message ${JSON.stringify((e as Error)?.message)} should contain ${JSON.stringify(fragment)}`)
}

// ---------------------------------------------------------------------------------------------
// Latency that matters: a timeout firing, an interrupt landing. The bounds are slack that a busy
// 2-core CI machine holds; they catch a stop mechanism that is late by a lot, not one that is slow.
// ---------------------------------------------------------------------------------------------

/** How late a `timeoutMs` may fire. */
export const TIMEOUT_SLACK_MS = 500
/** How long after an interrupt (interrupt(), an abort, worker.terminate()) the call may take to stop. */
export const INTERRUPT_BOUND_MS = 1000
/** The epoch ticker's period (TICK in the crate): a timer's own granularity, for the lower bound. */
const TICK_MS = 1

/** Milliseconds since the epoch, sub-millisecond, comparable between the threads of the process. */
export const now = (): number => performance.timeOrigin + performance.now()

/** A call that a `timeoutMs` stopped `elapsedMs` after it was made: not early, and late by at most the slack. */
export function assertTimeoutFired(t: ExecutionContext, elapsedMs: number, timeoutMs: number, what: string): void {
  t.log(`${what}: stopped ${elapsedMs.toFixed(1)} ms after the call (timeoutMs ${timeoutMs}, bound ${timeoutMs + TIMEOUT_SLACK_MS})`)
  t.true(elapsedMs >= timeoutMs - TICK_MS, `${what}: stopped ${elapsedMs.toFixed(1)} ms after the call, before its timeoutMs ${timeoutMs}`)
  t.true(elapsedMs <= timeoutMs + TIMEOUT_SLACK_MS, `${what}: stopped ${elapsedMs.toFixed(1)} ms after the call: more than ${TIMEOUT_SLACK_MS} ms past its timeoutMs ${timeoutMs}`)
}

/** An interrupt that landed `ms` after it was issued (measured across threads with `now()`). */
export function assertInterruptLatency(t: ExecutionContext, ms: number, what: string, measured = 'from the interrupt to the stop'): void {
  t.log(`${what}: ${ms.toFixed(3)} ms ${measured} (bound ${INTERRUPT_BOUND_MS} ms)`)
  t.true(ms <= INTERRUPT_BOUND_MS, `${what}: ${ms.toFixed(1)} ms ${measured} (bound ${INTERRUPT_BOUND_MS} ms)`)
}

/** What `f` throws (failing the test when it returns), and how long it ran. */
export function timedThrow(t: ExecutionContext, f: () => unknown, what: string): { e: unknown; ms: number } {
  const t0 = performance.now()
  const e = thrown(t, f, what)
  return { e, ms: performance.now() - t0 }
}

/** The rejection of the promise `start()` returns (failing the test when it resolves), and how long after `start` it came. */
export async function timedRejection(t: ExecutionContext, start: () => Promise<unknown>, what: string): Promise<{ e: unknown; ms: number }> {
  const t0 = performance.now()
  const e = await rejection(t, start(), what)
  return { e, ms: performance.now() - t0 }
}
