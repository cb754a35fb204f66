// leak-share.test.ts: compiles a module, posts its token, and ends, so that the worker held the
// only handle to it.
import { parentPort, workerData } from 'node:worker_threads'
import { api } from './common.mjs'

const { Engine, Module } = api

const module = new Module(Engine.default, workerData.wat)
parentPort.postMessage({ type: 'result', token: module.share() })
