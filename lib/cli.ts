#!/usr/bin/env node
// The `wasmtime-node` command: run a WASI program or invoke an export, precompile modules.
import { readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { Component, ComponentError, ComponentLinker, Engine, Linker, Module, Store, Trap, WasiExit, wat2wasm, type ComponentItemType, type ValType } from './index'
import { isComponentBinary } from './component'
import { native } from './native'
import { WaveError, formatValue, parseCall, parseType, type Wit } from './wave'

const RUN_HELP = `Usage: wasmtime-node run [OPTIONS] FILE [ARGS...]

Run a WebAssembly module (.wasm, .wat or a .cwasm made by \`wasmtime-node compile\`) with WASI,
or a wasi:cli/command component with WASI 0.2.
A command's _start runs with ARGS as its arguments; the guest's exit code becomes this
process's. A trap prints the message and the wasm backtrace and exits with 134.

Options:
  --invoke NAME        call the export NAME instead of _start; ARGS are its parameters
                       (after a reactor's _initialize); its results are printed, one per line.
                       Of a component, NAME is a call in WAVE, e.g. 'greet("x")' or
                       'acme:plugin/api@0.1.0#add(1, 2)', and the result is printed in WAVE
  --dir HOST[::GUEST]  give the guest the host directory HOST at GUEST (default: HOST);
                       repeatable. Nothing outside these directories is reachable
  --env NAME=VALUE     set an environment variable for the guest (repeatable);
                       --env NAME passes the host's value
  --fuel N             stop the guest (trap out_of_fuel) after N units of fuel
  --timeout MS         stop the guest (trap interrupt) after MS milliseconds
  --coredump-on-trap PATH
                       on a trap, write a core dump of the guest (memories, globals,
                       frames; the tool-conventions format) to PATH
  --profile guest[,PATH[,INTERVAL]]
                       sample the guest every INTERVAL (default 10ms; e.g. 1ms, 2) and
                       write a Firefox profile to PATH (default wasmtime-guest-profile.json),
                       also after a trap; core modules only
  --profile perfmap|jitdump
                       let perf name the guest's functions (/tmp/perf-PID.map, jit-PID.dump)
  -h, --help           print this help
`

const COMPILE_HELP = `Usage: wasmtime-node compile IN.wasm|IN.wat -o OUT.cwasm

Compile a module ahead of time. \`wasmtime-node run OUT.cwasm\` then starts without compiling.
The .cwasm is machine code for this wasmtime version, CPU and engine configuration; load it
only if you made it.

Options:
  -o, --output FILE    where to write the compiled module (default: IN with .cwasm)
  -h, --help           print this help
`

const HELP = `Usage: wasmtime-node <command> [OPTIONS]

Commands:
  run        run a WebAssembly module (see \`wasmtime-node run --help\`)
  compile    precompile a module to a .cwasm (see \`wasmtime-node compile --help\`)

Options:
  -h, --help       print this help
  -V, --version    print the version
`

/** Exit code for a trap, as `wasmtime run` (128 + SIGABRT). */
const TRAP_EXIT = 134

class UsageError extends Error {}

/** The engine of the CLI: fuel metering on, so that `--fuel` works on any module or .cwasm. */
let engine: Engine | undefined
/** `--coredump-on-trap PATH` of `run` (set before the engine is made). */
let coredumpPath: string | undefined
/** `--profile perfmap|jitdump` of `run` (set before the engine is made). */
let nativeProfiler: 'perfmap' | 'jitdump' | undefined
const cliEngine = () => (engine ??= new Engine({ consumeFuel: true, coredumpOnTrap: coredumpPath !== undefined, profiler: nativeProfiler }))

interface RunArgs {
  file: string
  args: string[]
  invoke?: string
  dirs: [string, string][]
  env: [string, string][]
  fuel?: number
  timeoutMs?: number
  /** `--profile guest[,PATH[,INTERVAL]]`. */
  guestProfile?: { path: string; intervalMs: number }
}

/** `--profile`'s value: wasmtime's syntax (`guest[,path[,interval]]`, `perfmap`, `jitdump`). */
function parseProfile(v: string, r: RunArgs): void {
  const [kind, path, interval] = v.split(',')
  if ((kind === 'perfmap' || kind === 'jitdump') && path === undefined) {
    nativeProfiler = kind
    return
  }
  if (kind !== 'guest') throw new UsageError(`--profile: expected guest[,PATH[,INTERVAL]], perfmap or jitdump, got ${v}`)
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(interval ?? '10ms')
  const intervalMs = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN
  if (!(intervalMs >= 1)) throw new UsageError(`--profile: the interval must be at least 1ms, got ${interval}`)
  r.guestProfile = { path: path || 'wasmtime-guest-profile.json', intervalMs }
}

function takeValue(argv: string[], i: number, flag: string): string {
  const v = argv[i + 1]
  if (v === undefined) throw new UsageError(`${flag} needs a value`)
  return v
}

function positiveNumber(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0 || v.trim() === '') throw new UsageError(`${flag}: not a non-negative number: ${v}`)
  return n
}

