// The demo's "untrusted" plugins, in WAT. Each exports `memory` and `run(n) -> i32`.
export const plugins = {
  // Count the primes below n (trial division): honest CPU work.
  primes: `(module
    (memory (export "memory") 1)
    (func (export "run") (param $n i32) (result i32)
      (local $i i32) (local $d i32) (local $count i32) (local $prime i32)
      (local.set $i (i32.const 2))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $prime (i32.const 1))
        (local.set $d (i32.const 2))
        (block $out (loop $try
          (br_if $out (i32.gt_u (i32.mul (local.get $d) (local.get $d)) (local.get $i)))
          (if (i32.eqz (i32.rem_u (local.get $i) (local.get $d)))
            (then (local.set $prime (i32.const 0)) (br $out)))
          (local.set $d (i32.add (local.get $d) (i32.const 1)))
          (br $try)))
        (local.set $count (i32.add (local.get $count) (local.get $prime)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $count)))`,

  // FNV-1a over the n bytes the host wrote at address 0 (the request body).
  checksum: `(module
    (memory (export "memory") 1)
    (func (export "run") (param $n i32) (result i32)
      (local $i i32) (local $h i32)
      (local.set $h (i32.const 0x811c9dc5))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $i))) (i32.const 0x01000193)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $h)))`,

  // Wants n pages of memory, one at a time, and aborts (traps) when refused: the store's
  // memory limit stops it.
  hog: `(module
    (memory (export "memory") 1)
    (func (export "run") (param $n i32) (result i32)
      (block $done (loop $more
        (br_if $done (i32.ge_u (memory.size) (local.get $n)))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $more)))
      (memory.size)))`,

  // Never returns: the per-request timeout interrupts it.
  spin: `(module
    (memory (export "memory") 1)
    (func (export "run") (param $n i32) (result i32)
      (loop $forever (br $forever))
      (i32.const 0)))`,
}

/** What the plugins compute, in plain JS: the demo checks every answer against it. */
export const reference = {
  primes(n) {
    let count = 0
    for (let i = 2; i < n; i++) {
      let prime = 1
      for (let d = 2; d * d <= i; d++) if (i % d === 0) { prime = 0; break }
      count += prime
    }
    return count
  },
  checksum(n, body) {
    let h = 0x811c9dc5
    for (let i = 0; i < n; i++) h = Math.imul(h ^ body[i], 0x01000193)
    return h | 0
  },
}
