// Writes dist/index.mjs: an ES module re-exporting the CommonJS build's named exports, so that
// `import { Engine } from 'wasmtime-node'` and `require('wasmtime-node')` give the same classes.
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const api = require('../dist/index.js')
const names = Object.keys(api).filter((n) => n !== '__esModule' && n !== 'default')
const body = [
  "import api from './index.js'",
  `export const { ${names.join(', ')} } = api`,
  'export default api',
  '',
].join('\n')
writeFileSync(new URL('../dist/index.mjs', import.meta.url), body)
writeFileSync(new URL('../dist/index.d.mts', import.meta.url), "export * from './index.js'\n")