function parseRun(argv: string[]): RunArgs | null {
  const r: RunArgs = { file: '', args: [], dirs: [], env: [] }
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-h' || a === '--help') return null
    if (!a.startsWith('-') || a === '-') break
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = () => inline ?? takeValue(argv, i++, flag)
    switch (flag) {
      case '--invoke': r.invoke = value(); break
      case '--dir': {
        const v = value()
        const at = v.indexOf('::')
        r.dirs.push(at < 0 ? [v, v] : [v.slice(0, at), v.slice(at + 2)])
        break
      }
      case '--env': {
        const v = value()
        const at = v.indexOf('=')
        if (at > 0) r.env.push([v.slice(0, at), v.slice(at + 1)])
        else if (process.env[v] !== undefined) r.env.push([v, process.env[v]!])
        break
      }
      case '--fuel': r.fuel = positiveNumber(value(), flag); break
      case '--timeout': r.timeoutMs = positiveNumber(value(), flag); break
      case '--coredump-on-trap': coredumpPath = value(); break
      case '--profile': parseProfile(value(), r); break
      default: throw new UsageError(`unknown option ${a}`)
    }
  }
  if (i >= argv.length) throw new UsageError('missing FILE')
  r.file = argv[i]!
  r.args = argv.slice(i + 1)
  return r
}

const startsWith = (bytes: Buffer, magic: number[]) => bytes.subarray(0, magic.length).equals(Buffer.from(magic))
const ELF = [0x7f, 0x45, 0x4c, 0x46]
const WASM = [0, 0x61, 0x73, 0x6d]

/** A file's wasm bytes, or its text (WAT). */
const wasmOrWat = (bytes: Buffer): Buffer | string => (startsWith(bytes, WASM) ? bytes : bytes.toString('utf8'))

/** wasm, WAT, or a precompiled module (an ELF object, as wasmtime writes them). */
function loadModule(file: string): Module {
  const bytes = readFileSync(file)
  if (startsWith(bytes, ELF)) return Module.deserializeFile(cliEngine(), file, { trusted: true })
  return new Module(cliEngine(), wasmOrWat(bytes))
}

function parseArg(text: string, type: ValType): unknown {
  switch (type) {
    case 'i32': case 'f32': case 'f64': {
      const n = Number(text)
      if (text.trim() === '' || Number.isNaN(n) && !/^[+-]?nan$/i.test(text)) throw new UsageError(`not a number for a ${type} parameter: ${text}`)
      return type === 'i32' ? n | 0 : n
    }
    case 'i64':
      try {
        return BigInt.asIntN(64, BigInt(text))
      } catch {
        throw new UsageError(`not an integer for an i64 parameter: ${text}`)
      }
    default:
      throw new UsageError(`--invoke cannot pass a ${type} parameter from the command line`)
  }
}

