// Test 1: a worker given only a Module token (no bytes) instantiates the module three ways
// (handle from Module.fromShared, the token given to `new Instance`, the token given to a Linker),
// each with this worker's own host function, and runs it.
import { parentPort, workerData } from 'node:worker_threads'
import { api, native } from './common.mjs'

const { Engine, Instance, Linker, Module, Store } = api
const { module: token, index, arg } = workerData

// Distinct per worker, so that the test can tell whose host function ran.
const mix = (x) => x + 1000 * (index + 1)

const countBefore = native.compileCount()
const handle = Module.fromShared(token)
const viaHandle = new Instance(new Store(), handle, { env: { mix } }).exports.run(arg)
const viaToken = new Instance(new Store(), token, { env: { mix } }).exports.run(arg)
const linker = new Linker().func('env', 'mix', { params: ['i32'], results: ['i32'] }, mix)
const viaLinker = linker.instantiate(new Store(), token).exports.run(arg)

parentPort.postMessage({
  type: 'result',
  sameId: handle.share().id === token.id,
  moduleEngineId: handle.engine.share().id,
  exports: handle.exports,
  results: [viaHandle, viaToken, viaLinker],
  compileCountBefore: countBefore,
  compileCountAfter: native.compileCount(),
  defaultEngineId: Engine.default.share().id,
})
