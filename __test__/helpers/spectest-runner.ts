// Runs the commands of one spec testsuite script through wasmtime-node's public API, the way
// the reference interpreter runs a .wast file: one Store for the whole script (so registered
// instances can be imported by later modules and the `spectest` objects are shared), a
// "current" instance, named instances, and registered import namespaces.

import * as fs from 'node:fs'
import * as path from 'node:path'
 
import { CompileError, Engine, Exception, Global, Instance, LinkError, Memory, Module, Store, Table, Trap } from '../../dist/index.js'

/** The suite is Wasm 2.0's: wasmtime enables Wasm 3.0 proposals by default (GC: constant
 *  expressions may read locally defined globals; multi-memory), which 2.0's assert_invalid forbids.
 */
const SPEC_ENGINE = new Engine({ features: { gc: false, multiMemory: false } })
import type { Imports, TrapCode } from '../../dist/index.js'
import type {
  ActionCommand, ModuleAssertion, ModuleCommand, OtherCommand, RegisterCommand, SpecAction, SpecCommand,
} from './spectest-script'
import {
  ExternRefs, NAN_PAYLOAD_SKIP, UnsupportedValue, checkValue, describeError, describeGot, describeValue,
  describeValues, isSignallingNaN, resultList, toJsArg,
} from './spectest-values'

export interface Failure {
  readonly line: number
  readonly command: string
  /** the export called (with its arguments) or the module file */
  readonly field: string
  readonly expected: string
  readonly got: string
}

export type Outcome =
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly failure: Failure }
  | { readonly kind: 'skip'; readonly reason: string }

/** Assertions of the Wasm 2.0 suite that wasmtime's *default* configuration deliberately no
 *  longer satisfies, because it enables a later (Wasm 3.0) proposal by default. Applied only
 *  when the assertion actually fails, and counted as a skip with this reason. */
const LATER_PROPOSALS: readonly { command: string; text: string; reason: string }[] = [
  {
    command: 'assert_invalid',
    text: 'multiple memories',
    reason: 'multi-memory (Wasm 3.0) is on by default in wasmtime: a second memory is valid',
  },
]

/** The spec's trap texts (assert_trap / assert_exhaustion / assert_uninstantiable) → the
 *  `trapCode` wasmtime reports for that cause. Every text of the suite must be here: a text
 *  that is not is a runner failure ("unmapped trap text"), so a new data set cannot quietly
 *  degrade to "any Trap". The spec's two texts for an index past a table's end ("undefined
 *  element" from call_indirect, "out of bounds table access" from table.*) are one cause, and
 *  wasmtime gives both table_out_of_bounds. */
const TRAP_CODES: Readonly<Record<string, TrapCode>> = {
  'unreachable': 'unreachable',
  'integer divide by zero': 'integer_division_by_zero',
  // i32/i64.div_s of MIN by -1, and trunc of a float outside the integer's range
  'integer overflow': 'integer_overflow',
  // trunc of a NaN
  'invalid conversion to integer': 'bad_conversion_to_integer',
  // loads/stores, memory.fill/copy/init, and active data segments at instantiation
  'out of bounds memory access': 'memory_out_of_bounds',
  // table.get/set/fill/copy/init, and active element segments at instantiation
  'out of bounds table access': 'table_out_of_bounds',
  // call_indirect with an index past the table's end
  'undefined element': 'table_out_of_bounds',
  // call_indirect to a null entry (bulk.wast spells one with the element index)
  'uninitialized element': 'indirect_call_to_null',
  'uninitialized element 2': 'indirect_call_to_null',
  // call_indirect to a function of another type
  'indirect call type mismatch': 'bad_signature',
  'call stack exhausted': 'stack_overflow',
}

/** Ends a command as a failure; thrown from anywhere inside a command handler. */
class Failed extends Error {
  constructor(readonly field: string, readonly expected: string, readonly got: string) { super(got) }
}

/** Ends a command as a documented skip. */
class Skipped extends Error {
  constructor(readonly reason: string) { super(reason) }
}

type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }

