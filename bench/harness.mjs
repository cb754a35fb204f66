// Timing helpers shared by the benchmarks.

/** Best (lowest) time per operation in ns over `rounds` runs of `fn`, which does `ops` operations. */
export function bestOf(fn, ops, rounds = 7) {
  fn() // warm-up: lets V8 optimise the loop and the callee
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint()
    fn()
    const ns = Number(process.hrtime.bigint() - t0) / ops
    if (ns < best) best = ns
  }
  return best
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

/** Print rows as a table: ours | peer | ratio. */
export function printTable(rows) {
  const lines = [['benchmark', 'ours', 'peer', 'ratio (ours/peer)', 'target']]
  for (const r of rows) {
    lines.push([r.name, `${fmt(r.ours)} ${r.unit}`, `${fmt(r.peer)} ${r.unit} (${r.peerName})`, `${(r.ours / r.peer).toFixed(2)}×`, r.target ?? ''])
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)))
  for (const [i, l] of lines.entries()) {
    console.log(l.map((c, j) => c.padEnd(widths[j])).join(' | '))
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
  }
}
