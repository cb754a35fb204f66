// `npm run bench [-- SUITE...] [--compare FILE]`: runs the benchmarks (all, or the suites
// named), prints a table (ours | peer | ratio) and writes bench/results.json with the figures
// and the machine. `--compare FILE` (e.g. a saved results.json) flags every figure of ours
// that got more than 10% worse, and exits with 1 if any did.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { printTable } from './harness.mjs'
import * as calls from './calls.mjs'
import * as threads from './threads.mjs'
import * as epoch from './epoch.mjs'
import * as asyncCalls from './async.mjs'
import * as instantiate from './instantiate.mjs'
import * as compile from './compile.mjs'
import * as compute from './compute.mjs'
import * as footprint from './footprint.mjs'
import * as strings from './strings.mjs'
import * as components from './components.mjs'
import * as componentize from './componentize.mjs'
import * as shared from './shared.mjs'

const SUITES = { calls, epoch, async: asyncCalls, threads, shared, instantiate, compile, compute, footprint, strings, components, componentize }
const args = process.argv.slice(2)
const at = args.indexOf('--compare')
const compareFile = at >= 0 ? args[at + 1] : undefined
if (at >= 0 && !compareFile) throw new Error('--compare needs a results.json file')
// Read the baseline first: this run overwrites bench/results.json.
const baseline = compareFile ? JSON.parse(readFileSync(compareFile, 'utf8')) : undefined
const names = args.filter((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1))
for (const n of names) if (!(n in SUITES)) throw new Error(`unknown suite ${n}; suites: ${Object.keys(SUITES).join(', ')}`)
const chosen = names.length ? names : Object.keys(SUITES)

const rows = []
const started = performance.now()
for (const name of chosen) {
  console.log(`running ${name}…`)
  for (const r of await SUITES[name].run()) rows.push({ suite: name, ...r })
}
printTable(rows)
console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`)
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` }
const out = new URL('./results.json', import.meta.url)
// A partial run keeps the other suites' latest figures.
const previous = existsSync(out) && names.length ? JSON.parse(readFileSync(out, 'utf8')).rows.filter((r) => !chosen.includes(r.suite)) : []
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, rows: [...previous, ...rows] }, null, 2) + '\n')
console.log('machine:', JSON.stringify(machine))

if (baseline) {
  const key = (r) => `${r.name} | ${r.peerName}`
  const old = new Map(baseline.rows.map((r) => [key(r), r]))
  const worse = []
  for (const r of rows) {
    const b = old.get(key(r))
    if (!b) continue
    const change = r.better === 'higher' ? b.ours / r.ours : r.ours / b.ours
    if (change > 1.1) worse.push(`  ${r.name} (vs ${r.peerName}): ${b.ours.toPrecision(3)} → ${r.ours.toPrecision(3)} ${r.unit} (${((change - 1) * 100).toFixed(0)}% worse)`)
  }
  console.log(`\ncompared with ${compareFile} (${baseline.date}): ${worse.length ? `${worse.length} slowdown(s) over 10%:\n${worse.join('\n')}` : 'no slowdown over 10%'}`)
  if (worse.length) process.exitCode = 1
}