/** Runs `fn`, turning a throw into a value, so that only the package call sits inside the try. */
function attempt<T>(fn: () => T): Attempt<T> {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** Says what was thrown instead of an instance of the package's error class `cls`; explicit,
 *  because a foreign error may carry the same name (e.g. WebAssembly.LinkError). */
function notAn(cls: { readonly name: string }, error: unknown): string {
  return `threw ${describeError(error)} (not an instance of wasmtime-node's ${cls.name})`
}

type Exports = Instance['exports']

/** An instantiated module, or why it is not one (so later commands using it fail too). */
type Slot = { readonly line: number; readonly exports: Exports } | { readonly line: number; readonly error: string }

/** The `spectest` host module of the README: print functions, globals 666 / 666.6,
 *  a funcref table 10..20 and a memory 1..2 pages. */
function createSpectest(store: Store): Imports[string] {
  // One plain function per import: each takes its type from the importing declaration, and
  // distinct objects keep that true even if the package caches a Func per JS function.
  const noop = (): (() => void) => () => undefined
  return {
    print: noop(),
    print_i32: noop(),
    print_i64: noop(),
    print_f32: noop(),
    print_f64: noop(),
    print_i32_f32: noop(),
    print_f64_f64: noop(),
    global_i32: new Global(store, { value: 'i32', mutable: false }, 666),
    global_i64: new Global(store, { value: 'i64', mutable: false }, 666n),
    global_f32: new Global(store, { value: 'f32', mutable: false }, 666.6),
    global_f64: new Global(store, { value: 'f64', mutable: false }, 666.6),
    table: new Table(store, { element: 'funcref', minimum: 10, maximum: 20 }, null),
    memory: new Memory(store, { minimum: 1, maximum: 2 }),
  }
}

const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)

/** How a failure names an action: `$M."f"(i32:1, f32:…)` or `get "g"`. */
function describeAction(a: SpecAction): string {
  const where = a.module === undefined ? '' : `${a.module}.`
  if (a.type === 'get') return `get ${where}${JSON.stringify(a.field)}`
  return truncate(`${where}${JSON.stringify(a.field)}(${(a.args ?? []).map(describeValue).join(', ')})`, 240)
}

export class ScriptRunner {
  private readonly store = new Store(SPEC_ENGINE)
  private readonly externs = new ExternRefs()
  private readonly named = new Map<string, Slot>()
  private readonly registered = new Map<string, Exports>()
  private current: Slot | undefined
  private spectestObjects: Imports[string] | undefined

  /** @param dir where the script's module files (`NAME.N.wasm` / `.wat`) are */
  constructor(private readonly dir: string) {}

  /** Runs one command; never throws. */
  run(cmd: SpecCommand | OtherCommand): Outcome {
    try {
      this.dispatch(cmd as SpecCommand)
      return { kind: 'pass' }
    } catch (e) {
      if (e instanceof Skipped) return { kind: 'skip', reason: e.reason }
      if (e instanceof UnsupportedValue) return { kind: 'skip', reason: `no JS spelling for ${e.message}` }
      if (e instanceof Failed) return { kind: 'fail', failure: { line: cmd.line, command: cmd.type, field: e.field, expected: e.expected, got: e.got } }
      // Not an outcome of the command itself: a bug in this runner, or a package call that
      // threw where none was expected (e.g. reading `instance.exports`).
      return { kind: 'fail', failure: { line: cmd.line, command: cmd.type, field: '(runner)', expected: 'no exception', got: describeError(e) } }
    }
  }

  /** Frees the store; returns what went wrong, if anything. */
  dispose(): string | undefined {
    const r = attempt(() => this.store.dispose())
    return r.ok ? undefined : describeError(r.error)
  }

  private dispatch(cmd: SpecCommand): void {
    switch (cmd.type) {
      case 'module': return this.module(cmd)
      case 'register': return this.register(cmd)
      case 'action': return this.action(cmd)
      case 'assert_return': return this.assertReturn(cmd)
      case 'assert_trap':
      case 'assert_exhaustion': return this.assertTrap(cmd)
      case 'assert_exception': return this.assertException(cmd)
      case 'assert_invalid':
      case 'assert_malformed': return this.assertNotCompiling(cmd)
      case 'assert_unlinkable': return this.assertNotInstantiating(cmd, LinkError)
      case 'assert_uninstantiable': return this.assertNotInstantiating(cmd, Trap)
      default: throw new Skipped(`command type ${(cmd as OtherCommand).type} is not handled by this runner`)
    }
  }

  // ---------- modules ----------

  private module(cmd: ModuleCommand): void {
    if (cmd.module_type === 'text') throw new Skipped('text-format module (module_type text)')
    const slot = this.instantiate(cmd.line, cmd.filename)
    this.current = slot
    if (cmd.name !== undefined) this.named.set(cmd.name, slot)
    if ('error' in slot) throw new Failed(cmd.filename, 'compiles and instantiates', slot.error)
  }

