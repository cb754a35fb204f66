// The examples run as a user runs them (`node examples/<file>.mjs`), and print what they should.
// The expected output is computed here, in plain JS, from the requests — not copied from a run.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

const ROOT = path.resolve(__dirname, '..')

function runExample(file: string) {
  return spawnSync(process.execPath, [path.join(ROOT, 'examples', file)], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 })
}

test('examples/plugin-host.mjs: one InstancePre, caller context, a store per request; the spinning and the oversized requests are stopped, the next one served', (t) => {
  // The example's requests, and what its guest does with one: log it, upper-case its ASCII
  // letters (UTF-8 bytes of other characters pass unchanged), respond with that, log "done".
  const requests = ['hello, world', 'héllo, wörld — ünïcode passes through', '!spin', 'x'.repeat(2 << 20), 'still serving after that']
  const expected = requests.map((request, i) => {
    const shown = request.length > 40 ? `<${request.length} chars>` : JSON.stringify(request)
    let outcome: string
    if (request.startsWith('!')) {
      // Loops forever after logging the request: the store's 100 ms timeout interrupts it.
      outcome = `stopped: Trap ERR_WASM_TRAP interrupt (logs: ${request})`
    } else if (Buffer.byteLength(request) + 1024 > 1 << 20) {
      // Its bump allocator (from offset 1024) cannot grow memory past the store's 1 MiB limit.
      outcome = 'refused: WasmtimeError ERR_GUEST_ALLOC'
    } else {
      const response = request.replace(/[a-z]/g, (c) => c.toUpperCase())
      const changed = (request.match(/[a-z]/g) ?? []).length
      outcome = `ok ${JSON.stringify(response)} (${changed} letters changed; logs: ${request} | done)`
    }
    return `#${i + 1} ${shown}: ${outcome}`
  })
  const r = runExample('plugin-host.mjs')
  t.is(r.error, undefined)
  t.is(r.stderr, '')
  t.is(r.status, 0)
  t.deepEqual(r.stdout.split('\n').filter((l) => l !== ''), expected)
})

test('examples/shared-memory.mjs: two workers sum 1..N over one SharedMemory (wait/notify between threads), and growth by wasm is seen', (t) => {
  const N = 16_000 // the example's N
  const r = runExample('shared-memory.mjs')
  t.is(r.error, undefined)
  t.is(r.stderr, '')
  t.is(r.status, 0)
  t.deepEqual(r.stdout.trim().split('\n'), [`2 workers summed 1..${N} in one SharedMemory: ${(N * (N + 1)) / 2}`, 'grown by wasm: 1 → 2 pages'])
})
