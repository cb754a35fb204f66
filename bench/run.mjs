// `npm run bench`: runs every benchmark, prints a table (ours | peer | ratio) and writes
// bench/results.json with the figures and the machine they ran on.
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { printTable } from './harness.mjs'
import * as calls from './calls.mjs'
import * as threads from './threads.mjs'
import * as epoch from './epoch.mjs'
import * as asyncCalls from './async.mjs'

const suites = { calls, epoch, async: asyncCalls, threads }
const rows = []
for (const [name, suite] of Object.entries(suites)) {
  console.log(`running ${name}…`)
  rows.push(...(await suite.run()))
}
printTable(rows)
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` }
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2) + '\n')
console.log('\nmachine:', JSON.stringify(machine))
