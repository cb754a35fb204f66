// Test 4: one node of a ring of stores. A `{ token, hop }` arriving on `inPort` is received,
// checked, advanced by one `record(hop)` call and transferred to `outPort`, worker to worker,
// without the main thread relaying. `{ type: 'stop' }` on the parent port ends the worker
// (naturally, so that the test sees exit code 0) after it reports its counts.
import { parentPort, workerData } from 'node:worker_threads'
import { api, fail, guarded, readI32 } from './common.mjs'

const { Store } = api
const { name, inPort, outPort, slots } = workerData

let hops = 0
let logs = 0
let lastLogged
// Counted locally: after every hop the store must call this thread's `log`, not a previous one's.
const imports = { host: { log: (v) => { logs++; lastLogged = v } } }

/** Throws (reported as a failure, which stops the ring) when the store's state is not as expected. */
function check(cond, what) {
  if (!cond) throw new Error(`${name}: ${what}`)
}

inPort.on('message', guarded(({ token, hop }) => {
  const { store, objects } = Store.receive(token, { imports })
  // One record() per hop so far: the counters equal the hop number, and the previous hop's slot holds it.
  check(objects.count.value === hop, `count ${objects.count.value} at hop ${hop}`)
  check(readI32(objects.mem, 0) === hop, `memory counter ${readI32(objects.mem, 0)} at hop ${hop}`)
  if (hop > 0) check(readI32(objects.mem, 16 + 4 * ((hop - 1) % slots)) === hop - 1, `slot of hop ${hop - 1}`)
  const r = objects.record(hop)
  check(r === hop + 1 && lastLogged === hop + 1, `record(${hop}) returned ${r}, logged ${lastLogged}`)
  hops++
  outPort.postMessage({ token: store.transfer(objects), hop: hop + 1 })
}))

parentPort.on('message', (msg) => {
  if (msg.type !== 'stop') return fail(new Error(`unknown message ${msg.type}`))
  parentPort.postMessage({ type: 'stats', name, hops, logs })
  inPort.close()
  outPort.close()
  parentPort.unref()
})
