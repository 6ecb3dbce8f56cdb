  ;; ---- prelude (wasm-plugins/wat/prelude.wat), pasted in by wasm-plugins/build.ts ------------
  ;; The canonical-ABI plumbing every hand-written plugin needs: a bump allocator the host
  ;; lowers arguments with, result areas, and a msgpack writer.
  ;;
  ;; Memory:     0..  15  scratch
  ;;            16..  27  the result area of `execute` (discriminant, pointer, length)
  ;;            32.. 127  return areas of imports
  ;;           128.. 255  the prelude's strings
  ;;           256..1023  the plugin's strings
  ;;          1024..65535 the answer being written
  ;;         65536..      heap: arguments and import results, freed after every call
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (global $out (mut i32) (i32.const 1024))
  (global $overflow (mut i32) (i32.const 0))
  (data (i32.const 128) "the answer is larger than 63 KiB")
  (data (i32.const 160) "unknown op")

  (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $p i32) (local $end i32) (local $have i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1))) (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $p) (local.get $new_size)))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16))) (i32.const -1))
          (then unreachable))))
    (if (local.get $old_size) (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
    (global.set $heap (local.get $end))
    (local.get $p))

  (func $reset
    (global.set $heap (i32.const 65536))
    (global.set $out (i32.const 1024))
    (global.set $overflow (i32.const 0)))

  (func (export "cabi_post_execute") (param i32) (call $reset))

  ;; result<list<u8>, string>
  (func $ok (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $ptr))
    (i32.store (i32.const 24) (local.get $len))
    (i32.const 16))
  (func $err (param $ptr i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 1))
    (i32.store (i32.const 20) (local.get $ptr))
    (i32.store (i32.const 24) (local.get $len))
    (i32.const 16))
  (func $unknown_op (result i32) (call $err (i32.const 160) (i32.const 10)))
  ;; the answer written so far
  (func $ok_out (result i32)
    (if (global.get $overflow) (then (return (call $err (i32.const 128) (i32.const 32)))))
    (call $ok (i32.const 1024) (i32.sub (global.get $out) (i32.const 1024))))

  (func $eq (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $al) (local.get $bl)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $al)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i))) (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; a msgpack unsigned integer argument: nil or no bytes -> $default, not an uint -> -1
  (func $arg_uint (param $p i32) (param $len i32) (param $default i32) (result i32)
    (local $b i32)
    (if (i32.eqz (local.get $len)) (then (return (local.get $default))))
    (local.set $b (i32.load8_u (local.get $p)))
    (if (i32.lt_u (local.get $b) (i32.const 0x80)) (then (return (local.get $b))))
    (if (i32.eq (local.get $b) (i32.const 0xc0)) (then (return (local.get $default))))
    (if (i32.eq (local.get $b) (i32.const 0xcc)) (then (return (i32.load8_u offset=1 (local.get $p)))))
    (if (i32.eq (local.get $b) (i32.const 0xcd))
      (then (return (i32.or (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 8)) (i32.load8_u offset=2 (local.get $p))))))
    (if (i32.eq (local.get $b) (i32.const 0xce))
      (then (return (i32.or
        (i32.or (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 24)) (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 16)))
        (i32.or (i32.shl (i32.load8_u offset=3 (local.get $p)) (i32.const 8)) (i32.load8_u offset=4 (local.get $p)))))))
    (i32.const -1))

  ;; ---- msgpack writer --------------------------------------------------------------------
  (func $byte (param $b i32)
    (if (i32.ge_u (global.get $out) (i32.const 65536)) (then (global.set $overflow (i32.const 1)) (return)))
    (i32.store8 (global.get $out) (local.get $b))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))
  (func $be32 (param $v i32)
    (call $byte (i32.shr_u (local.get $v) (i32.const 24)))
    (call $byte (i32.and (i32.shr_u (local.get $v) (i32.const 16)) (i32.const 255)))
    (call $byte (i32.and (i32.shr_u (local.get $v) (i32.const 8)) (i32.const 255)))
    (call $byte (i32.and (local.get $v) (i32.const 255))))
  (func $nil (call $byte (i32.const 0xc0)))
  (func $uint (param $v i32)
    (if (i32.lt_u (local.get $v) (i32.const 0x80)) (then (call $byte (local.get $v)) (return)))
    (call $byte (i32.const 0xce))
    (call $be32 (local.get $v)))
  (func $map (param $n i32) (call $byte (i32.or (i32.const 0x80) (local.get $n))))
  (func $array (param $n i32)
    (if (i32.lt_u (local.get $n) (i32.const 16)) (then (call $byte (i32.or (i32.const 0x90) (local.get $n))) (return)))
    (call $byte (i32.const 0xdc))
    (call $byte (i32.shr_u (local.get $n) (i32.const 8)))
    (call $byte (i32.and (local.get $n) (i32.const 255))))
  (func $str (param $p i32) (param $len i32)
    (local $i i32)
    (if (i32.lt_u (local.get $len) (i32.const 32))
      (then (call $byte (i32.or (i32.const 0xa0) (local.get $len))))
      (else
        (if (i32.lt_u (local.get $len) (i32.const 256))
          (then (call $byte (i32.const 0xd9)) (call $byte (local.get $len)))
          (else (call $byte (i32.const 0xdb)) (call $be32 (local.get $len))))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $byte (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; ---- end of prelude -------------------------------------------------------------------
