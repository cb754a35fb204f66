// The public types (dist/*.d.ts) as users see them: `tsc -p __test__/types/tsconfig.json` checks
// __test__/types/api.ts (correct usages, and misuses marked `@ts-expect-error` that must not
// compile) and the JavaScript examples (checkJs) against the package's own declarations.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { ROOT } from './helpers/programs'

// The project's own TypeScript (a dev dependency of a dev dependency may bring another `tsc` bin).
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const PROJECT = path.join(ROOT, '__test__', 'types', 'tsconfig.json')

test('the type test and the examples type-check against dist/index.d.ts', (t) => {
  const r = spawnSync(process.execPath, [TSC, '-p', PROJECT], { cwd: ROOT, encoding: 'utf8' })
  if (r.error) throw r.error
  const output = `${r.stdout}${r.stderr}`.trim()
  t.is(r.status, 0, `tsc reported type errors:\n${output}`)
})

test('the type test keeps its expected errors', (t) => {
  const source = fs.readFileSync(path.join(ROOT, '__test__', 'types', 'api.ts'), 'utf8')
  t.true((source.match(/^\s*\/\/ @ts-expect-error /gm) ?? []).length >= 74)
})
