// instantiate.test.ts runs this under `ulimit -v` (a small address space): stores with a 1-page
// memory are kept until an instantiation fails, then disposed. Prints one JSON line: how many fit,
// the error (class, code, message), whether instantiation works again after the dispose, and how
// many stores fit with the remedy the message names (a smaller memoryReservation).
const W = require(process.argv[2])

const WAT = '(module (memory 1) (func (export "f") (result i32) (i32.const 7)))'

function fill(engine, max) {
  const module = new W.Module(engine, WAT)
  const held = []
  let error
  while (held.length < max) {
    const store = new W.Store(engine)
    try {
      new W.Instance(store, module)
      held.push(store)
    } catch (e) {
      error = { linkError: e instanceof W.LinkError, wasmtimeError: e instanceof W.WasmtimeError, code: e.code, message: e.message }
      break
    }
  }
  for (const s of held) s.dispose()
  return { held: held.length, error, after: new W.Instance(new W.Store(engine), module).exports.f() }
}

const plain = fill(W.Engine.default, 1000)
const small = fill(new W.Engine({ memoryReservation: 1 << 20, memoryGuardSize: 1 << 16 }), 200)
console.log(JSON.stringify({ plain, small }))
