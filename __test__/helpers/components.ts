// What the component tests share: the fixtures compiled once per process, a linker and an
// instance with given host functions, picking an export on either side (ours, jco's), the
// outcome of a Promise, and host.wat's host functions (sync, and made asynchronous).
import { inspect } from 'node:util'

import { Component, ComponentError, ComponentLinker, Engine, Store } from '../../dist/index.js'
import { type HostImports, type Outcome, camel, fixture, outcome } from './jco'

export type Exports = Record<string, any>
export type Fn = ((...args: any[]) => any) & { callAsync: (...args: any[]) => Promise<any> }
export type Point = { x: number; y: number }
/** A call of the oracle tables: the export, then its arguments. */
export type Case = [ref: string, ...args: unknown[]]

export const HOST_IFACE = 'acme:plugin/host@0.1.0'

export const show = (v: unknown) => inspect(v, { breakLength: Infinity, maxStringLength: 24, maxArrayLength: 6, depth: 4 })

const compiled = new Map<string, Component>()
/** A fixture compiled once per engine, from its committed binary. */
export function component(name: string, engine = Engine.default): Component {
  const key = `${name}/${engine === Engine.default ? 'default' : 'other'}`
  let c = compiled.get(key)
  if (!c) compiled.set(key, (c = new Component(engine, fixture(`${name}.wasm`))))
  return c
}

/** A linker with these host functions (root-level ones by WIT name, interfaces by full WIT name). */
export function linkerWith(imports: HostImports = {}, engine?: Engine): ComponentLinker {
  const linker = new ComponentLinker(engine)
  if (imports.root) linker.define(imports.root)
  for (const [iface, fns] of Object.entries(imports.interfaces ?? {})) linker.define(iface, fns)
  return linker
}

/** A fresh instance of a fixture on wasmtime-node: its exports. */
export function ours(name: string, imports: HostImports = {}, store = new Store()): Exports {
  return linkerWith(imports, store.engine).instantiate(store, component(name, store.engine)).exports as Exports
}

/**
 * An export: `name` (a root function, by its WIT name on our side and jco's camelCase name on
 * jco's), or `iface#name` (a function of an exported interface: camelCase on both sides).
 */
export function pick(exports: Exports, ref: string, side: 'ours' | 'jco'): Fn {
  const [iface, name] = ref.includes('#') ? (ref.split('#') as [string, string]) : [undefined, ref]
  const holder = iface === undefined ? exports : exports[iface]
  const key = iface === undefined && side === 'ours' ? name : camel(name)
  const f = holder?.[key]
  if (typeof f !== 'function') throw new Error(`${side}: export ${ref} (${key}) is not a function: ${show(f)}`)
  return f as Fn
}

/** `outcome` (helpers/jco.ts) of a promise: its value, its ComponentError payload, or what else it rejected with. */
export async function settled(p: Promise<unknown>): Promise<Outcome> {
  let v: unknown
  try {
    v = await p
  } catch (e) {
    return outcome(() => {
      throw e
    })
  }
  return outcome(() => v)
}

/** The host functions of host.wat, recording each call in `log`. */
export function hostImports(log: unknown[][]): HostImports {
  return {
    root: {
      log: (msg: string) => {
        log.push(['log', msg])
      },
      'get-greeting': (name: string) => {
        log.push(['get-greeting', name])
        return `Hello, ${name}!`
      },
    },
    interfaces: {
      [HOST_IFACE]: {
        transform: (p: Point) => {
          log.push(['transform', p])
          return { x: p.y, y: -p.x }
        },
        describe: (p: Point, label: string) => {
          log.push(['describe', p, label])
          return `${label} at (${p.x}, ${p.y})`
        },
        // result<u32, string>: a value is ok(value); a ComponentError (an error with a `payload`) is err(payload)
        lookup: (key: string) => {
          log.push(['lookup', key])
          if (key.startsWith('missing')) throw new ComponentError(`no such key: ${key}`)
          return key.length
        },
      },
    },
  }
}

/**
 * The same host functions made asynchronous: each returns a Promise that settles later (after a
 * setTimeout or a setImmediate, in turn) with what the synchronous one returns, or rejects with
 * what it throws. `promises.n` counts the Promises handed to the guest.
 */
export function asyncHost(sync: HostImports, promises = { n: 0 }): HostImports {
  let turn = 0
  const later = (f: (...a: any[]) => unknown) => (...args: unknown[]) => {
    promises.n++
    return new Promise((resolve, reject) => {
      const go = () => {
        try {
          resolve(f(...args))
        } catch (e) {
          reject(e)
        }
      }
      if (turn++ % 2 === 0) setTimeout(go, 1)
      else setImmediate(go)
    })
  }
  const each = (fns: Record<string, (...a: any[]) => unknown>) => Object.fromEntries(Object.entries(fns).map(([k, f]) => [k, later(f)]))
  return {
    root: sync.root && each(sync.root),
    interfaces: Object.fromEntries(Object.entries(sync.interfaces ?? {}).map(([k, fns]) => [k, each(fns)])),
  }
}
