;; scalars.wat — every scalar WIT type, as a parameter and as a result (no memory needed: each
;; scalar flattens to one core value). As WIT:
;;
;;   world scalars {
;;     export echo-bool: func(value: bool) -> bool;
;;     export echo-s8: func(value: s8) -> s8;       export echo-u8: func(value: u8) -> u8;
;;     export echo-s16: func(value: s16) -> s16;    export echo-u16: func(value: u16) -> u16;
;;     export echo-s32: func(value: s32) -> s32;    export echo-u32: func(value: u32) -> u32;
;;     export echo-s64: func(value: s64) -> s64;    export echo-u64: func(value: u64) -> u64;
;;     export echo-f32: func(value: f32) -> f32;    export echo-f64: func(value: f64) -> f64;
;;     export echo-char: func(value: char) -> char;
;;     // value + 1 computed in i32/i64, then lifted: the canonical ABI keeps the low bits
;;     // (255 + 1 lifts to u8 0, 127 + 1 to s8 -128, 65535 + 1 to u16 0)
;;     export inc-u8: func(value: u8) -> u8;        export inc-s8: func(value: s8) -> s8;
;;     export inc-u16: func(value: u16) -> u16;     export inc-u32: func(value: u32) -> u32;
;;     export inc-u64: func(value: u64) -> u64;
;;     export neg-s64: func(value: s64) -> s64;     // 0 - value
;;     export not-bool: func(value: bool) -> bool;
;;     export bool-from-u32: func(value: u32) -> bool;  // the i32 as is: any non-zero i32 lifts to true
;;     export next-char: func(value: char) -> char;     // code point + 1: 'a' -> 'b'; a surrogate or
;;                                                      // a value past 0x10FFFF fails to lift
;;     export f32-to-f64: func(value: f32) -> f64;      // f64.promote_f32: shows the f32 rounding
;;     export mix: func(flag: bool, tiny: s8, byte: u8, short: s16, half: u16, int: s32, word: u32,
;;                      long: s64, quad: u64, single: f32, double: f64, letter: char) -> f64;
;;                      // the sum of all twelve (bool as 0/1, char as its code point)
;;   }
(component
  (core module $m
    (func (export "id32") (param i32) (result i32) (local.get 0))
    (func (export "id64") (param i64) (result i64) (local.get 0))
    (func (export "idf32") (param f32) (result f32) (local.get 0))
    (func (export "idf64") (param f64) (result f64) (local.get 0))
    (func (export "inc32") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "inc64") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
    (func (export "neg64") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
    (func (export "not") (param i32) (result i32) (i32.eqz (local.get 0)))
    (func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
    (func (export "mix")
      (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $e i32) (param $f i32)
      (param $g i32) (param $h i64) (param $i i64) (param $j f32) (param $k f64) (param $l i32)
      (result f64)
      (f64.add
        (f64.add
          (f64.add
            (f64.add (f64.convert_i32_u (local.get $a)) (f64.convert_i32_s (local.get $b)))
            (f64.add (f64.convert_i32_u (local.get $c)) (f64.convert_i32_s (local.get $d))))
          (f64.add
            (f64.add (f64.convert_i32_u (local.get $e)) (f64.convert_i32_s (local.get $f)))
            (f64.add (f64.convert_i32_u (local.get $g)) (f64.convert_i64_s (local.get $h)))))
        (f64.add
          (f64.add (f64.convert_i64_u (local.get $i)) (f64.promote_f32 (local.get $j)))
          (f64.add (local.get $k) (f64.convert_i32_u (local.get $l))))))
  )
  (core instance $i (instantiate $m))

  (func (export "echo-bool") (param "value" bool) (result bool) (canon lift (core func $i "id32")))
  (func (export "echo-s8") (param "value" s8) (result s8) (canon lift (core func $i "id32")))
  (func (export "echo-u8") (param "value" u8) (result u8) (canon lift (core func $i "id32")))
  (func (export "echo-s16") (param "value" s16) (result s16) (canon lift (core func $i "id32")))
  (func (export "echo-u16") (param "value" u16) (result u16) (canon lift (core func $i "id32")))
  (func (export "echo-s32") (param "value" s32) (result s32) (canon lift (core func $i "id32")))
  (func (export "echo-u32") (param "value" u32) (result u32) (canon lift (core func $i "id32")))
  (func (export "echo-s64") (param "value" s64) (result s64) (canon lift (core func $i "id64")))
  (func (export "echo-u64") (param "value" u64) (result u64) (canon lift (core func $i "id64")))
  (func (export "echo-f32") (param "value" f32) (result f32) (canon lift (core func $i "idf32")))
  (func (export "echo-f64") (param "value" f64) (result f64) (canon lift (core func $i "idf64")))
  (func (export "echo-char") (param "value" char) (result char) (canon lift (core func $i "id32")))

  (func (export "inc-u8") (param "value" u8) (result u8) (canon lift (core func $i "inc32")))
  (func (export "inc-s8") (param "value" s8) (result s8) (canon lift (core func $i "inc32")))
  (func (export "inc-u16") (param "value" u16) (result u16) (canon lift (core func $i "inc32")))
  (func (export "inc-u32") (param "value" u32) (result u32) (canon lift (core func $i "inc32")))
  (func (export "inc-u64") (param "value" u64) (result u64) (canon lift (core func $i "inc64")))
  (func (export "neg-s64") (param "value" s64) (result s64) (canon lift (core func $i "neg64")))
  (func (export "not-bool") (param "value" bool) (result bool) (canon lift (core func $i "not")))
  (func (export "bool-from-u32") (param "value" u32) (result bool) (canon lift (core func $i "id32")))
  (func (export "next-char") (param "value" char) (result char) (canon lift (core func $i "inc32")))
  (func (export "f32-to-f64") (param "value" f32) (result f64) (canon lift (core func $i "promote")))
  (func (export "mix")
    (param "flag" bool) (param "tiny" s8) (param "byte" u8) (param "short" s16) (param "half" u16) (param "int" s32)
    (param "word" u32) (param "long" s64) (param "quad" u64) (param "single" f32) (param "double" f64) (param "letter" char)
    (result f64)
    (canon lift (core func $i "mix")))
)