/** The store a program runs in: WASI from the command line, fuel and timeout. */
function runStore(a: RunArgs, engine: Engine): Store {
  const store = new Store(engine, {
    wasi: {
      args: [basename(a.file), ...(a.invoke === undefined ? a.args : [])],
      env: Object.fromEntries(a.env),
      stdin: 'inherit',
      stdout: 'inherit',
      stderr: 'inherit',
      preopens: Object.fromEntries(a.dirs.map(([host, guest]) => [guest, host])),
    },
    timeoutMs: a.timeoutMs,
  })
  store.setFuel(a.fuel ?? 2n ** 64n - 1n)
  return store
}

/** The exported functions of a component, by the names `--invoke` takes: `f`, `iface#f`. */
function componentFunctions(component: Component): Map<string, { iface?: string; name: string; params: Wit[]; result: Wit | null }> {
  const out = new Map<string, { iface?: string; name: string; params: Wit[]; result: Wit | null }>()
  const add = (iface: string | undefined, name: string, t: ComponentItemType) => {
    if (t.kind !== 'func') return
    out.set(iface ? `${iface}#${name}` : name, { iface, name, params: t.params.map((p) => parseType(p.type)), result: t.result === null ? null : parseType(t.result) })
  }
  for (const e of component.exports) {
    if (e.type.kind === 'instance') for (const f of e.type.exports) add(e.name, f.name, f.type)
    else add(undefined, e.name, e.type)
  }
  return out
}

/** `--invoke 'f(args)'` of a component: arguments and the result in WAVE, as `wasmtime run` does. */
function invokeComponent(text: string, component: Component, store: Store): number {
  const funcs = componentFunctions(component)
  let call: { name: string; args: unknown[] }
  try {
    call = parseCall(text, (name) => funcs.get(name)?.params)
  } catch (e) {
    if (e instanceof WaveError) throw new UsageError(e.message)
    throw e
  }
  const f = funcs.get(call.name)!
  const exports = new ComponentLinker(component.engine).defineWasi().instantiate(store, component).exports as Record<string, unknown>
  const scope = (f.iface ? exports[f.iface] : exports) as Record<string, (...a: unknown[]) => unknown>
  let result: unknown
  try {
    result = scope[f.name]!(...call.args)
    if (f.result?.k === 'result') result = { tag: 'ok', val: result }
  } catch (e) {
    if (!(e instanceof ComponentError) || f.result?.k !== 'result') throw e
    result = { tag: 'err', val: e.payload }
  }
  if (f.result) process.stdout.write(`${formatValue(result, f.result)}\n`)
  return 0
}

/** A `wasi:cli/command` component, run with WASI 0.2 (exit code 0 when `run` returns ok, else 1), or one export `--invoke`d. */
function runComponent(a: RunArgs, component: Component): number {
  if (a.guestProfile) throw new UsageError('--profile guest runs core modules only in this version')
  const store = runStore(a, component.engine)
  try {
    if (a.invoke !== undefined) return invokeComponent(a.invoke, component, store)
    return new ComponentLinker(component.engine).defineWasi()._runCommand(store, component) ? 0 : 1
  } catch (e) {
    if (e instanceof WasiExit) return e.exitCode
    throw e
  }
}

