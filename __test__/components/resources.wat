;; resources.wat — component-model resources both ways: a host resource `logger` imported from an
;; interface (made, used and dropped by the guest, or made and handed to the host), and a guest
;; resource `counter` exported in an interface, with a destructor that counts its runs. As WIT:
;;
;;   package acme:res@0.1.0;
;;   interface host {
;;     resource logger {
;;       constructor(prefix: string);
;;       log: func(msg: string) -> u32;             // the host's answer (e.g. lines logged so far)
;;       default: static func() -> logger;
;;     }
;;   }
;;   interface counters {
;;     resource counter {
;;       constructor(start: u32);
;;       increment: func() -> u32;                  // +1 (wrapping), the new value
;;       get: func() -> u32;
;;       merge: static func(a: counter, b: borrow<counter>) -> counter;   // a.value + b.value; `a` is dropped by the guest
;;     }
;;     total: func(c: borrow<counter>) -> u32;      // c's value
;;     drops: func() -> u32;                        // how many times the destructor of counter ran
;;   }
;;   world resources {
;;     import host;
;;     use host.{logger};
;;     export counters;
;;     export use-logger: func(msg: string) -> u32; // l = logger("g:"); l.log(msg); r = l.log(msg); drop l; r
;;     export make-logger: func() -> logger;        // logger.default(), its ownership moved to the caller
;;     export log-with: func(l: borrow<logger>, msg: string) -> u32;   // l.log(msg), then the borrow dropped
;;   }
;;
;; Two core modules: $state owns the memory, cabi_realloc and the destructor of `counter` (the
;; resource type needs its dtor before the canon resource.* built-ins exist, and $main needs
;; those), $main the rest. A counter's rep is the address of its u32 cell: cells at 1024, 1028…
;; (below 65536: at most 16128 counters in an instance, then `unreachable`), never reused.
;; Memory layout: 16.. constant data ("g:"), 1024..65536 the cells, 65536.. the bump heap of
;; cabi_realloc, emptied by the post-return of use-logger and log-with.
;;
;; The canonical ABI's rules that the guest follows: a method of its own resource gets a borrow as
;; the rep itself (the cell's address), an own<counter> parameter as a handle of its table (merge
;; reads it with resource.rep, then drops it: the destructor runs); a borrow<logger> parameter is
;; a handle of its table that it must drop before it returns (dropping a borrow ends the loan and
;; calls nothing on the host); dropping its own<logger> is the host's destructor.
(component
  (import "acme:res/host@0.1.0" (instance $host
    (export "logger" (type $logger (sub resource)))
    (export "[constructor]logger" (func (param "prefix" string) (result (own $logger))))
    (export "[method]logger.log" (func (param "self" (borrow $logger)) (param "msg" string) (result u32)))
    (export "[static]logger.default" (func (result (own $logger))))))
  (alias export $host "logger" (type $host-logger))
  (import "logger" (type $logger (eq $host-logger)))   ;; `use host.{logger}` at the world level
  (alias export $host "[constructor]logger" (func $logger-new))
  (alias export $host "[method]logger.log" (func $logger-log))
  (alias export $host "[static]logger.default" (func $logger-default))

  (core module $state
    (memory (export "memory") 2)
    (global $heap (mut i32) (i32.const 65536))
    (global $drops (mut i32) (i32.const 0))
    (data (i32.const 16) "g:")
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
    (func (export "reset") (param i32) (global.set $heap (i32.const 65536)))
    ;; the destructor of counter (its rep: the cell's address)
    (func (export "dtor") (param i32) (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
    (func (export "drops") (result i32) (global.get $drops)))
  (core instance $s (instantiate $state))
  (alias core export $s "memory" (core memory $mem))
  (alias core export $s "cabi_realloc" (core func $realloc))

  (type $counter (resource (rep i32) (dtor (core func $s "dtor"))))
  (core func $counter-new (canon resource.new $counter))
  (core func $counter-rep (canon resource.rep $counter))
  (core func $counter-drop (canon resource.drop $counter))
  (core func $logger-drop (canon resource.drop $logger))
  (core func $logger-new-low (canon lower (func $logger-new) (memory $mem) string-encoding=utf8))
  (core func $logger-log-low (canon lower (func $logger-log) (memory $mem) string-encoding=utf8))
  (core func $logger-default-low (canon lower (func $logger-default)))

  (core module $main
    (import "state" "memory" (memory 2))
    (import "res" "counter-new" (func $counter-new (param i32) (result i32)))        ;; rep -> own handle
    (import "res" "counter-rep" (func $counter-rep (param i32) (result i32)))        ;; own handle -> rep
    (import "res" "counter-drop" (func $counter-drop (param i32)))                   ;; own handle (runs the dtor)
    (import "res" "logger-new" (func $logger-new (param i32 i32) (result i32)))      ;; (prefix ptr, len) -> own handle
    (import "res" "logger-log" (func $logger-log (param i32 i32 i32) (result i32)))  ;; (handle, msg ptr, len) -> u32
    (import "res" "logger-default" (func $logger-default (result i32)))              ;; -> own handle
    (import "res" "logger-drop" (func $logger-drop (param i32)))                     ;; a handle (own: the host's drop; borrow: the loan's end)
    (global $next (mut i32) (i32.const 1024))
    ;; a new counter holding v: a fresh cell, and an own handle to it
    (func $make (param $v i32) (result i32)
      (local $cell i32)
      (local.set $cell (global.get $next))
      (if (i32.ge_u (local.get $cell) (i32.const 65536)) (then unreachable))
      (global.set $next (i32.add (local.get $cell) (i32.const 4)))
      (i32.store (local.get $cell) (local.get $v))
      (call $counter-new (local.get $cell)))
    (func (export "counter-ctor") (param i32) (result i32) (call $make (local.get 0)))
    ;; a borrow of counter reaches its own component as the rep: the cell's address
    (func (export "counter-get") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "counter-increment") (param $cell i32) (result i32)
      (i32.store (local.get $cell) (i32.add (i32.load (local.get $cell)) (i32.const 1)))
      (i32.load (local.get $cell)))
    ;; merge(a: own handle, b: rep)
    (func (export "counter-merge") (param $a i32) (param $b i32) (result i32)
      (local $sum i32)
      (local.set $sum (i32.add (i32.load (call $counter-rep (local.get $a))) (i32.load (local.get $b))))
      (call $counter-drop (local.get $a))
      (call $make (local.get $sum)))
    (func (export "use-logger") (param $p i32) (param $l i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $logger-new (i32.const 16) (i32.const 2)))
      (drop (call $logger-log (local.get $h) (local.get $p) (local.get $l)))
      (local.set $r (call $logger-log (local.get $h) (local.get $p) (local.get $l)))
      (call $logger-drop (local.get $h))
      (local.get $r))
    (func (export "make-logger") (result i32) (call $logger-default))
    (func (export "log-with") (param $h i32) (param $p i32) (param $l i32) (result i32)
      (local $r i32)
      (local.set $r (call $logger-log (local.get $h) (local.get $p) (local.get $l)))
      (call $logger-drop (local.get $h))
      (local.get $r)))
  (core instance $m (instantiate $main
    (with "state" (instance $s))
    (with "res" (instance
      (export "counter-new" (func $counter-new))
      (export "counter-rep" (func $counter-rep))
      (export "counter-drop" (func $counter-drop))
      (export "logger-new" (func $logger-new-low))
      (export "logger-log" (func $logger-log-low))
      (export "logger-default" (func $logger-default-low))
      (export "logger-drop" (func $logger-drop))))))

  (func $ctor (param "start" u32) (result (own $counter)) (canon lift (core func $m "counter-ctor")))
  (func $increment (param "self" (borrow $counter)) (result u32) (canon lift (core func $m "counter-increment")))
  (func $get (param "self" (borrow $counter)) (result u32) (canon lift (core func $m "counter-get")))
  (func $merge (param "a" (own $counter)) (param "b" (borrow $counter)) (result (own $counter)) (canon lift (core func $m "counter-merge")))
  (func $total (param "c" (borrow $counter)) (result u32) (canon lift (core func $m "counter-get")))
  (func $drops (result u32) (canon lift (core func $s "drops")))
  ;; The exported interface: an instance of a nested component that re-exports the functions with
  ;; types naming its own export of `counter` (as wit-component encodes it: an instance built of
  ;; exports alone cannot give the resource a name that the functions' types can use).
  (component $counters-shim
    (import "import-type-counter" (type $c (sub resource)))
    (import "import-constructor-counter" (func $ctor (param "start" u32) (result (own $c))))
    (import "import-method-counter-increment" (func $increment (param "self" (borrow $c)) (result u32)))
    (import "import-method-counter-get" (func $get (param "self" (borrow $c)) (result u32)))
    (import "import-static-counter-merge" (func $merge (param "a" (own $c)) (param "b" (borrow $c)) (result (own $c))))
    (import "import-func-total" (func $total (param "c" (borrow $c)) (result u32)))
    (import "import-func-drops" (func $drops (result u32)))
    (export $counter "counter" (type $c))
    (export "[constructor]counter" (func $ctor) (func (param "start" u32) (result (own $counter))))
    (export "[method]counter.increment" (func $increment) (func (param "self" (borrow $counter)) (result u32)))
    (export "[method]counter.get" (func $get) (func (param "self" (borrow $counter)) (result u32)))
    (export "[static]counter.merge" (func $merge) (func (param "a" (own $counter)) (param "b" (borrow $counter)) (result (own $counter))))
    (export "total" (func $total) (func (param "c" (borrow $counter)) (result u32)))
    (export "drops" (func $drops) (func (result u32))))
  (instance $counters (instantiate $counters-shim
    (with "import-type-counter" (type $counter))
    (with "import-constructor-counter" (func $ctor))
    (with "import-method-counter-increment" (func $increment))
    (with "import-method-counter-get" (func $get))
    (with "import-static-counter-merge" (func $merge))
    (with "import-func-total" (func $total))
    (with "import-func-drops" (func $drops))))
  (export "acme:res/counters@0.1.0" (instance $counters))

  (func (export "use-logger") (param "msg" string) (result u32)
    (canon lift (core func $m "use-logger") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $s "reset"))))
  (func (export "make-logger") (result (own $logger)) (canon lift (core func $m "make-logger")))
  (func (export "log-with") (param "l" (borrow $logger)) (param "msg" string) (result u32)
    (canon lift (core func $m "log-with") (memory $mem) (realloc $realloc) string-encoding=utf8 (post-return (core func $s "reset"))))
)
