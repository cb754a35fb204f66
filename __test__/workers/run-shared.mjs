// leak-share.test.ts: runs `f()` of each Module token it is sent, and posts the result (or the
// error's code), so that the test can send `new Module(...).share()` and keep nothing else.
import { parentPort } from 'node:worker_threads'
import { api } from './common.mjs'

const { Instance, Module, Store } = api

parentPort.on('message', (token) => {
  try {
    parentPort.postMessage({ result: new Instance(new Store(), Module.fromShared(token)).exports.f() })
  } catch (e) {
    parentPort.postMessage({ error: `${e?.code}: ${e?.message}` })
  }
})
parentPort.postMessage({ ready: true })
