// Test 3: one stop of a store's journey. On `{ op: 'hop', token, calls, probeMissing, setData }`
// the worker receives the store with its own host functions (whose effects name this worker),
// runs `inc` `calls` times, then transfers the store on and reports everything it saw.
import { parentPort, workerData } from 'node:worker_threads'
import { api, attempt, codeOf, guarded, readI32 } from './common.mjs'

const { Store, Instance, Memory, Global, Table, MovedExternRef } = api
const { name, tag } = workerData

// This worker's host functions: `log` tells the test which thread ran it.
const log = (value) => parentPort.postMessage({ type: 'log', from: name, value })
const plus1 = (x) => x + tag
const imports = { host: { log }, util: { plus1 } }

/** The wasm state the test checks at every hop. */
const state = (o) => ({
  count: o.count.value,
  memCounter: readI32(o.mem, 0),
  ref0: o.refs.get(0),
  // The placeholder is this thread's exported MovedExternRef; anything else is posted back as is.
  ref1: o.refs.get(1) === MovedExternRef ? 'MovedExternRef' : o.refs.get(1),
  tableSize: o.refs.size(),
})

/** `store.data` as posted back (it arrived by structured clone, so it can be posted again). */
const describeData = (d) => (d === MovedExternRef ? 'MovedExternRef' : d)

parentPort.on('message', guarded((msg) => {
  if (msg.op !== 'hop') throw new Error(`unknown op ${msg.op}`)
  const out = { type: 'hopped' }
  if (msg.probeMissing) {
    // Both must fail without consuming the token: the receive below uses it.
    out.missing = [
      attempt(() => Store.receive(msg.token, {})),
      attempt(() => Store.receive(msg.token, { imports: { host: { log } } })),
    ]
  }
  const { store, objects } = Store.receive(msg.token, { imports })
  out.data = describeData(store.data)
  out.doubleReceive = attempt(() => Store.receive(msg.token, { imports }))
  out.kinds = {
    store: store instanceof Store,
    inst: objects.inst instanceof Instance,
    mem: objects.mem instanceof Memory,
    count: objects.count instanceof Global,
    refs: objects.refs instanceof Table,
    inc: typeof objects.inc === 'function',
    plus: typeof objects.plus === 'function',
  }
  out.before = state(objects)
  out.results = []
  for (let i = 0; i < msg.calls; i++) out.results.push(objects.inc())
  // The instance's own exports are live too, and share the state with the named objects.
  out.viaInstanceCount = objects.inst.exports.count.value
  out.plus = objects.plus(1)
  out.after = state(objects)
  if ('setData' in msg) store.data = msg.setData === '$object' ? { some: 'object' } : msg.setData

  const buffer = objects.mem.buffer
  out.bufferLengthBefore = buffer.byteLength
  out.token = store.transfer(objects)
  out.afterMove = {
    bufferLength: buffer.byteLength,
    inc: codeOf(() => objects.inc()),
    instInc: codeOf(() => objects.inst.exports.inc()),
    memRead: codeOf(() => objects.mem.read(0, 4)),
    memBuffer: codeOf(() => objects.mem.buffer),
    count: codeOf(() => objects.count.value),
    refs: codeOf(() => objects.refs.get(0)),
    plus: codeOf(() => objects.plus(1)),
    transferAgain: codeOf(() => store.transfer()),
  }
  parentPort.postMessage(out)
}))
