// jco (@bytecodealliance/jco, a devDependency pinned to one version) as the independent oracle of
// the component tests: it transpiles a component into JS + core wasm that runs on V8's own
// WebAssembly, with the canonical ABI's lifting and lowering done in its generated JS. The
// component tests run the same fixture, with the same host functions and the same arguments, on
// wasmtime-node and on jco, and compare what comes out: the expected values owe nothing to our code.
//
// jco is ESM; these helpers load it (and the JS it generates) with a dynamic import().
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

/** The fixtures: NAME.wat, its committed build NAME.wasm, and the WASI commands P.command.wasm. */
export const COMPONENTS = path.resolve(__dirname, '..', 'components')

/** The committed bytes of a fixture (`scalars.wasm`, `argsenv.command.wasm`…). */
export function fixture(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(COMPONENTS, file)))
}

/** The part of jco's JS API (its ESM entry point, dist/api.js) that the tests use. */
export interface JcoApi {
  transpile(component: Uint8Array, opts?: { name?: string; instantiation?: 'async' | 'sync'; noTypescript?: boolean; quiet?: boolean }): Promise<{
    files: Record<string, Uint8Array>
    imports: string[]
    exports: [string, 'function' | 'instance'][]
  }>
  /** wasm-tools component new: a core module + adapters → a component. */
  componentNew(bytes: Uint8Array, adapters?: Array<[string, Uint8Array]>): Promise<Uint8Array>
  componentWit(bytes: Uint8Array): Promise<string>
  /** wasm-tools print: a module or component as text. */
  print(bytes: Uint8Array): Promise<string>
  /** The WASI preview-1 → 0.2 command adapter that jco bundles (`jco new --wasi-command`). */
  preview1AdapterCommandPath(): URL
}
let jcoApi: Promise<JcoApi> | undefined
/** jco's JS API. */
export const jco = (): Promise<JcoApi> => (jcoApi ??= import('@bytecodealliance/jco') as unknown as Promise<JcoApi>)

/** jco's name for a WIT identifier in JS: kebab-case to lowerCamelCase (`max-depth` → `maxDepth`). */
export const camel = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Host functions as the tests give them to `ComponentLinker.define`: root-level imports by WIT
 * name, and imported interfaces by full WIT name, each an object of functions keyed by WIT name.
 */
export interface HostImports {
  root?: Record<string, (...args: any[]) => unknown>
  interfaces?: Record<string, Record<string, (...args: any[]) => unknown>>
}

/**
 * The same host functions as jco's `instantiate` wants them: a root function import `name` as
 * `{ [name]: { default: fn } }`, an interface as `{ [fullName]: { camelCaseName: fn } }`. jco 1.35's
 * generated code reads an interface under its name *without* the version (`acme:plugin/host`),
 * although its .d.ts types it with the version: both keys are given.
 */
export function jcoImports(h: HostImports): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, fn] of Object.entries(h.root ?? {})) out[name] = { default: fn }
  for (const [iface, fns] of Object.entries(h.interfaces ?? {})) {
    const obj = Object.fromEntries(Object.entries(fns).map(([k, f]) => [camel(k), f]))
    out[iface] = obj
    out[iface.replace(/@[^@/]*$/, '')] = obj
  }
  return out
}

interface Transpiled {
  dir: string
  instantiate: (getCoreModule: (p: string) => WebAssembly.Module, imports: Record<string, unknown>) => Promise<Record<string, any>>
}

let tmpRoot: string | undefined
const transpiled = new Map<string, Promise<Transpiled>>()

/** The jco transpilation of a fixture (done once per fixture and process, into a temporary directory). */
export function transpiledFixture(name: string): Promise<Transpiled> {
  let p = transpiled.get(name)
  if (!p) {
    p = (async () => {
      const { transpile } = await jco()
      if (!tmpRoot) {
        tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-jco-'))
        const root = tmpRoot
        process.once('exit', () => fs.rmSync(root, { recursive: true, force: true }))
      }
      const dir = path.join(tmpRoot, name)
      // `instantiation: 'async'`: an `instantiate(getCoreModule, imports)` function instead of
      // an ES module with static imports, so each test gets a fresh instance with its own imports.
      const { files } = await transpile(fixture(`${name}.wasm`), { name, instantiation: 'async', noTypescript: true, quiet: true })
      for (const [file, bytes] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
        fs.writeFileSync(path.join(dir, file), bytes)
      }
      const mod = (await import(pathToFileURL(path.join(dir, `${name}.js`)).href)) as Pick<Transpiled, 'instantiate'>
      return { dir, instantiate: mod.instantiate }
    })()
    transpiled.set(name, p)
  }
  return p
}

/** A fresh jco instance of a fixture (its exports object: root functions camelCase, interfaces by name). */
export async function jcoInstance(name: string, imports: HostImports = {}): Promise<Record<string, any>> {
  const { dir, instantiate } = await transpiledFixture(name)
  return instantiate((file) => new WebAssembly.Module(fs.readFileSync(path.join(dir, file))), jcoImports(imports))
}

/** What a call did, comparable across the two implementations. */
export type Outcome = { value: unknown } | { componentError: unknown } | { threw: string }

/**
 * Runs `f`: its value (with own properties whose value is `undefined` dropped, so that `{ tag }`
 * and `{ tag, val: undefined }` compare equal here: the exact shape has its own tests), or the
 * payload of the `ComponentError` it threw (jco's or ours, told apart by class name), or the name
 * and message of anything else it threw.
 */
export function outcome(f: () => unknown): Outcome {
  try {
    return { value: dropUndefined(f()) }
  } catch (e) {
    if (e instanceof Error && e.constructor.name === 'ComponentError') return { componentError: dropUndefined((e as { payload?: unknown }).payload) }
    return { threw: e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-error: ${String(e)}` }
  }
}

function dropUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropUndefined)
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = dropUndefined(x)
  return out
}
