// The V8 side of bench/compute.mjs, run in a child process: node:wasi and V8 alone (no addon),
// a true first run, then the best of WARM later runs. Prints { first, warm, out } as JSON.
// (Running node:wasi in the same process as other native work also exposes a Node 20 bug:
// a WASI object collected while another writes aborts the process in uvwasi.)
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { WASI } from 'node:wasi'

const [file, warmRuns, name, ...args] = process.argv.slice(2)
const out = path.join(os.tmpdir(), `wtn-v8-${process.pid}.out`)
const keep = []

function once(module) {
  const fd = openSync(out, 'w')
  const t0 = performance.now()
  const wasi = new WASI({ version: 'preview1', args: [name, ...args], env: {}, stdout: fd, returnOnExit: true })
  keep.push(wasi)
  const m = module ?? new WebAssembly.Module(readFileSync(file))
  const code = wasi.start(new WebAssembly.Instance(m, wasi.getImportObject()))
  const ms = performance.now() - t0
  closeSync(fd)
  if (code !== 0) throw new Error(`${name} exited with ${code}`)
  return [ms, readFileSync(out, 'utf8'), m]
}

const [first, text, module] = once()
let warm = Infinity
for (let i = 0; i < Number(warmRuns); i++) {
  const [ms, t] = once(module)
  if (t !== text) throw new Error(`${name}: output changed between runs`)
  warm = Math.min(warm, ms)
}
rmSync(out, { force: true })
console.log(JSON.stringify({ first, warm, out: text }))
