;; host.wat — host functions imported at the root and from an interface, taking and returning
;; strings and records; each guest export calls one of them and returns what the host returned,
;; so values cross both ways (JS -> guest -> host JS -> guest -> JS). As WIT:
;;
;;   package acme:plugin@0.1.0;
;;   interface host {
;;     record point { x: s32, y: s32 }
;;     transform: func(p: point) -> point;
;;     describe: func(p: point, label: string) -> string;
;;     lookup: func(key: string) -> result<u32, string>;
;;   }
;;   world guest {
;;     import log: func(msg: string);
;;     import get-greeting: func(name: string) -> string;
;;     import host;
;;     use host.{point};
;;     export run-log: func(msg: string);                      // log(msg)
;;     export greet: func(name: string) -> string;             // get-greeting(name)
;;     export transform-point: func(p: point) -> point;        // host.transform(p)
;;     export describe-point: func(p: point, label: string) -> string;   // host.describe(p, label)
;;     export lookup: func(key: string) -> result<u32, string>;          // host.lookup(key)
;;   }
;;
;; Two core modules: $alloc owns the memory and cabi_realloc (the lowered imports need both before
;; the main module exists), $main imports them with the lowered host functions. Memory layout:
;; 16..28 the return area (the host writes an import's results there, and the export returns it
;; as is), 1024.. the bump heap, emptied by the post-return of every export.
(component
  (import "log" (func $log (param "msg" string)))
  (import "get-greeting" (func $get-greeting (param "name" string) (result string)))
  (import "acme:plugin/host@0.1.0" (instance $host
    (type $point' (record (field "x" s32) (field "y" s32)))
    (export "point" (type $point (eq $point')))
    (export "transform" (func (param "p" $point) (result $point)))
    (export "describe" (func (param "p" $point) (param "label" string) (result string)))
    (export "lookup" (func (param "key" string) (result (result u32 (error string)))))))
  (alias export $host "point" (type $host-point))
  (import "point" (type $point (eq $host-point)))   ;; `use host.{point}` at the world level
  (alias export $host "transform" (func $transform))
  (alias export $host "describe" (func $describe))
  (alias export $host "lookup" (func $lookup))

  (core module $alloc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
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
    (func (export "reset0") (global.set $heap (i32.const 1024))))
  (core instance $a (instantiate $alloc))
  (alias core export $a "memory" (core memory $mem))
  (alias core export $a "cabi_realloc" (core func $realloc))

  (core func $log-low (canon lower (func $log) (memory $mem) string-encoding=utf8))
  (core func $get-greeting-low (canon lower (func $get-greeting) (memory $mem) (realloc $realloc) string-encoding=utf8))
  (core func $transform-low (canon lower (func $transform) (memory $mem)))
  (core func $describe-low (canon lower (func $describe) (memory $mem) (realloc $realloc) string-encoding=utf8))
  (core func $lookup-low (canon lower (func $lookup) (memory $mem) (realloc $realloc) string-encoding=utf8))

  (core module $main
    (import "alloc" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32)))                          ;; (msg ptr, len)
    (import "host" "get-greeting" (func $get-greeting (param i32 i32 i32)))    ;; (name ptr, len, ret)
    (import "host" "transform" (func $transform (param i32 i32 i32)))          ;; (x, y, ret)
    (import "host" "describe" (func $describe (param i32 i32 i32 i32 i32)))    ;; (x, y, label ptr, len, ret)
    (import "host" "lookup" (func $lookup (param i32 i32 i32)))                ;; (key ptr, len, ret)
    (func (export "run-log") (param i32 i32) (call $log (local.get 0) (local.get 1)))
    (func (export "greet") (param i32 i32) (result i32)
      (call $get-greeting (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16))
    (func (export "transform-point") (param i32 i32) (result i32)
      (call $transform (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16))
    (func (export "describe-point") (param i32 i32 i32 i32) (result i32)
      (call $describe (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 16)) (i32.const 16))
    (func (export "lookup") (param i32 i32) (result i32)
      (call $lookup (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16)))
  (core instance $i (instantiate $main
    (with "alloc" (instance $a))
    (with "host" (instance
      (export "log" (func $log-low))
      (export "get-greeting" (func $get-greeting-low))
      (export "transform" (func $transform-low))
      (export "describe" (func $describe-low))
      (export "lookup" (func $lookup-low))))))

  (func (export "run-log") (param "msg" string)
    (canon lift (core func $i "run-log") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $a "reset0"))))
  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $a "reset"))))
  (func (export "transform-point") (param "p" $point) (result $point)
    (canon lift (core func $i "transform-point") (memory $mem) (post-return (core func $a "reset"))))
  (func (export "describe-point") (param "p" $point) (param "label" string) (result string)
    (canon lift (core func $i "describe-point") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $a "reset"))))
  (func (export "lookup") (param "key" string) (result (result u32 (error string)))
    (canon lift (core func $i "lookup") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $a "reset"))))
)
