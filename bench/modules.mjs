// Wasm modules shared by the benchmarks.

/** `work(n)`: n iterations of a linear congruential step — a tight CPU-bound integer loop. */
export const CPU_LOOP = `(func (export "work") (param $n i32) (result i32) (local $x i32)
  (block $d (loop $l (br_if $d (i32.eqz (local.get $n)))
    (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
    (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))
  (local.get $x))`
