;; The convolution's filter gradient (dilation 1), NHWC, on the tfjs wasm backend's own memory
;; (imported: no copies). With ih = oh*sH + kh - padT and iw = ow*sW + kw - padL:
;;   dw[kh,kw,ci,co] = sum_{n,oh,ow} x[n,ih,iw,ci] * dy[n,oh,ow,co]
;; For each output row, tap and input channel, sixteen output channels at a time are summed in
;; four f32x4 registers over the row's positions (x[.,ci] splat to the lanes), then added to dw:
;; dy's row stays in cache across taps and channels, nothing is repacked, and the two-level sums
;; keep float32 rounding near a matmul's. Co must be a multiple of 4. Pointers and sizes are in
;; bytes. Built into conv_filter_grad.wasm.ts by scripts/build-wasm-kernels.mjs.
(module
  (import "env" "memory" (memory 0))

  ;; bytes [p, p+n) = 0; n a multiple of 16
  (func $zero (param $p i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store (local.get $p) (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; dw[ci, 0..Co) += sum over `count` positions of x[p,ci] * dy[p, 0..Co);
  ;; x steps by xStep bytes, dy by coBytes
  (func $accumulateRow
    (param $xp i32) (param $dyp i32) (param $dwp i32) (param $count i32) (param $xStep i32) (param $coBytes i32)
    (local $co i32) (local $x i32) (local $d i32) (local $left i32) (local $xs v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ;; sixteen channels a pass
    (local.set $co (i32.const 0))
    (block $wideDone (loop $wideNext
      (br_if $wideDone (i32.gt_u (i32.add (local.get $co) (i32.const 64)) (local.get $coBytes)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $left (local.get $count))
      (block $posDone (loop $posNext
        (br_if $posDone (i32.eqz (local.get $left)))
        (local.set $xs (f32x4.splat (f32.load (local.get $x))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xs) (v128.load (local.get $d)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xs) (v128.load offset=16 (local.get $d)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xs) (v128.load offset=32 (local.get $d)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xs) (v128.load offset=48 (local.get $d)))))
        (local.set $x (i32.add (local.get $x) (local.get $xStep)))
        (local.set $d (i32.add (local.get $d) (local.get $coBytes)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (br $posNext)))
      (local.set $d (i32.add (local.get $dwp) (local.get $co)))
      (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (local.get $a0)))
      (v128.store offset=16 (local.get $d) (f32x4.add (v128.load offset=16 (local.get $d)) (local.get $a1)))
      (v128.store offset=32 (local.get $d) (f32x4.add (v128.load offset=32 (local.get $d)) (local.get $a2)))
      (v128.store offset=48 (local.get $d) (f32x4.add (v128.load offset=48 (local.get $d)) (local.get $a3)))
      (local.set $co (i32.add (local.get $co) (i32.const 64)))
      (br $wideNext)))
    ;; the rest, four channels a pass
    (block $narrowDone (loop $narrowNext
      (br_if $narrowDone (i32.ge_u (local.get $co) (local.get $coBytes)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $left (local.get $count))
      (block $posDone (loop $posNext
        (br_if $posDone (i32.eqz (local.get $left)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (f32x4.splat (f32.load (local.get $x))) (v128.load (local.get $d)))))
        (local.set $x (i32.add (local.get $x) (local.get $xStep)))
        (local.set $d (i32.add (local.get $d) (local.get $coBytes)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (br $posNext)))
      (local.set $d (i32.add (local.get $dwp) (local.get $co)))
      (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (local.get $a0)))
      (local.set $co (i32.add (local.get $co) (i32.const 16)))
      (br $narrowNext))))

;; dw[ci..ci+4, 0..Co) += sum over `count` positions of x[p, ci..ci+4) (x) dy[p, 0..Co):
  ;; four input channels by eight output channels in eight registers, one x load and two dy
  ;; loads per position (a 4x8 outer product); the last four output channels, if Co is not a
  ;; multiple of 8, by $accumulateQuadNarrow
  (func $accumulateQuad
    (param $xp i32) (param $dyp i32) (param $dwp i32) (param $count i32) (param $xStep i32) (param $coBytes i32)
    (local $co i32) (local $x i32) (local $d i32) (local $left i32)
    (local $xv v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $co (i32.const 0))
    (block $coDone (loop $coNext
      (br_if $coDone (i32.gt_u (i32.add (local.get $co) (i32.const 32)) (local.get $coBytes)))
      (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0))
      (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0))
      (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a21 (v128.const i32x4 0 0 0 0))
      (local.set $a30 (v128.const i32x4 0 0 0 0)) (local.set $a31 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $left (local.get $count))
      (block $posDone (loop $posNext
        (br_if $posDone (i32.eqz (local.get $left)))
        (local.set $xv (v128.load (local.get $x)))
        (local.set $x0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $xv) (local.get $xv)))
        (local.set $x1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $xv) (local.get $xv)))
        (local.set $x2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $xv) (local.get $xv)))
        (local.set $x3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $xv) (local.get $xv)))
        (local.set $d0 (v128.load (local.get $d)))
        (local.set $d1 (v128.load offset=16 (local.get $d)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $x0) (local.get $d0))))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $x1) (local.get $d0))))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $x2) (local.get $d0))))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $x3) (local.get $d0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $x0) (local.get $d1))))
        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $x1) (local.get $d1))))
        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $x2) (local.get $d1))))
        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $x3) (local.get $d1))))
        (local.set $x (i32.add (local.get $x) (local.get $xStep)))
        (local.set $d (i32.add (local.get $d) (local.get $coBytes)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (br $posNext)))
      (local.set $d (i32.add (local.get $dwp) (local.get $co)))
      (call $addTo2 (local.get $d) (local.get $a00) (local.get $a01))
      (call $addTo2 (local.tee $d (i32.add (local.get $d) (local.get $coBytes))) (local.get $a10) (local.get $a11))
      (call $addTo2 (local.tee $d (i32.add (local.get $d) (local.get $coBytes))) (local.get $a20) (local.get $a21))
      (call $addTo2 (local.tee $d (i32.add (local.get $d) (local.get $coBytes))) (local.get $a30) (local.get $a31))
      (local.set $co (i32.add (local.get $co) (i32.const 32)))
      (br $coNext)))
    (if (i32.lt_u (local.get $co) (local.get $coBytes))
      (then (call $accumulateQuadNarrow
        (local.get $xp) (i32.add (local.get $dyp) (local.get $co)) (i32.add (local.get $dwp) (local.get $co))
        (local.get $count) (local.get $xStep) (local.get $coBytes)))))

  ;; as $accumulateQuad, for four output channels
  (func $accumulateQuadNarrow
    (param $x i32) (param $d i32) (param $dwp i32) (param $left i32) (param $xStep i32) (param $coBytes i32)
    (local $xv v128) (local $d0 v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $posDone (loop $posNext
      (br_if $posDone (i32.eqz (local.get $left)))
      (local.set $xv (v128.load (local.get $x)))
      (local.set $d0 (v128.load (local.get $d)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $xv) (local.get $xv)) (local.get $d0))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $xv) (local.get $xv)) (local.get $d0))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $xv) (local.get $xv)) (local.get $d0))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $xv) (local.get $xv)) (local.get $d0))))
      (local.set $x (i32.add (local.get $x) (local.get $xStep)))
      (local.set $d (i32.add (local.get $d) (local.get $coBytes)))
      (local.set $left (i32.sub (local.get $left) (i32.const 1)))
      (br $posNext)))
    (call $addTo (local.get $dwp) (local.get $a0))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (local.get $coBytes))) (local.get $a1))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (local.get $coBytes))) (local.get $a2))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (local.get $coBytes))) (local.get $a3)))

  ;; mem[p..p+32) += (v, w)
  (func $addTo2 (param $p i32) (param $v v128) (param $w v128)
    (call $addTo (local.get $p) (local.get $v))
    (call $addTo (i32.add (local.get $p) (i32.const 16)) (local.get $w)))

  ;; mem[p..p+16) += v
  (func $addTo (param $p i32) (param $v v128)
    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (local.get $v))))

  (func (export "convFilterGrad")
    (param $x i32) (param $dy i32) (param $dw i32)
    (param $N i32) (param $H i32) (param $W i32) (param $Ci i32) (param $OH i32) (param $OW i32) (param $Co i32)
    (param $KH i32) (param $KW i32) (param $sH i32) (param $sW i32) (param $padT i32) (param $padL i32)
    (local $coBytes i32) (local $ciBytes i32) (local $xStep i32)
    (local $n i32) (local $oh i32) (local $kh i32) (local $kw i32) (local $ci i32)
    (local $ih i32) (local $owLo i32) (local $owHi i32) (local $first i32) (local $last i32)
    (local $dyRow i32) (local $xRow i32) (local $xp i32) (local $dwTap i32)
    (local.set $coBytes (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $ciBytes (i32.shl (local.get $Ci) (i32.const 2)))
    (local.set $xStep (i32.mul (local.get $sW) (local.get $ciBytes)))
    (call $zero (local.get $dw)
      (i32.mul (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $Ci)) (local.get $coBytes)))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $oh (i32.const 0))
      (block $ohDone (loop $ohNext
        (br_if $ohDone (i32.ge_u (local.get $oh) (local.get $OH)))
        (local.set $dyRow (i32.add (local.get $dy)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $oh)) (local.get $OW)) (local.get $coBytes))))
        (local.set $kh (i32.const 0))
        (block $khDone (loop $khNext
          (br_if $khDone (i32.ge_u (local.get $kh) (local.get $KH)))
          (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sH)) (local.get $kh)) (local.get $padT)))
          ;; unsigned: a negative ih is out of bounds too
          (if (i32.lt_u (local.get $ih) (local.get $H))
            (then
              (local.set $xRow (i32.add (local.get $x)
                (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $ciBytes))))
              (local.set $kw (i32.const 0))
              (block $kwDone (loop $kwNext
                (br_if $kwDone (i32.ge_u (local.get $kw) (local.get $KW)))
                ;; the output columns whose iw = ow*sW + kw - padL lies in [0, W)
                (local.set $first (i32.sub (local.get $padL) (local.get $kw)))
                (local.set $owLo (select (i32.const 0)
                  (i32.div_s (i32.add (local.get $first) (i32.sub (local.get $sW) (i32.const 1))) (local.get $sW))
                  (i32.le_s (local.get $first) (i32.const 0))))
                (local.set $last (i32.add (local.get $first) (i32.sub (local.get $W) (i32.const 1))))
                (local.set $owHi (select (i32.const 0)
                  (i32.add (i32.div_s (local.get $last) (local.get $sW)) (i32.const 1))
                  (i32.lt_s (local.get $last) (i32.const 0))))
                (if (i32.gt_s (local.get $owHi) (local.get $OW)) (then (local.set $owHi (local.get $OW))))
                (if (i32.lt_s (local.get $owLo) (local.get $owHi))
                  (then
                    (local.set $dwTap (i32.add (local.get $dw)
                      (i32.mul (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $Ci)) (local.get $coBytes))))
                    (local.set $xp (i32.add (local.get $xRow)
                      (i32.mul (i32.sub (i32.add (i32.mul (local.get $owLo) (local.get $sW)) (local.get $kw)) (local.get $padL)) (local.get $ciBytes))))
                    (local.set $ci (i32.const 0))
                    (block $quadDone (loop $quadNext
                      (br_if $quadDone (i32.gt_u (i32.add (local.get $ci) (i32.const 4)) (local.get $Ci)))
                      (call $accumulateQuad
                        (i32.add (local.get $xp) (i32.shl (local.get $ci) (i32.const 2)))
                        (i32.add (local.get $dyRow) (i32.mul (local.get $owLo) (local.get $coBytes)))
                        (i32.add (local.get $dwTap) (i32.mul (local.get $ci) (local.get $coBytes)))
                        (i32.sub (local.get $owHi) (local.get $owLo))
                        (local.get $xStep) (local.get $coBytes))
                      (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
                      (br $quadNext)))
                    ;; the input channels past the last four
                    (block $ciDone (loop $ciNext
                      (br_if $ciDone (i32.ge_u (local.get $ci) (local.get $Ci)))
                      (call $accumulateRow
                        (i32.add (local.get $xp) (i32.shl (local.get $ci) (i32.const 2)))
                        (i32.add (local.get $dyRow) (i32.mul (local.get $owLo) (local.get $coBytes)))
                        (i32.add (local.get $dwTap) (i32.mul (local.get $ci) (local.get $coBytes)))
                        (i32.sub (local.get $owHi) (local.get $owLo))
                        (local.get $xStep) (local.get $coBytes))
                      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
                      (br $ciNext)))))
                (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                (br $kwNext)))))
          (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
          (br $khNext)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $ohNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))
)
