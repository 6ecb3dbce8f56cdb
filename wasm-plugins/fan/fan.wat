;; fan: the entities most called (fan-in) and calling most (fan-out), by resolved and
;; name-matched `calls` edges. Hand-written against the canonical ABI: one `degrees` import
;; per direction brings every entity's count into linear memory, a top-k insertion keeps the
;; largest, and the answer is msgpack:
;;   { fanIn: [[entity id, calls], ...], fanOut: [[entity id, calls], ...] }, largest first.
(module
  ;; degrees(kind: option<edge-kind>, dir: direction) -> list<u32>, through a return area
  (import "isg:plugin/graph@0.2.0" "degrees" (func $degrees (param i32 i32 i32 i32)))
  ;; entity(id) -> option<entity-info>: [some u8][id u32][key ptr, len][name ptr, len][kind u8][file ptr, len]
  (import "isg:plugin/graph@0.2.0" "entity" (func $entity (param i32 i32)))
  ;; @prelude
  (data (i32.const 256) "top")
  (data (i32.const 260) "fanIn")
  (data (i32.const 268) "fanOut")
  (data (i32.const 276) "limit")
  (data (i32.const 288) "bad-args: fan top takes nil, a count or { limit: 1..100 }")

  ;; `calls` is case 3 of edge-kind; direction: outgoing 0, incoming 1
  (func $top (param $dir i32) (param $limit i32)
    (local $list i32) (local $n i32) (local $slots i32) (local $filled i32)
    (local $i i32) (local $d i32) (local $j i32)
    (call $degrees (i32.const 1) (i32.const 3) (local.get $dir) (i32.const 32))
    (local.set $list (i32.load (i32.const 32)))
    (local.set $n (i32.load (i32.const 36)))
    ;; slots of [count, id], kept sorted by count, largest first
    (local.set $slots (call $cabi_realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.shl (local.get $limit) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.load (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.and
              (i32.ne (local.get $d) (i32.const 0))
              (i32.or
                (i32.lt_u (local.get $filled) (local.get $limit))
                (i32.gt_u (local.get $d) (i32.load (i32.add (local.get $slots) (i32.shl (i32.sub (local.get $filled) (i32.const 1)) (i32.const 3)))))))
          (then
            (if (i32.lt_u (local.get $filled) (local.get $limit)) (then (local.set $filled (i32.add (local.get $filled) (i32.const 1)))))
            ;; shift smaller counts down one slot; equal counts keep their place (lower ids first)
            (local.set $j (i32.sub (local.get $filled) (i32.const 1)))
            (block $placed
              (loop $shift
                (br_if $placed (i32.eqz (local.get $j)))
                (br_if $placed (i32.ge_u (i32.load (i32.add (local.get $slots) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3)))) (local.get $d)))
                (i64.store (i32.add (local.get $slots) (i32.shl (local.get $j) (i32.const 3)))
                  (i64.load (i32.add (local.get $slots) (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 3)))))
                (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                (br $shift)))
            (i32.store (i32.add (local.get $slots) (i32.shl (local.get $j) (i32.const 3))) (local.get $d))
            (i32.store offset=4 (i32.add (local.get $slots) (i32.shl (local.get $j) (i32.const 3))) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $array (local.get $filled))
    (local.set $i (i32.const 0))
    (block $written
      (loop $each
        (br_if $written (i32.ge_u (local.get $i) (local.get $filled)))
        (call $entity (i32.load offset=4 (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 3)))) (i32.const 64))
        (call $array (i32.const 2))
        ;; an id with edges is alive, so the option is `some`
        (call $str (i32.load (i32.const 72)) (i32.load (i32.const 76)))
        (call $uint (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; nil, a positive fixint, or the map { "limit": fixint } (with a fixmap or a map16 header)
  (func $limit (param $p i32) (param $len i32) (result i32)
    (local $n i32) (local $k i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 10))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0xc0)) (then (return (i32.const 10))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x80)) (then (return (i32.const 10))))
    (if (i32.lt_u (i32.load8_u (local.get $p)) (i32.const 0x80))
      (then (local.set $n (i32.load8_u (local.get $p))))
      (else
        ;; $k: where the key starts
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x81)) (then (local.set $k (i32.const 1))))
        (if (i32.and (i32.eq (i32.load8_u (local.get $p)) (i32.const 0xde))
                     (i32.and (i32.eqz (i32.load8_u offset=1 (local.get $p))) (i32.eq (i32.load8_u offset=2 (local.get $p)) (i32.const 1))))
          (then (local.set $k (i32.const 3))))
        (if (i32.eqz (local.get $k)) (then (return (i32.const -1))))
        (if (i32.ne (local.get $len) (i32.add (local.get $k) (i32.const 7))) (then (return (i32.const -1))))
        (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $k))) (i32.const 0xa5)) (then (return (i32.const -1))))
        (if (i32.eqz (call $eq (i32.add (local.get $p) (i32.add (local.get $k) (i32.const 1))) (i32.const 5) (i32.const 276) (i32.const 5)))
          (then (return (i32.const -1))))
        (local.set $n (i32.load8_u (i32.add (local.get $p) (i32.add (local.get $k) (i32.const 6)))))
        (if (i32.ge_u (local.get $n) (i32.const 0x80)) (then (return (i32.const -1))))))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 100))) (then (return (i32.const -1))))
    (local.get $n))

  (func (export "execute") (param $op i32) (param $oplen i32) (param $args i32) (param $argslen i32) (result i32)
    (local $limit i32)
    (if (i32.eqz (call $eq (local.get $op) (local.get $oplen) (i32.const 256) (i32.const 3)))
      (then (return (call $unknown_op))))
    (local.set $limit (call $limit (local.get $args) (local.get $argslen)))
    (if (i32.eq (local.get $limit) (i32.const -1)) (then (return (call $err (i32.const 288) (i32.const 57)))))
    (call $map (i32.const 2))
    (call $str (i32.const 260) (i32.const 5))
    (call $top (i32.const 1) (local.get $limit))
    (call $str (i32.const 268) (i32.const 6))
    (call $top (i32.const 0) (local.get $limit))
    (call $ok_out))
)
