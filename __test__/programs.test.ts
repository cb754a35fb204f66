// The committed wasm builds of programs/ (programs/wasm) are exactly what their C sources build
// to with programs/build.sh — so the tests that run them test these sources, not stale binaries.
// Needs clang-14 with wasi-libc (scripts/install-wasi-toolchain.sh; .ci/run installs it).
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { PROGRAMS, WASM_DIR, have, tempDir } from './helpers/programs'
import { testWith } from './helpers/prereq'

const toolchain = testWith('clang-14', have('clang-14') && fs.existsSync('/usr/lib/wasm32-wasi/libc.a') ? undefined : 'clang-14 with wasi-libc not installed (scripts/install-wasi-toolchain.sh)')

toolchain('programs/wasm holds exactly what programs/build.sh builds from the sources', (t) => {
  const out = tempDir(t)
  execFileSync('sh', [path.join(PROGRAMS, 'build.sh')], { env: { ...process.env, OUT: out }, stdio: 'pipe' })
  const built = fs.readdirSync(out).sort()
  const committed = fs.readdirSync(WASM_DIR).sort()
  t.deepEqual(committed, built, 'the same set of programs')
  t.true(built.length >= 11, `only ${built.length} programs built`)
  for (const f of built) {
    const a = fs.readFileSync(path.join(out, f))
    const b = fs.readFileSync(path.join(WASM_DIR, f))
    t.true(a.equals(b), `programs/wasm/${f} differs from a fresh build of its source: run programs/build.sh and commit`)
  }
})
