// Builds floor.c (the C Node-API floor of bench/calls.mjs) into build/floor.node with the
// system C compiler (`cc`) and the Node-API headers of the `node-api-headers` devDependency;
// rebuilt when the source is newer. Returns the path of the addon.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

export function buildFloor() {
  const src = path.join(here, 'floor.c')
  const out = path.join(here, 'build', 'floor.node')
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) return out
  const include = path.dirname(createRequire(import.meta.url).resolve('node-api-headers/include/node_api.h'))
  fs.mkdirSync(path.dirname(out), { recursive: true })
  const flags = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []
  execFileSync(process.env.CC || 'cc', ['-O2', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=floor', `-I${include}`, ...flags, src, '-o', out], { stdio: 'inherit' })
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(buildFloor())
