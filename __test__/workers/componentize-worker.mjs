// componentize.test.ts: a worker given only a Component token (the componentize-js guest compiled
// in the main thread) gets a handle with Component.fromShared, instantiates it with its own host
// log, and calls the exports; it posts the results and the lines the guest logged.
import { parentPort, workerData } from 'node:worker_threads'
import { api, fail } from './common.mjs'

const { Component, ComponentLinker, Store } = api
const { component: token, index, text } = workerData

try {
  const handle = Component.fromShared(token)
  const log = []
  const x = new ComponentLinker().define('acme:guest/host', { log: (msg) => void log.push(msg) }).instantiate(new Store(), handle).exports.process
  parentPort.postMessage({
    type: 'result',
    results: {
      wordCount: x.wordCount(text),
      reverse: x.reverse(text),
      wordFrequencies: x.wordFrequencies(text, 3),
      transformJson: x.transformJson(JSON.stringify({ worker: index, text })),
      fib: x.fib(80 + index),
      served: x.served(),
    },
    log,
  })
} catch (e) {
  fail(e)
}