  private register(cmd: RegisterCommand): void {
    const field = `register ${cmd.name ?? '(current)'} as ${JSON.stringify(cmd.as)}`
    this.registered.set(cmd.as, this.exportsOf(cmd.name, field))
  }

  /** assert_invalid / assert_malformed: compiling must throw CompileError. */
  private assertNotCompiling(cmd: ModuleAssertion): void {
    if (cmd.module_type === 'text') throw new Skipped(`text-format parser case (${cmd.type} with module_type text)`)
    const expected = `CompileError (${JSON.stringify(cmd.text)})`
    const compiled = this.compile(cmd.filename)
    if (compiled.ok) {
      const later = LATER_PROPOSALS.find(p => p.command === cmd.type && p.text === cmd.text)
      if (later) throw new Skipped(later.reason)
      throw new Failed(cmd.filename, expected, 'compiled')
    }
    if (!(compiled.error instanceof CompileError)) throw new Failed(cmd.filename, expected, notAn(CompileError, compiled.error))
  }

  /** assert_unlinkable (LinkError) / assert_uninstantiable (Trap with the text's trapCode): the
   *  module compiles, and `new Instance` throws that. */
  private assertNotInstantiating(cmd: ModuleAssertion, errorClass: typeof LinkError | typeof Trap): void {
    if (cmd.module_type === 'text') throw new Skipped(`text-format module (${cmd.type} with module_type text)`)
    const trapCode = errorClass === Trap ? expectedTrapCode(cmd.filename, cmd.text) : undefined
    const expected = `${errorClass.name}${trapCode === undefined ? '' : ` ${trapCode}`} (${JSON.stringify(cmd.text)})`
    const compiled = this.compile(cmd.filename)
    if (!compiled.ok) throw new Failed(cmd.filename, expected, `did not compile: ${describeError(compiled.error)}`)
    const imports = this.imports(cmd.filename)
    const instantiated = attempt(() => new Instance(this.store, compiled.value, imports))
    if (instantiated.ok) throw new Failed(cmd.filename, expected, 'instantiated')
    const error = instantiated.error
    if (!(error instanceof errorClass)) throw new Failed(cmd.filename, expected, notAn(errorClass, error))
    if (trapCode !== undefined && (error as Trap).trapCode !== trapCode) throw new Failed(cmd.filename, expected, `threw ${describeError(error)}`)
  }

  private instantiate(line: number, filename: string): Slot {
    const compiled = this.compile(filename)
    if (!compiled.ok) return { line, error: `compile: ${describeError(compiled.error)}` }
    const imports = this.imports(filename)
    const instance = attempt(() => new Instance(this.store, compiled.value, imports))
    if (!instance.ok) return { line, error: `instantiate: ${describeError(instance.error)}` }
    const exports = attempt(() => instance.value.exports)
    if (!exports.ok) return { line, error: `instance.exports: ${describeError(exports.error)}` }
    return { line, exports: exports.value }
  }

  private compile(filename: string): Attempt<Module> {
    const file = path.join(this.dir, filename)
    // `.wat` files are text (the API compiles a string as WAT); `.wasm` bytes are handed over
    // as a plain Uint8Array (a copy, not Node's Buffer) as a user would pass them.
    const source = filename.endsWith('.wat') ? fs.readFileSync(file, 'utf8') : new Uint8Array(fs.readFileSync(file))
    return attempt(() => new Module(SPEC_ENGINE, source))
  }

  /** Like WebAssembly.instantiate's import object: `spectest` plus every registered name and
   *  nothing else, so an import from an unregistered module name must fail to link. */
  private imports(filename: string): Imports {
    const imports: Imports = { spectest: this.spectest(filename) }
    for (const [name, exports] of this.registered) imports[name] = exports
    return imports
  }

  private spectest(filename: string): Imports[string] {
    if (this.spectestObjects === undefined) {
      const made = attempt(() => createSpectest(this.store))
      if (!made.ok) throw new Failed(filename, 'the spectest host objects to be created', describeError(made.error))
      this.spectestObjects = made.value
    }
    return this.spectestObjects
  }

  /** The exports of the named (or current) instance; fails the command if there is none. */
  private exportsOf(name: string | undefined, field: string): Exports {
    const slot = name === undefined ? this.current : this.named.get(name)
    if (slot === undefined) throw new Failed(field, 'an instance', name === undefined ? 'no module yet' : `no module named ${name}`)
    if ('error' in slot) throw new Failed(field, 'an instance', `the module at line ${slot.line} failed`)
    return slot.exports
  }

