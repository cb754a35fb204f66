// component.test.ts: a worker given only a Component token (no bytes) instantiates the component
// twice (from Component.fromShared, and from the token given to the linker as is) and calls the
// exports of __test__/components/iface.wat in both, while other threads do the same.
import { parentPort, workerData } from 'node:worker_threads'
import { api, attempt, fail } from './common.mjs'

const { Component, ComponentLinker, Store } = api
const { component: token, index } = workerData

try {
  const handle = Component.fromShared(token)
  const viaHandle = new ComponentLinker().instantiate(new Store(), handle).exports
  const viaToken = new ComponentLinker().instantiate(new Store(), token).exports
  const results = []
  for (const x of [viaHandle, viaToken]) {
    results.push({
      greet: x['acme:plugin/api@0.1.0'].greet(`worker ${index}`),
      add: x.api.add(index, 40),
      version: x['plugin-version'](),
    })
  }
  parentPort.postMessage({
    type: 'result',
    exports: handle.exports,
    imports: handle.imports,
    results,
    // a token is not bytes: a typed array in its place is refused
    wrongToken: attempt(() => Component.fromShared(new Uint8Array(8))),
  })
} catch (e) {
  fail(e)
}
