// Assertions shared by the execution-control and async tests.
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