  // ---------- actions ----------

  /** Invokes an export or reads an exported global. Lookup problems fail the command; only the
   *  call itself is captured, so assertions can examine what it returned or threw. */
  private perform(action: SpecAction): Attempt<unknown> {
    const field = describeAction(action)
    const item = this.exportsOf(action.module, field)[action.field]
    if (action.type === 'get') {
      if (!(item instanceof Global)) throw new Failed(field, 'an exported Global', describeGot(item))
      return attempt(() => item.value)
    }
    if (typeof item !== 'function') throw new Failed(field, 'an exported function', describeGot(item))
    const args = (action.args ?? []).map(a => toJsArg(a, this.externs))
    return attempt(() => item(...args))
  }

  /** `action`: must complete (its results are not checked: wast2json lists only their types). */
  private action(cmd: ActionCommand): void {
    const result = this.perform(cmd.action)
    if (!result.ok) throw new Failed(describeAction(cmd.action), 'to return', `threw ${describeError(result.error)}`)
  }

  private assertReturn(cmd: ActionCommand): void {
    const field = describeAction(cmd.action)
    const expectedValues = cmd.expected ?? []
    const expected = describeValues(expectedValues)
    const result = this.perform(cmd.action)
    if (!result.ok) throw new Failed(field, expected, `threw ${describeError(result.error)}`)
    const list = resultList(result.value, expectedValues.length)
    if (typeof list === 'string') throw new Failed(field, expected, `${describeGot(result.value)} (${list})`)
    const wrong = expectedValues
      .map((v, i) => ({ i, check: checkValue(v, list[i], this.externs) }))
      .flatMap(({ i, check }) => (check.ok ? [] : [{ i, ...check }]))
    if (wrong.length === 0) return
    // A quieted NaN is a limit of carrying f32/f64 in JS numbers (README), not an engine bug:
    // either the expected signalling NaN came back quieted, or a signalling NaN argument was
    // (possibly) quieted on the way in, so the wasm code never saw the spec's input.
    if (wrong.every(w => w.nanPayloadOnly)) throw new Skipped(NAN_PAYLOAD_SKIP.result)
    if ((cmd.action.args ?? []).some(isSignallingNaN)) throw new Skipped(NAN_PAYLOAD_SKIP.argument)
    const why = wrong.map(w => (list.length > 1 ? `result ${w.i}: ${w.why}` : w.why)).join('; ')
    throw new Failed(field, expected, `${describeGot(result.value)} (${why})`)
  }

  private assertException(cmd: ActionCommand): void {
    assertExceptionThrown(describeAction(cmd.action), this.perform(cmd.action))
  }

  /** assert_trap / assert_exhaustion: a Trap whose trapCode is the one TRAP_CODES maps the
   *  spec's text to (assert_exhaustion's text maps to 'stack_overflow'). */
  private assertTrap(cmd: ActionCommand): void {
    const field = describeAction(cmd.action)
    const trapCode = expectedTrapCode(field, cmd.text)
    const expected = `Trap ${trapCode} (${JSON.stringify(cmd.text)})`
    const result = this.perform(cmd.action)
    if (result.ok) throw new Failed(field, expected, `returned ${describeGot(result.value)}`)
    const error = result.error
    if (!(error instanceof Trap)) throw new Failed(field, expected, notAn(Trap, error))
    if (error.trapCode !== trapCode) throw new Failed(field, expected, `threw ${describeError(error)}`)
  }
}

/** assert_exception (Wasm 3.0 scripts): the action must throw a wasm exception to its caller. */
function assertExceptionThrown(field: string, result: Attempt<unknown>): void {
  const expected = 'an uncaught wasm exception (Exception)'
  if (result.ok) throw new Failed(field, expected, `returned ${describeGot(result.value)}`)
  if (!(result.error instanceof Exception)) throw new Failed(field, expected, `threw ${describeError(result.error)}`)
}

/** The trapCode for a spec trap text; a text missing from TRAP_CODES fails the command. */
function expectedTrapCode(field: string, text: string | undefined): TrapCode {
  // hasOwn: a text like "constructor" must not find Object.prototype's members
  const code = text !== undefined && Object.hasOwn(TRAP_CODES, text) ? TRAP_CODES[text] : undefined
  if (code === undefined) throw new Failed(field, 'a trap text listed in TRAP_CODES', `unmapped trap text ${JSON.stringify(text)}`)
  return code
}
