// The shape of a spec testsuite script as `wast2json` (wabt 1.0.32) writes it, and its loader.
// See ../shared/spectest/README.md. Only the fields the runner reads are typed.

import * as fs from 'node:fs'

/** A value: integers and floats are unsigned decimal bit patterns, floats may be `nan:*`,
 *  v128 has `lane_type` and one string per lane, references are `"null"` or an identity N.
 *  The `expected` list of assert_trap / action carries only `type`. */
export interface SpecValue {
  readonly type: string
  readonly value?: string | readonly string[]
  readonly lane_type?: string
}

export interface SpecAction {
  readonly type: 'invoke' | 'get'
  /** `$name` of a named module; absent = the current module */
  readonly module?: string
  readonly field: string
  readonly args?: readonly SpecValue[]
}

export type ModuleType = 'binary' | 'text'

interface At { readonly line: number }

export interface ModuleCommand extends At {
  readonly type: 'module'
  readonly filename: string
  readonly name?: string
  readonly module_type?: ModuleType
}

export interface RegisterCommand extends At {
  readonly type: 'register'
  readonly as: string
  readonly name?: string
}

export interface ActionCommand extends At {
  readonly type: 'action' | 'assert_return' | 'assert_trap' | 'assert_exhaustion' | 'assert_exception'
  readonly action: SpecAction
  readonly expected?: readonly SpecValue[]
  readonly text?: string
}

export interface ModuleAssertion extends At {
  readonly type: 'assert_invalid' | 'assert_malformed' | 'assert_unlinkable' | 'assert_uninstantiable'
  readonly filename: string
  readonly module_type: ModuleType
  readonly text: string
}

/** Anything else wast2json might emit (e.g. a newer command type): reported as a skip. */
export interface OtherCommand extends At { readonly type: string }

export type SpecCommand = ModuleCommand | RegisterCommand | ActionCommand | ModuleAssertion

export interface SpecScript {
  readonly source_filename: string
  readonly commands: readonly (SpecCommand | OtherCommand)[]
}

export function loadScript(file: string): SpecScript {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SpecScript
}

/** The `.json` scripts of a directory, in a stable order. */
export function listScripts(dir: string): string[] {
  return fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()
}
