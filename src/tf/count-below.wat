;; countBelow(ptr, n, st): how many of the n float32 values at byte address ptr are < st.
;; Runs on tfjs-backend-wasm's own memory (imported), so ranking reads scores where the matmul
;; wrote them. f32x4.lt is false for NaN on either side, exactly like JS `x < st`, so the counts
;; equal the JS loop's bit for bit (tested). Build: npm run build:wasm (needs wabt's wat2wasm).
(module
  (import "env" "memory" (memory 0))
  (func (export "countBelow") (param $p i32) (param $n i32) (param $st f32) (result i32)
    (local $k i32) (local $r i32) (local $c i32) (local $acc v128) (local $stv v128)
    (local.set $stv (f32x4.splat (local.get $st)))
    (local.set $k (i32.shr_u (local.get $n) (i32.const 2)))
    (block $done
      (br_if $done (i32.eqz (local.get $k)))
      (loop $blocks
        ;; lt gives all-ones (-1) per true lane: subtracting it counts.
        (local.set $acc (i32x4.sub (local.get $acc)
          (f32x4.lt (v128.load align=4 (local.get $p)) (local.get $stv))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br_if $blocks (local.get $k))))
    (local.set $c (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
    (local.set $r (i32.and (local.get $n) (i32.const 3)))
    (block $tail_done
      (br_if $tail_done (i32.eqz (local.get $r)))
      (loop $tail
        (local.set $c (i32.add (local.get $c) (f32.lt (f32.load (local.get $p)) (local.get $st))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $tail (local.get $r))))
    (local.get $c)))
