// `npm run pack:npm [-- --out DIR] [--build]`: the publishable tarballs, the napi-rs way — the
// root package (dist/, the generated loader index.js, types) with the platform packages as
// optionalDependencies, and npm/linux-x64-gnu with the binary. `--build` first builds the
// binary with the `dist` profile (LTO, stripped; slow); otherwise the binary built by
// `npm install` is packed. Other platforms' packages are built by .github/workflows/release.yml.
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const ROOT = path.resolve(new URL('..', import.meta.url).pathname)
const args = process.argv.slice(2)
const at = args.indexOf('--out')
const out = path.resolve(at >= 0 ? args[at + 1] : path.join(ROOT, 'npm-dist'))
const run = (cmd, argv, cwd) => execFileSync(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString()

if (args.includes('--build')) {
  execFileSync('npx', ['napi', 'build', '--platform', '--profile', 'dist', '--no-const-enum'], { cwd: ROOT, stdio: 'inherit' })
}
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const platforms = readdirSync(path.join(ROOT, 'npm')).filter((d) => existsSync(path.join(ROOT, 'npm', d, 'package.json')))
mkdirSync(out, { recursive: true })
const stage = mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-pack-'))
const tarballs = []
const pack = (dir) => {
  const name = run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], dir).trim().split('\n').pop()
  tarballs.push(path.join(out, name))
}
try {
  // Platform packages: the committed package.json (version synced) + the binary, if built here.
  const optional = {}
  for (const p of platforms) {
    const meta = JSON.parse(readFileSync(path.join(ROOT, 'npm', p, 'package.json'), 'utf8'))
    optional[meta.name] = pkg.version
    const binary = path.join(ROOT, meta.main)
    if (!existsSync(binary)) {
      console.log(`(no ${meta.main} here: ${meta.name} is built by CI on its own platform)`)
      continue
    }
    const dir = path.join(stage, p)
    cpSync(path.join(ROOT, 'npm', p), dir, { recursive: true })
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...meta, version: pkg.version }, null, 2) + '\n')
    copyFileSync(binary, path.join(dir, meta.main))
    pack(dir)
  }
  // Root package: what `files` lists, with a package.json for users (no build scripts, no
  // devDependencies) that names the platform packages.
  const dir = path.join(stage, 'root')
  mkdirSync(dir)
  for (const f of pkg.files) cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true })
  const { scripts, devDependencies, ...published } = pkg
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...published, optionalDependencies: optional }, null, 2) + '\n')
  pack(dir)
} finally {
  rmSync(stage, { recursive: true, force: true })
}
for (const t of tarballs) console.log(t)
