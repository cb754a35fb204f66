;; iface.wat — an exported interface of a versioned package, beside a root export. As WIT:
;;
;;   package acme:plugin@0.1.0;
;;   interface api {
;;     greet: func(name: string) -> string;        // "Hello, " + name + "!"
;;     add: func(a: u32, b: u32) -> u32;           // wrapping
;;     shout-name: func(name: string) -> string;   // a kebab-case function name: the ASCII letters upper-cased
;;   }
;;   world plugin {
;;     export api;
;;     export plugin-version: func() -> string;    // "0.1.0"
;;   }
;;
;; Memory layout of the core module: 16..24 the return area, 64.. constant data, 1024.. the bump
;; heap of cabi_realloc, emptied by the post-return of every export.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (data (i32.const 64) "Hello, !0.1.0")   ;; "Hello, " @64 (7 bytes), "!" @71, "0.1.0" @72 (5 bytes)

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
    (func (export "reset") (param i32) (global.set $heap (i32.const 1024)))

    (func $ret2 (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))

    (func (export "greet") (param $p i32) (param $l i32) (result i32)
      (local $new i32)
      (local.set $new (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $l) (i32.const 8))))
      (memory.copy (local.get $new) (i32.const 64) (i32.const 7))
      (memory.copy (i32.add (local.get $new) (i32.const 7)) (local.get $p) (local.get $l))
      (i32.store8 (i32.add (local.get $new) (i32.add (local.get $l) (i32.const 7))) (i32.load8_u (i32.const 71)))
      (call $ret2 (local.get $new) (i32.add (local.get $l) (i32.const 8))))

    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))

    ;; in place: the argument's bytes belong to the callee
    (func (export "shout") (param $p i32) (param $l i32) (result i32)
      (local $i i32) (local $c i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $l)))
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $ret2 (local.get $p) (local.get $l)))

    (func (export "version") (result i32) (call $ret2 (i32.const 72) (i32.const 5)))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))

  (func $greet (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func $shout (param "name" string) (result string)
    (canon lift (core func $i "shout") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (instance $api
    (export "greet" (func $greet))
    (export "add" (func $add))
    (export "shout-name" (func $shout)))
  (export "acme:plugin/api@0.1.0" (instance $api))

  (func (export "plugin-version") (result string)
    (canon lift (core func $i "version") (memory $mem) string-encoding=utf8 (post-return (core func $i "reset"))))
)
