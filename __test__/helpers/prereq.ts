// Tests that need something outside the repo (a toolchain, test data): nothing passes without
// running. A missing prerequisite makes its tests a visible `test.skip` with the reason — and
// under CI (`CI` set and not "false"/"0") a failing test instead, unless the run declares the skip
// on purpose in `WASMTIME_NODE_SKIP` (comma-separated names; the release workflow does so on
// hosts that cannot have the tool). So a green CI run has run everything it did not declare.
import test from 'ava'

const declared = new Set((process.env.WASMTIME_NODE_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean))

export const onCI = (() => {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0'
})()

/**
 * `test` when the prerequisite `name` is present (`missing` is undefined), otherwise a skip
 * (locally, or when declared in WASMTIME_NODE_SKIP) or one failing test (on CI).
 */
export function testWith(name: string, missing: string | undefined): typeof test {
  if (missing === undefined) return test
  const why = `${name}: ${missing}`
  if (onCI && !declared.has(name)) {
    test(`prerequisite missing on CI — ${why}`, (t) => {
      t.fail(`${why}. Install it (scripts/install-wasi-toolchain.sh, ../shared/spectest), or declare the skip with WASMTIME_NODE_SKIP=${name}`)
    })
  } else {
    console.log(`[prerequisite] SKIPPING the tests that need ${why}`)
  }
  return test.skip as unknown as typeof test
}
