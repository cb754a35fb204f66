;; traps.wat — code that traps or never ends, for traps, fuel and timeouts. As WIT:
;;
;;   world traps {
;;     export crash: func();                        // unreachable
;;     export divide: func(a: s32, b: s32) -> s32;  // i32.div_s: traps on b = 0 (and on -2^31 / -1)
;;     export spin: func();                         // an infinite loop
;;     export count: func(n: u32) -> u32;           // a loop of n iterations, returning n
;;   }
(component
  (core module $m
    (func (export "crash") unreachable)
    (func (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func (export "spin") (loop $forever (br $forever)))
    (func (export "count") (param $n i32) (result i32)
      (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $i)))
  (core instance $i (instantiate $m))
  (func (export "crash") (canon lift (core func $i "crash")))
  (func (export "divide") (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "divide")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "count") (param "n" u32) (result u32) (canon lift (core func $i "count")))
)