function run(a: RunArgs): number {
  const bytes = readFileSync(a.file)
  if (isComponentBinary(bytes)) return runComponent(a, new Component(cliEngine(), bytes))
  if (startsWith(bytes, ELF) && native.NativeEngine.precompiledKind(bytes) === 'component') {
    return runComponent(a, Component.deserialize(cliEngine(), bytes, { trusted: true }))
  }
  const module = loadModule(a.file)
  const store = runStore(a, module.engine)
  const instance = new Linker(module.engine).defineWasi().instantiate(store, module)
  const exports = instance.exports as Record<string, unknown>
  if (a.guestProfile) store.startProfiling({ intervalMs: a.guestProfile.intervalMs, name: basename(a.file) })
  try {
    if (a.invoke === undefined) {
      const start = exports._start ?? exports._initialize
      if (typeof start === 'function') start()
      return 0
    }
    if (typeof exports._initialize === 'function') (exports._initialize as () => void)()
    const f = exports[a.invoke] as ((...x: unknown[]) => unknown) & { type?: { params: ValType[] } }
    if (typeof f !== 'function' || !f.type) throw new UsageError(`the module has no exported function ${JSON.stringify(a.invoke)}`)
    const params = f.type.params
    if (a.args.length !== params.length) throw new UsageError(`${a.invoke} takes ${params.length} argument(s), got ${a.args.length}`)
    const result = f(...a.args.map((t, i) => parseArg(t, params[i]!)))
    const results = Array.isArray(result) ? result : result === undefined ? [] : [result]
    for (const r of results) process.stdout.write(`${String(r)}\n`)
    return 0
  } catch (e) {
    if (e instanceof WasiExit) return e.exitCode
    throw e
  } finally {
    if (a.guestProfile) {
      writeFileSync(a.guestProfile.path, store.stopProfiling())
      process.stderr.write(`guest profile written to ${a.guestProfile.path}\n`)
    }
  }
}

function compile(argv: string[]): number | null {
  let input: string | undefined
  let output: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-h' || a === '--help') return null
    if (a === '-o' || a === '--output') output = takeValue(argv, i++, a)
    else if (a.startsWith('--output=')) output = a.slice('--output='.length)
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`)
    else if (input === undefined) input = a
    else throw new UsageError(`unexpected argument ${a}`)
  }
  if (input === undefined) throw new UsageError('missing IN file')
  const src = wasmOrWat(readFileSync(input))
  const out = output ?? input.replace(/\.(wasm|wat)$/, '') + '.cwasm'
  // A component (binary, or text that assembles to one) is precompiled as a component.
  const binary = typeof src === 'string' ? wat2wasm(src) : src
  const engine = cliEngine()
  writeFileSync(out, isComponentBinary(binary) ? engine.precompileComponent(binary) : engine.precompileModule(binary))
  return 0
}

function version(): string {
  return (JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as { version: string }).version
}

/** Run the CLI with `argv` (without node and the script); returns the exit code. */
export function main(argv: string[]): number {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'run': {
        const a = parseRun(rest)
        if (!a) return print(RUN_HELP)
        return run(a)
      }
      case 'compile': {
        const code = compile(rest)
        return code ?? print(COMPILE_HELP)
      }
      case '-V': case '--version':
        return print(`wasmtime-node ${version()}\n`)
      case '-h': case '--help': case 'help':
        return print(HELP)
      case undefined:
        // Nothing to do is a usage error (as `wasmtime` with no command): the help, on stderr.
        process.stderr.write(HELP)
        return 2
      default:
        throw new UsageError(`unknown command ${cmd}`)
    }
  } catch (e) {
    return report(e, cmd)
  }
}

function print(text: string): number {
  process.stdout.write(text)
  return 0
}

function report(e: unknown, cmd: string | undefined): number {
  if (e instanceof UsageError) {
    // The message and where the usage is, not the whole help: the error stays visible.
    const help = cmd === 'run' || cmd === 'compile' ? `wasmtime-node ${cmd} --help` : 'wasmtime-node --help'
    process.stderr.write(`error: ${e.message}\nFor usage, run \`${help}\`.\n`)
    return 2
  }
  const err = e as { message?: string; code?: string }
  process.stderr.write(`error: ${err?.message ?? String(e)}\n`)
  if (e instanceof Trap && e.coredump && coredumpPath !== undefined) {
    writeFileSync(coredumpPath, e.coredump)
    process.stderr.write(`core dump written to ${coredumpPath}\n`)
  }
  return e instanceof Trap ? TRAP_EXIT : 1
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2))
}
