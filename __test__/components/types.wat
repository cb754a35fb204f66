;; types.wat — the compound WIT types: record (kebab-case fields), tuple, variant (cases with and
;; without a payload), enum, flags, option (also nested, and of a string), result (ok and err
;; returned by the guest, and taken as a parameter). As WIT:
;;
;;   world types {
;;     record point { x: s32, y: s32 }
;;     record settings { max-depth: u32, use-cache: bool, display-name: string }
;;     variant shape { circle(f64), square(u32), empty, label(string) }
;;     enum color { red, green, light-blue }
;;     flags permissions { read, write, exec, set-uid }
;;
;;     export echo-point: func(p: point) -> point;
;;     export echo-settings: func(s: settings) -> settings;
;;     export swap: func(t: tuple<u32, string>) -> tuple<string, u32>;
;;     export echo-triple: func(t: tuple<bool, f64, s64>) -> tuple<bool, f64, s64>;
;;     export echo-shape: func(s: shape) -> shape;
;;     export shape-case: func(s: shape) -> u32;                 // the case index the guest received
;;     export echo-color: func(c: color) -> color;
;;     export next-color: func(c: color) -> color;               // red -> green -> light-blue -> red
;;     export color-from-u32: func(n: u32) -> color;             // n >= 3 is no case: fails to lift
;;     export echo-permissions: func(p: permissions) -> permissions;
;;     export permissions-from-u32: func(n: u32) -> permissions; // bit 0 read, 1 write, 2 exec, 3 set-uid
;;     export echo-option: func(o: option<u32>) -> option<u32>;
;;     export echo-nested-option: func(o: option<option<u32>>) -> option<option<u32>>;
;;     export echo-option-string: func(o: option<string>) -> option<string>;
;;     export divide: func(a: u32, b: u32) -> result<u32, string>;   // err "division by zero" when b = 0
;;     export echo-result: func(r: result<u32, string>) -> result<u32, string>;
;;     export check: func(x: u32) -> result;                      // ok when x != 0, err (no payload) when 0
;;   }
;;
;; Memory layout of the core module: 16..40 the return area, 64.. constant data, 1024.. the bump
;; heap of cabi_realloc, emptied by the post-return of every export.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (data (i32.const 64) "division by zero")

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

    (func (export "id") (param i32) (result i32) (local.get 0))

    ;; point { x, y } -> return area: x @0, y @4
    (func (export "echo-point") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))

    ;; settings { max-depth: u32 @0, use-cache: bool @4, display-name: string @8 (ptr) @12 (len) }
    (func (export "echo-settings") (param $depth i32) (param $cache i32) (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $depth))
      (i32.store8 (i32.const 20) (local.get $cache))
      (i32.store (i32.const 24) (local.get $ptr))
      (i32.store (i32.const 28) (local.get $len))
      (i32.const 16))

    ;; tuple<u32, string> -> tuple<string @0 @4, u32 @8>
    (func (export "swap") (param $n i32) (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $ptr))
      (i32.store (i32.const 20) (local.get $len))
      (i32.store (i32.const 24) (local.get $n))
      (i32.const 16))

    ;; tuple<bool @0, f64 @8, s64 @16>
    (func (export "echo-triple") (param $b i32) (param $f f64) (param $s i64) (result i32)
      (i32.store8 (i32.const 16) (local.get $b))
      (f64.store (i32.const 24) (local.get $f))
      (i64.store (i32.const 32) (local.get $s))
      (i32.const 16))

    ;; shape flattens to (case: i32, payload: i64 — f64 bits, u32, or a string's ptr —, string len: i32);
    ;; in memory: case (u8) @0, payload @8 (f64 or u32 or string ptr), string len @12
    (func (export "echo-shape") (param $case i32) (param $a i64) (param $b i32) (result i32)
      (i32.store8 (i32.const 16) (local.get $case))
      (if (i32.eq (local.get $case) (i32.const 3))
        (then
          (i32.store (i32.const 24) (i32.wrap_i64 (local.get $a)))
          (i32.store (i32.const 28) (local.get $b)))
        (else
          (i64.store (i32.const 24) (local.get $a))))
      (i32.const 16))
    (func (export "shape-case") (param $case i32) (param i64 i32) (result i32) (local.get $case))

    (func (export "next-color") (param i32) (result i32)
      (i32.rem_u (i32.add (local.get 0) (i32.const 1)) (i32.const 3)))

    ;; option<u32>: case (u8) @0, value @4
    (func (export "echo-option") (param $case i32) (param $v i32) (result i32)
      (i32.store8 (i32.const 16) (local.get $case))
      (i32.store (i32.const 20) (local.get $v))
      (i32.const 16))

    ;; option<option<u32>>: outer case (u8) @0, inner case (u8) @4, value @8
    (func (export "echo-nested-option") (param $outer i32) (param $inner i32) (param $v i32) (result i32)
      (i32.store8 (i32.const 16) (local.get $outer))
      (i32.store8 (i32.const 20) (local.get $inner))
      (i32.store (i32.const 24) (local.get $v))
      (i32.const 16))

    ;; option<string> and result<u32, string>: case (u8) @0, then @4 and @8 (u32, or string ptr and len)
    (func (export "echo-case-2") (param $case i32) (param $a i32) (param $b i32) (result i32)
      (i32.store8 (i32.const 16) (local.get $case))
      (i32.store (i32.const 20) (local.get $a))
      (i32.store (i32.const 24) (local.get $b))
      (i32.const 16))

    (func (export "divide") (param $a i32) (param $b i32) (result i32)
      (if (i32.eqz (local.get $b))
        (then
          (i32.store8 (i32.const 16) (i32.const 1))   ;; err
          (i32.store (i32.const 20) (i32.const 64))   ;; "division by zero"
          (i32.store (i32.const 24) (i32.const 16)))
        (else
          (i32.store8 (i32.const 16) (i32.const 0))   ;; ok
          (i32.store (i32.const 20) (i32.div_u (local.get $a) (local.get $b)))))
      (i32.const 16))

    ;; result (no payloads) flattens to its case alone: 0 ok, 1 err
    (func (export "check") (param i32) (result i32) (i32.eqz (local.get 0)))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))

  ;; The named types of the world. WIT's world-level types are *imported* by name ((eq ...) type
  ;; imports, which need no definition at instantiation); the functions use the imported index.
  (type $point' (record (field "x" s32) (field "y" s32)))
  (import "point" (type $point (eq $point')))
  (type $settings' (record (field "max-depth" u32) (field "use-cache" bool) (field "display-name" string)))
  (import "settings" (type $settings (eq $settings')))
  (type $shape' (variant (case "circle" f64) (case "square" u32) (case "empty") (case "label" string)))
  (import "shape" (type $shape (eq $shape')))
  (type $color' (enum "red" "green" "light-blue"))
  (import "color" (type $color (eq $color')))
  (type $permissions' (flags "read" "write" "exec" "set-uid"))
  (import "permissions" (type $permissions (eq $permissions')))

  (func (export "echo-point") (param "p" $point) (result $point)
    (canon lift (core func $i "echo-point") (memory $mem) (post-return (core func $i "reset"))))
  (func (export "echo-settings") (param "s" $settings) (result $settings)
    (canon lift (core func $i "echo-settings") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "swap") (param "t" (tuple u32 string)) (result (tuple string u32))
    (canon lift (core func $i "swap") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "echo-triple") (param "t" (tuple bool f64 s64)) (result (tuple bool f64 s64))
    (canon lift (core func $i "echo-triple") (memory $mem) (post-return (core func $i "reset"))))
  (func (export "echo-shape") (param "s" $shape) (result $shape)
    (canon lift (core func $i "echo-shape") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "shape-case") (param "s" $shape) (result u32)
    (canon lift (core func $i "shape-case") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "echo-color") (param "c" $color) (result $color) (canon lift (core func $i "id")))
  (func (export "next-color") (param "c" $color) (result $color) (canon lift (core func $i "next-color")))
  (func (export "color-from-u32") (param "n" u32) (result $color) (canon lift (core func $i "id")))
  (func (export "echo-permissions") (param "p" $permissions) (result $permissions) (canon lift (core func $i "id")))
  (func (export "permissions-from-u32") (param "n" u32) (result $permissions) (canon lift (core func $i "id")))
  (func (export "echo-option") (param "o" (option u32)) (result (option u32))
    (canon lift (core func $i "echo-option") (memory $mem) (post-return (core func $i "reset"))))
  (func (export "echo-nested-option") (param "o" (option (option u32))) (result (option (option u32)))
    (canon lift (core func $i "echo-nested-option") (memory $mem) (post-return (core func $i "reset"))))
  (func (export "echo-option-string") (param "o" (option string)) (result (option string))
    (canon lift (core func $i "echo-case-2") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "divide") (param "a" u32) (param "b" u32) (result (result u32 (error string)))
    (canon lift (core func $i "divide") (memory $mem) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "echo-result") (param "r" (result u32 (error string))) (result (result u32 (error string)))
    (canon lift (core func $i "echo-case-2") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $i "reset"))))
  (func (export "check") (param "x" u32) (result (result)) (canon lift (core func $i "check")))
)
