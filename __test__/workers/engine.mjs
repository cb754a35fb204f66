// Test 2: Engine and Config tokens in a worker. Reports identities as share() ids (assigned once
// per native object, so equal ids mean the same native engine).
import { parentPort, workerData } from 'node:worker_threads'
import { api } from './common.mjs'

const { Config, Engine, Instance, Module, Store } = api
const { defaultToken, customToken, configToken, wat } = workerData

/** Compile `wat` with the engine given as a token and run it in a store made from the same token. */
function runOn(engineToken) {
  const store = new Store(engineToken)
  const module = new Module(engineToken, wat)
  return {
    storeEngineId: store.engine.share().id,
    moduleEngineId: module.engine.share().id,
    answer: new Instance(store, module).exports.answer(),
  }
}

parentPort.postMessage({
  type: 'result',
  defaultId: Engine.default.share().id,
  // Within one thread the default engine has one wrapper, whatever route leads to it.
  fromSharedIsDefault: Engine.fromShared(defaultToken) === Engine.default,
  customFromSharedId: Engine.fromShared(customToken).share().id,
  onDefault: runOn(defaultToken),
  onCustom: runOn(customToken),
  configOptions: Config.fromShared(configToken).options,
})
