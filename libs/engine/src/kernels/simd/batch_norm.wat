;; Training-mode batch norm of NHWC activations, x as [P positions, C channels], in the passes
;; it needs (tfjs composes it of a dozen kernels, a pass each), on the tfjs wasm backend's own
;; memory (imported: no copies). Channels in lanes of four: C must be a multiple of 4.
;; An activation can follow (ReLU, leaky ReLU): `act` 1 applies it with negative slope `slope`
;; (0 for ReLU) in the same pass, and the gradient takes it back through the saved output
;; (positive where the activation's input was), where tfjs would add two passes of its own.
;; Channel sums are two-level (ROW positions into `row`, then into the total), which keeps
;; float32 rounding near tfjs' reductions. Pointers and sizes are in bytes, P and C in elements.
;; Built into batch_norm.wasm.ts by scripts/build-wasm-kernels.mjs.
(module
  (import "env" "memory" (memory 0))

  ;; bytes [p, p+n) = 0; n a multiple of 16
  (func $zero (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $next))))

  ;; dst[i] += src[i] over n bytes
  (func $addInto (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $next))))

  ;; the positions summed into `row` before it is added to the total
  (global $ROW i32 (i32.const 64))

  ;; mean[c] = sum_p x[p,c] / P; variance[c] = sum_p (x[p,c] - mean[c])^2 / P (two passes, as
  ;; tf.moments); `row` is C floats of scratch
  (func (export "channelMoments") (param $x i32) (param $P i32) (param $C i32) (param $mean i32) (param $variance i32) (param $row i32)
    (local $cBytes i32) (local $p i32) (local $xp i32) (local $c i32) (local $rowEnd i32) (local $d v128) (local $count v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $count (f32x4.splat (f32.convert_i32_u (local.get $P))))
    ;; pass 1: sums, then means
    (call $zero (local.get $mean) (local.get $cBytes))
    (local.set $xp (local.get $x))
    (local.set $p (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
      (call $zero (local.get $row) (local.get $cBytes))
      (local.set $rowEnd (i32.add (local.get $p) (global.get $ROW)))
      (if (i32.gt_u (local.get $rowEnd) (local.get $P)) (then (local.set $rowEnd (local.get $P))))
      (block $rowDone (loop $rowNext
        (br_if $rowDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
        (local.set $c (i32.const 0))
        (block $cDone (loop $cNext
          (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
          (v128.store (i32.add (local.get $row) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $row) (local.get $c))) (v128.load (i32.add (local.get $xp) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $cNext)))
        (local.set $xp (i32.add (local.get $xp) (local.get $cBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowNext)))
      (call $addInto (local.get $mean) (local.get $row) (local.get $cBytes))
      (br $next)))
    (local.set $c (i32.const 0))
    (block $cDone (loop $cNext
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
      (v128.store (i32.add (local.get $mean) (local.get $c)) (f32x4.div (v128.load (i32.add (local.get $mean) (local.get $c))) (local.get $count)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $cNext)))
    ;; pass 2: centred squares, then the variances
    (call $zero (local.get $variance) (local.get $cBytes))
    (local.set $xp (local.get $x))
    (local.set $p (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
      (call $zero (local.get $row) (local.get $cBytes))
      (local.set $rowEnd (i32.add (local.get $p) (global.get $ROW)))
      (if (i32.gt_u (local.get $rowEnd) (local.get $P)) (then (local.set $rowEnd (local.get $P))))
      (block $rowDone (loop $rowNext
        (br_if $rowDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
        (local.set $c (i32.const 0))
        (block $cDone (loop $cNext
          (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $xp) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c)))))
          (v128.store (i32.add (local.get $row) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $row) (local.get $c))) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $cNext)))
        (local.set $xp (i32.add (local.get $xp) (local.get $cBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowNext)))
      (call $addInto (local.get $variance) (local.get $row) (local.get $cBytes))
      (br $next)))
    (local.set $c (i32.const 0))
    (block $cDone (loop $cNext
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
      (v128.store (i32.add (local.get $variance) (local.get $c)) (f32x4.div (v128.load (i32.add (local.get $variance) (local.get $c))) (local.get $count)))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $cNext))))

  ;; the activation of z with negative slope s: max(z, 0) + s * min(z, 0) (exactly z or s * z)
  (func $activate (param $z v128) (param $s v128) (result v128)
    (f32x4.add (f32x4.max (local.get $z) (v128.const f32x4 0 0 0 0))
      (f32x4.mul (local.get $s) (f32x4.min (local.get $z) (v128.const f32x4 0 0 0 0)))))

  ;; dy taken back through the activation whose output is y: dy where y > 0, else s * dy
  (func $unactivate (param $dy v128) (param $y v128) (param $s v128) (result v128)
    (v128.bitselect (local.get $dy) (f32x4.mul (local.get $dy) (local.get $s)) (f32x4.gt (local.get $y) (v128.const f32x4 0 0 0 0))))

  ;; xhat = (x - mean) * invStd; y = xhat * gamma + beta, then the activation if act
  (func (export "normalize")
    (param $x i32) (param $P i32) (param $C i32) (param $mean i32) (param $invStd i32) (param $gamma i32) (param $beta i32)
    (param $xhat i32) (param $y i32) (param $act i32) (param $slope f32)
    (local $cBytes i32) (local $end i32) (local $c i32) (local $h v128) (local $z v128) (local $s v128)
    (local.set $s (f32x4.splat (local.get $slope)))
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $P) (local.get $cBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $c (i32.const 0))
      (block $cDone (loop $cNext
        (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
        (local.set $h (f32x4.mul
          (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $c))) (v128.load (i32.add (local.get $mean) (local.get $c))))
          (v128.load (i32.add (local.get $invStd) (local.get $c)))))
        (v128.store (i32.add (local.get $xhat) (local.get $c)) (local.get $h))
        (local.set $z
          (f32x4.add (f32x4.mul (local.get $h) (v128.load (i32.add (local.get $gamma) (local.get $c)))) (v128.load (i32.add (local.get $beta) (local.get $c)))))
        (if (local.get $act) (then (local.set $z (call $activate (local.get $z) (local.get $s)))))
        (v128.store (i32.add (local.get $y) (local.get $c)) (local.get $z))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cNext)))
      (local.set $x (i32.add (local.get $x) (local.get $cBytes)))
      (local.set $xhat (i32.add (local.get $xhat) (local.get $cBytes)))
      (local.set $y (i32.add (local.get $y) (local.get $cBytes)))
      (br $next))))

  ;; dBeta[c] = sum_p d[p,c]; dGamma[c] = sum_p d[p,c] * xhat[p,c], where d is dy, or with act dy
  ;; taken back through the activation (its output y); rowB and rowG are C floats of scratch
  (func (export "backwardSums")
    (param $dy i32) (param $xhat i32) (param $P i32) (param $C i32) (param $dBeta i32) (param $dGamma i32) (param $rowB i32) (param $rowG i32)
    (param $act i32) (param $y i32) (param $slope f32)
    (local $cBytes i32) (local $p i32) (local $c i32) (local $rowEnd i32) (local $d v128) (local $s v128)
    (local.set $s (f32x4.splat (local.get $slope)))
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (call $zero (local.get $dBeta) (local.get $cBytes))
    (call $zero (local.get $dGamma) (local.get $cBytes))
    (local.set $p (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $P)))
      (call $zero (local.get $rowB) (local.get $cBytes))
      (call $zero (local.get $rowG) (local.get $cBytes))
      (local.set $rowEnd (i32.add (local.get $p) (global.get $ROW)))
      (if (i32.gt_u (local.get $rowEnd) (local.get $P)) (then (local.set $rowEnd (local.get $P))))
      (block $rowDone (loop $rowNext
        (br_if $rowDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
        (local.set $c (i32.const 0))
        (block $cDone (loop $cNext
          (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
          (local.set $d (v128.load (i32.add (local.get $dy) (local.get $c))))
          (if (local.get $act) (then
            (local.set $d (call $unactivate (local.get $d) (v128.load (i32.add (local.get $y) (local.get $c))) (local.get $s)))))
          (v128.store (i32.add (local.get $rowB) (local.get $c)) (f32x4.add (v128.load (i32.add (local.get $rowB) (local.get $c))) (local.get $d)))
          (v128.store (i32.add (local.get $rowG) (local.get $c))
            (f32x4.add (v128.load (i32.add (local.get $rowG) (local.get $c))) (f32x4.mul (local.get $d) (v128.load (i32.add (local.get $xhat) (local.get $c))))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $cNext)))
        (local.set $dy (i32.add (local.get $dy) (local.get $cBytes)))
        (local.set $xhat (i32.add (local.get $xhat) (local.get $cBytes)))
        (local.set $y (i32.add (local.get $y) (local.get $cBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowNext)))
      (call $addInto (local.get $dBeta) (local.get $rowB) (local.get $cBytes))
      (call $addInto (local.get $dGamma) (local.get $rowG) (local.get $cBytes))
      (br $next))))

  ;; dx = scale * ((d - meanDy) - xhat * meanDyXhat), per channel vectors as the composed gradient
  ;; has them; d as in backwardSums
  (func (export "backwardApply")
    (param $dy i32) (param $xhat i32) (param $P i32) (param $C i32) (param $scale i32) (param $meanDy i32) (param $meanDyXhat i32) (param $dx i32)
    (param $act i32) (param $y i32) (param $slope f32)
    (local $cBytes i32) (local $end i32) (local $c i32) (local $d v128) (local $s v128)
    (local.set $s (f32x4.splat (local.get $slope)))
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $dy) (i32.mul (local.get $P) (local.get $cBytes))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
      (local.set $c (i32.const 0))
      (block $cDone (loop $cNext
        (br_if $cDone (i32.ge_u (local.get $c) (local.get $cBytes)))
        (local.set $d (v128.load (i32.add (local.get $dy) (local.get $c))))
        (if (local.get $act) (then
          (local.set $d (call $unactivate (local.get $d) (v128.load (i32.add (local.get $y) (local.get $c))) (local.get $s)))))
        (v128.store (i32.add (local.get $dx) (local.get $c))
          (f32x4.mul (v128.load (i32.add (local.get $scale) (local.get $c)))
            (f32x4.sub
              (f32x4.sub (local.get $d) (v128.load (i32.add (local.get $meanDy) (local.get $c))))
              (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $c))) (v128.load (i32.add (local.get $meanDyXhat) (local.get $c)))))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cNext)))
      (local.set $dy (i32.add (local.get $dy) (local.get $cBytes)))
      (local.set $xhat (i32.add (local.get $xhat) (local.get $cBytes)))
      (local.set $y (i32.add (local.get $y) (local.get $cBytes)))
      (local.set $dx (i32.add (local.get $dx) (local.get $cBytes)))
      (br $next))))
)
