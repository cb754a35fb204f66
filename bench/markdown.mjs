// `node bench/markdown.mjs`: bench/results.json as the Markdown table of BENCHMARKS.md.
import { readFileSync } from 'node:fs'

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))
const { rows } = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'))
console.log('| suite | benchmark | ours | peer | ratio (ours/peer) | target |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) {
  console.log(`| ${r.suite} | ${r.name} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.peer)} ${r.unit} (${r.peerName}) | ${(r.ours / r.peer).toFixed(2)}× | ${r.target ?? ''} |`)
}
