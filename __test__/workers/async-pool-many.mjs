// async-pool.test.ts runs this in a child process:
//
//   node async-pool-many.mjs <count>
//
// `count` async stores, all started at once, each with one callAsync whose guest awaits an async
// host import (a 10 ms timer, then x * 2) and adds 1; each store is disposed as its call settles.
// More calls than the fiber-stack budget (16,384) wait in line for the stacks that disposed
// stores give back. Prints one JSON line `{ count, correct, wrong: [first few], errors: [first
// few], errorCount, hostCalls, peakThreads, asyncThreads, firstSettledMs,
// totalMs, live }`; a crash shows as a signal or exit code.
import * as fs from 'node:fs'
import { api, describeError } from './common.mjs'

const { Engine, Instance, Module, Store, asyncThreads, liveObjects } = api

const count = Number(process.argv[2] ?? 50_000)
const WAT = `(module
  (import "h" "twice" (func $twice (param i32) (result i32)))
  (func (export "g") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1))))`
const module = new Module(Engine.default, WAT)

const threads = () => Number(/^Threads:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
let peakThreads = threads()
const sampler = setInterval(() => (peakThreads = Math.max(peakThreads, threads())), 5)

let hostCalls = 0
const twice = (x) => {
  hostCalls++
  return new Promise((resolve) => setTimeout(() => resolve(x * 2), 10))
}

let correct = 0
let errorCount = 0
const wrong = []
const errors = []
const calls = []
for (let k = 0; k < count; k++) {
  const store = new Store(Engine.default, { async: true })
  const inst = new Instance(store, module, { h: { twice } })
  calls.push(inst.exports.g.callAsync(k).then(
    (v) => {
      if (v === 2 * k + 1) correct++
      else if (wrong.length < 10) wrong.push({ k, v })
    },
    (e) => {
      if (errorCount++ < 10) errors.push({ k, error: describeError(e) })
    },
  ).finally(() => store.dispose()))
}
// The calls start once this loop is done (callAsync hands its call to the pool on a later
// microtask): how long until the first settles (and gives its fiber stack back) is what a call
// waiting for the budget waits at least; it fails after 2 s with none released.
const dispatched = performance.now()
let firstSettledMs
for (const p of calls) p.then(() => (firstSettledMs ??= performance.now() - dispatched))
await Promise.all(calls)
const totalMs = performance.now() - dispatched
clearInterval(sampler)
console.log(JSON.stringify({ count, correct, wrong, errors, errorCount, hostCalls, peakThreads, asyncThreads: asyncThreads(), firstSettledMs, totalMs, live: liveObjects() }))
