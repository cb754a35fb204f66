;; strings.wat — string, list<u8>, list<string> and list<u32>, in both directions. As WIT:
;;
;;   world strings {
;;     export echo-string: func(s: string) -> string;
;;     export string-bytes: func(s: string) -> u32;              // the UTF-8 length, as the guest sees it
;;     export concat: func(a: string, b: string) -> string;
;;     export echo-bytes: func(b: list<u8>) -> list<u8>;
;;     export reverse-bytes: func(b: list<u8>) -> list<u8>;
;;     export echo-strings: func(l: list<string>) -> list<string>;
;;     export join: func(l: list<string>) -> string;            // the strings concatenated
;;     export echo-u32s: func(l: list<u32>) -> list<u32>;
;;     export heap-top: func() -> u32;                           // the bump allocator's next free byte
;;   }
;;
;; Memory layout of the core module: 16..40 the return area of the exports, 1024.. the bump heap of
;; cabi_realloc. Every export that returns a value has a post-return that empties the heap again,
;; so heap-top() is 1024 between calls exactly when post-return ran after each call.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))

    ;; cabi_realloc(old_ptr, old_size, align, new_size) -> ptr: a bump allocator that grows the
    ;; memory as needed (and copies the old bytes when it moves an allocation).
    (func $realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
      (local $ptr i32) (local $end i32) (local $have i32)
      (local.set $ptr
        (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                 (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
      (local.set $have (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $have))
        (then
          (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
                      (i32.const -1))
            (then unreachable))))
      (global.set $heap (local.get $end))
      (if (local.get $old)
        (then
          (memory.copy (local.get $ptr) (local.get $old)
            (select (local.get $old_size) (local.get $new_size) (i32.lt_u (local.get $old_size) (local.get $new_size))))))
      (local.get $ptr))

    ;; post-return of every export with one core result: the call is over, free everything
    (func (export "reset") (param i32) (global.set $heap (i32.const 1024)))
    (func (export "heap-top") (result i32) (global.get $heap))

    ;; (ptr, len) -> a return area holding the same (ptr, len): echo of any string or list
    (func $ret2 (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    (func (export "len") (param i32 i32) (result i32) (local.get 1))

    (func (export "concat") (param $p1 i32) (param $l1 i32) (param $p2 i32) (param $l2 i32) (result i32)
      (local $new i32)
      (local.set $new (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $l1) (local.get $l2))))
      (memory.copy (local.get $new) (local.get $p1) (local.get $l1))
      (memory.copy (i32.add (local.get $new) (local.get $l1)) (local.get $p2) (local.get $l2))
      (call $ret2 (local.get $new) (i32.add (local.get $l1) (local.get $l2))))

    (func (export "reverse") (param $p i32) (param $l i32) (result i32)
      (local $new i32) (local $i i32)
      (local.set $new (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $l)))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $l)))
          (i32.store8 (i32.add (local.get $new) (local.get $i))
            (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $l)) (i32.add (local.get $i) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $ret2 (local.get $new) (local.get $l)))

    ;; list<string> is (ptr, n) with n elements of 8 bytes (ptr, len)
    (func (export "join") (param $p i32) (param $n i32) (result i32)
      (local $i i32) (local $total i32) (local $new i32) (local $at i32) (local $e i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $total (i32.add (local.get $total) (i32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.set $new (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $total)))
      (local.set $at (local.get $new))
      (local.set $i (i32.const 0))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
          (memory.copy (local.get $at) (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
          (local.set $at (i32.add (local.get $at) (i32.load offset=4 (local.get $e))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $ret2 (local.get $new) (local.get $total)))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))

  (func (export "echo-string") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "string-bytes") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "concat") (param "a" string) (param "b" string) (result string)
    (canon lift (core func $i "concat") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "echo-bytes") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) (post-return (core func $i "reset"))))
  (func (export "reverse-bytes") (param "b" (list u8)) (result (list u8))
    (canon lift (core func $i "reverse") (memory $mem) (realloc $realloc) (post-return (core func $i "reset"))))
  (func (export "echo-strings") (param "l" (list string)) (result (list string))
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "join") (param "l" (list string)) (result string)
    (canon lift (core func $i "join") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "echo-u32s") (param "l" (list u32)) (result (list u32))
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) (post-return (core func $i "reset"))))
  (func (export "heap-top") (result u32) (canon lift (core func $i "heap-top")))
)
