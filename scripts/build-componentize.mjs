// `npm run build:componentize`: makes the JavaScript guest __test__/componentize/guest.js (world
// `guest` of guest.wit) a WebAssembly component with componentize-js (@bytecodealliance/componentize-js,
// a devDependency: SpiderMonkey/StarlingMonkey, pre-initialised with wizer), and writes
//   __test__/components/componentize.wasm             the component (committed: ~12 MB)
//   __test__/components/componentize.wasm.src-sha256  the digest of what it was built from
//                                                     (sources, componentize-js version, options)
//                                                     and the digest of the component itself
// Takes 10-30 s. All of componentize-js's WASI features are disabled: the component imports only
// the world's own `acme:guest/host`.
//
// componentize-js's output is not reproducible: two builds of the same sources differ (the
// snapshot holds the build's temporary directory and working directory, among others). So
// __test__/componentize.test.ts does not rebuild it; it checks the digests recorded here against
// the sources and the committed component. After changing guest.js or guest.wit, or updating
// componentize-js, run this script and commit both files.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The sources, relative to the root of the repository. */
export const SOURCES = ['__test__/componentize/guest.wit', '__test__/componentize/guest.js']
export const OUTPUT = '__test__/components/componentize.wasm'
export const RECORD = `${OUTPUT}.src-sha256`
/** The options given to componentize() besides the sources. */
export const OPTIONS = { worldName: 'guest', disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'] }

const sha256 = (data) => createHash('sha256').update(data).digest('hex')

/** The installed componentize-js version. */
export function componentizeVersion() {
  return JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@bytecodealliance/componentize-js/package.json'), 'utf8')).version
}

/** The digest of what the component is built from: componentize-js's version, the options, the sources (line ends as LF). */
export function sourceDigest() {
  const h = createHash('sha256')
  h.update(`componentize-js ${componentizeVersion()}\n${JSON.stringify(OPTIONS)}\n`)
  for (const file of SOURCES) {
    const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/\r\n/g, '\n')
    h.update(`${file} ${Buffer.byteLength(text)}\n${text}`)
  }
  return h.digest('hex')
}

/** The text of the record file for this component. */
export function recordText(wasm) {
  return `${sourceDigest()}  sources: ${SOURCES.map((f) => path.basename(f)).join(', ')}, componentize-js ${componentizeVersion()}, options\n` + `${sha256(wasm)}  ${path.basename(OUTPUT)}\n`
}

/** The two digests of a record file: { source, wasm }. */
export function parseRecord(text) {
  const [source, wasm] = text.split('\n').map((l) => l.split(' ')[0])
  return { source, wasm }
}

export { sha256 }

async function build() {
  const { componentize } = await import('@bytecodealliance/componentize-js')
  // componentize-js strips the working directory from the source path it records: build from the root.
  process.chdir(ROOT)
  const started = performance.now()
  const { component } = await componentize({
    sourcePath: path.join(ROOT, SOURCES[1]),
    // the WIT as text: componentize-js reads a witPath through its own WASI sandbox, which does not see the file system
    witWorld: readFileSync(path.join(ROOT, SOURCES[0]), 'utf8'),
    ...OPTIONS,
  })
  const wasm = Buffer.from(component)
  writeFileSync(path.join(ROOT, OUTPUT), wasm)
  writeFileSync(path.join(ROOT, RECORD), recordText(wasm))
  console.log(`${OUTPUT}: ${(wasm.length / 2 ** 20).toFixed(1)} MiB, componentize-js ${componentizeVersion()}, ${((performance.now() - started) / 1000).toFixed(1)} s`)
  console.log(RECORD)
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) await build()
