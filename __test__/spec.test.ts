// The official WebAssembly core spec testsuite (Wasm 2.0, converted by wast2json into JSON and
// .wasm files, see ../shared/spectest/README.md), run through wasmtime-node's PUBLIC API only.
//
// One ava test per script, so a failure names its file; each test runs every command of its
// script (continuing after failures) and fails once with a summary. Documented skips (text-
// format parser cases, NaN payloads a JS number cannot carry, ...) are counted with their
// reason, and an `after` hook prints `spec: N scripts; N passed, N failed, N skipped` and the
// reasons. A last test checks that the whole suite ran (script count, passed/skipped bounds).
// The data lives outside the repo and is never copied into it. Without it nothing passes: the
// suite is a visible skip locally, and a failing test on CI (helpers/prereq.ts).

import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { listScripts, loadScript } from './helpers/spectest-script'
import type { SpecScript } from './helpers/spectest-script'
import { ScriptRunner } from './helpers/spectest-runner'
import { testWith } from './helpers/prereq'
import type { Failure, Outcome } from './helpers/spectest-runner'

/** Where the data is looked for: `$WASMTIME_NODE_SPECTEST` (the spectest directory, i.e. the
 *  one holding README.md and core/) overrides the sibling checkout `../shared/spectest`. */
const SPEC_ROOT = process.env.WASMTIME_NODE_SPECTEST
  ? path.resolve(process.env.WASMTIME_NODE_SPECTEST)
  : path.resolve(__dirname, '../../shared/spectest')
const SPEC_DIR = path.join(SPEC_ROOT, 'core')

/** A run that claims the suite passed must have run (most of) it: the Wasm 2.0 core suite has
 *  116 scripts and ≈ 48,000 passing commands; these floors catch a truncated data set or a
 *  runner that turned checks into skips. */
const MIN_SCRIPTS = 100
const MIN_PASSED = 40_000
const MAX_SKIPPED = 1_500

/** Failures printed per script; the rest are counted. */
const MAX_LISTED_FAILURES = 40
const MAX_LINE = 400

/** Counts over the whole suite, for the summary line. */
class Tally {
  scripts = 0
  passed = 0
  failed = 0
  skipped = 0
  private readonly skipReasons = new Map<string, number>()

  add(outcome: Outcome): void {
    if (outcome.kind === 'pass') this.passed++
    else if (outcome.kind === 'fail') this.failed++
    else {
      this.skipped++
      this.skipReasons.set(outcome.reason, (this.skipReasons.get(outcome.reason) ?? 0) + 1)
    }
  }

  summaryLines(): string[] {
    const reasons = [...this.skipReasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    return [
      `spec: ${this.scripts} scripts; ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`,
      ...(reasons.length > 0 ? ['spec skip reasons:'] : []),
      ...reasons.map(([reason, count]) => `  ${String(count).padStart(6)}  ${reason}`),
    ]
  }
}

function formatFailure(f: Failure): string {
  const line = `line ${f.line} ${f.command} ${f.field}: expected ${f.expected}; got ${f.got}`
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 1)}…`
}

function formatFailures(file: string, total: number, failures: readonly Failure[]): string {
  const listed = failures.slice(0, MAX_LISTED_FAILURES).map(f => `  ${formatFailure(f)}`)
  const more = failures.length - listed.length
  return [
    `${failures.length} of ${total} commands failed in ${file}:`,
    ...listed,
    ...(more > 0 ? [`  … and ${more} more`] : []),
  ].join('\n')
}

/** Runs every command of a script in order; returns the failures (outcomes go to `tally`). */
function runScript(script: SpecScript, tally: Tally): Failure[] {
  tally.scripts++
  const failures: Failure[] = []
  let runner: ScriptRunner
  try {
    runner = new ScriptRunner(SPEC_DIR)
  } catch (e) {
    // Without a Store nothing in the script can run: every command fails.
    const got = `new Store() threw ${String(e)}`
    for (const cmd of script.commands) {
      const failure = { line: cmd.line, command: cmd.type, field: '(store)', expected: 'a Store', got }
      tally.add({ kind: 'fail', failure })
      failures.push(failure)
    }
    return failures
  }
  for (const cmd of script.commands) {
    const outcome = runner.run(cmd)
    tally.add(outcome)
    if (outcome.kind === 'fail') failures.push(outcome.failure)
  }
  // Disposing frees the script's instances before the next script runs; it is part of the API
  // under test, so a throw here is a failure too.
  const disposeError = runner.dispose()
  if (disposeError !== undefined) {
    const failure = { line: 0, command: 'store.dispose', field: '(store)', expected: 'no exception', got: disposeError }
    tally.add({ kind: 'fail', failure })
    failures.push(failure)
  }
  return failures
}

function registerSuite(files: readonly string[]): void {
  const tally = new Tally()
  // Serial, so that the totals test (declared last) runs after every script.
  for (const file of files) {
    test.serial(file, t => {
      const script = loadScript(path.join(SPEC_DIR, file))
      const failures = runScript(script, tally)
      if (failures.length > 0) t.fail(formatFailures(file, script.commands.length, failures))
      else t.pass()
    })
  }
  test.serial('spec totals: the whole suite ran', t => {
    t.true(files.length >= MIN_SCRIPTS, `only ${files.length} scripts in ${SPEC_DIR}; expected ≥ ${MIN_SCRIPTS}`)
    t.is(tally.scripts, files.length, 'every script ran')
    t.true(tally.passed >= MIN_PASSED, `only ${tally.passed} commands passed; expected ≥ ${MIN_PASSED}`)
    t.true(tally.skipped <= MAX_SKIPPED, `${tally.skipped} commands skipped; expected ≤ ${MAX_SKIPPED}`)
  })
  // `.always`: the summary is most useful exactly when some script failed.
  test.after.always('spec summary', () => {
    for (const line of tally.summaryLines()) console.log(line)
  })
}

/** No data: a visible skip on a developer's machine, a failure on CI (unless declared), never a pass. */
function registerMissing(): void {
  const how = 'set WASMTIME_NODE_SPECTEST to the spectest directory (the one holding core/*.json and README.md), '
    + 'or check it out as ../shared/spectest next to the repo'
  testWith('spectest', `no spec testsuite scripts (*.json) in ${SPEC_DIR}; ${how}`)('spec testsuite', t => t.fail('unreachable'))
}

const scripts = fs.existsSync(SPEC_DIR) ? listScripts(SPEC_DIR) : []
if (scripts.length > 0) registerSuite(scripts)
else registerMissing()
