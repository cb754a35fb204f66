#!/bin/sh
# Build the component fixtures of __test__/components (committed, so the tests need no rebuild):
#   NAME.wat            -> NAME.wasm            with the package's own wat2wasm (needs dist/: npm run build:ts)
#   programs/wasm/P.wasm -> P.command.wasm     a wasi:cli/command component: the core module wrapped
#                                              with jco's bundled WASI preview-1 command adapter (`jco new --wasi-command`)
# __test__/component.test.ts checks that each committed .wasm is exactly what this script makes of
# its source (a fresh wat2wasm of the .wat; jco's componentNew of the core module with the same
# adapter), so they cannot drift. After changing a .wat or a program, run this script and commit.
set -eu
cd "$(dirname "$0")/.."
DIR=__test__/components
node -e '
const fs = require("fs"), path = require("path")
const { wat2wasm } = require("./dist/index.js")
const dir = process.argv[1]
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".wat")).sort()) {
  const out = path.join(dir, f.replace(/\.wat$/, ".wasm"))
  fs.writeFileSync(out, wat2wasm(fs.readFileSync(path.join(dir, f), "utf8")))
  console.log(out)
}' "$DIR"
for p in argsenv hasher; do
  npx --no-install jco new "programs/wasm/$p.wasm" --wasi-command -o "$DIR/$p.command.wasm"
  echo "$DIR/$p.command.wasm"
done
