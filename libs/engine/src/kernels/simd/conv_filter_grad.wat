;; The convolution's filter gradient (dilation 1), NHWC, on the tfjs wasm backend's own memory
;; (imported: no copies). With ih = oh*sH + kh - padT and iw = ow*sW + kw - padL:
;;   dw[kh,kw,ci,co] = sum_{n,oh,ow} x[n,ih,iw,ci] * dy[n,oh,ow,co]
;; For each block of output rows (about BLOCK positions), tap and four input channels, eight
;; output channels at a time are summed in registers over the block's positions (a 4x8 outer
;; product per position), then added to dw: the block of dy stays in cache across taps and
;; channels, nothing is repacked, and the two-level sums keep float32 rounding near a matmul's.
;; Input channels past the last four go one at a time, sixteen output channels a pass.
;; Co must be a multiple of 4. Pointers and sizes are in bytes. Built into
;; conv_filter_grad.wasm.ts by scripts/build-wasm-kernels.mjs.
(module
  (import "env" "memory" (memory 0))

  ;; output positions summed in registers before they are added to dw
  (global $BLOCK i32 (i32.const 128))

  ;; The window the accumulate functions sum over, set by convFilterGrad for each tap: `rows`
  ;; rows of `count` positions; from one position to the next x moves by xStep and dy by
  ;; coBytes, from the end of a row to the next row's start by xRowGap and dyRowGap.
  (global $rows (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))
  (global $xStep (mut i32) (i32.const 0))
  (global $coBytes (mut i32) (i32.const 0))
  (global $xRowGap (mut i32) (i32.const 0))
  (global $dyRowGap (mut i32) (i32.const 0))

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

  ;; mem[p..p+16) += v
  (func $addTo (param $p i32) (param $v v128)
    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (local.get $v))))

  ;; dw[ci, co..co+8) for four input channels, rows coBytes apart, += the block's sums
  (func $addQuad (param $d i32) (param $a0 v128) (param $b0 v128) (param $a1 v128) (param $b1 v128)
    (param $a2 v128) (param $b2 v128) (param $a3 v128) (param $b3 v128)
    (call $addTo (local.get $d) (local.get $a0))
    (call $addTo (i32.add (local.get $d) (i32.const 16)) (local.get $b0))
    (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
    (call $addTo (local.get $d) (local.get $a1))
    (call $addTo (i32.add (local.get $d) (i32.const 16)) (local.get $b1))
    (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
    (call $addTo (local.get $d) (local.get $a2))
    (call $addTo (i32.add (local.get $d) (i32.const 16)) (local.get $b2))
    (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
    (call $addTo (local.get $d) (local.get $a3))
    (call $addTo (i32.add (local.get $d) (i32.const 16)) (local.get $b3)))

  ;; dw[ci..ci+4, 0..Co) += sum over the window of x[p, ci..ci+4) (x) dy[p, 0..Co): eight output
  ;; channels in eight registers, one x load and two dy loads per position; the last four
  ;; output channels, when Co is not a multiple of 8, by $accumulateQuadNarrow
  (func $accumulateQuad (param $xp i32) (param $dyp i32) (param $dwp i32)
    (local $co i32) (local $x i32) (local $d i32) (local $left i32) (local $r i32)
    (local $xv v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $co (i32.const 0))
    (block $coDone (loop $coNext
      (br_if $coDone (i32.gt_u (i32.add (local.get $co) (i32.const 32)) (global.get $coBytes)))
      (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0))
      (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0))
      (local.set $a20 (v128.const i32x4 0 0 0 0)) (local.set $a21 (v128.const i32x4 0 0 0 0))
      (local.set $a30 (v128.const i32x4 0 0 0 0)) (local.set $a31 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $r (global.get $rows))
      (loop $rowNext
        (local.set $left (global.get $count))
        (loop $posNext
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
          (local.set $x (i32.add (local.get $x) (global.get $xStep)))
          (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
          (br_if $posNext (local.tee $left (i32.sub (local.get $left) (i32.const 1)))))
        (local.set $x (i32.add (local.get $x) (global.get $xRowGap)))
        (local.set $d (i32.add (local.get $d) (global.get $dyRowGap)))
        (br_if $rowNext (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
      (call $addQuad (i32.add (local.get $dwp) (local.get $co))
        (local.get $a00) (local.get $a01) (local.get $a10) (local.get $a11)
        (local.get $a20) (local.get $a21) (local.get $a30) (local.get $a31))
      (local.set $co (i32.add (local.get $co) (i32.const 32)))
      (br $coNext)))
    (if (i32.lt_u (local.get $co) (global.get $coBytes))
      (then (call $accumulateQuadNarrow
        (local.get $xp) (i32.add (local.get $dyp) (local.get $co)) (i32.add (local.get $dwp) (local.get $co))))))

  ;; as $accumulateQuad, for four output channels
  (func $accumulateQuadNarrow (param $x i32) (param $d i32) (param $dwp i32)
    (local $left i32) (local $r i32)
    (local $xv v128) (local $d0 v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $r (global.get $rows))
    (loop $rowNext
      (local.set $left (global.get $count))
      (loop $posNext
        (local.set $xv (v128.load (local.get $x)))
        (local.set $d0 (v128.load (local.get $d)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $xv) (local.get $xv)) (local.get $d0))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $xv) (local.get $xv)) (local.get $d0))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $xv) (local.get $xv)) (local.get $d0))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $xv) (local.get $xv)) (local.get $d0))))
        (local.set $x (i32.add (local.get $x) (global.get $xStep)))
        (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
        (br_if $posNext (local.tee $left (i32.sub (local.get $left) (i32.const 1)))))
      (local.set $x (i32.add (local.get $x) (global.get $xRowGap)))
      (local.set $d (i32.add (local.get $d) (global.get $dyRowGap)))
      (br_if $rowNext (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
    (call $addTo (local.get $dwp) (local.get $a0))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (global.get $coBytes))) (local.get $a1))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (global.get $coBytes))) (local.get $a2))
    (call $addTo (local.tee $dwp (i32.add (local.get $dwp) (global.get $coBytes))) (local.get $a3)))

  ;; dw[ci, 0..Co) += sum over the window of x[p,ci] * dy[p, 0..Co), for one input channel:
  ;; sixteen output channels a pass, then four
  (func $accumulateSingle (param $xp i32) (param $dyp i32) (param $dwp i32)
    (local $co i32) (local $x i32) (local $d i32) (local $left i32) (local $r i32) (local $xs v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $co (i32.const 0))
    (block $wideDone (loop $wideNext
      (br_if $wideDone (i32.gt_u (i32.add (local.get $co) (i32.const 64)) (global.get $coBytes)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $r (global.get $rows))
      (loop $rowNext
        (local.set $left (global.get $count))
        (loop $posNext
          (local.set $xs (f32x4.splat (f32.load (local.get $x))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $xs) (v128.load (local.get $d)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $xs) (v128.load offset=16 (local.get $d)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $xs) (v128.load offset=32 (local.get $d)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $xs) (v128.load offset=48 (local.get $d)))))
          (local.set $x (i32.add (local.get $x) (global.get $xStep)))
          (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
          (br_if $posNext (local.tee $left (i32.sub (local.get $left) (i32.const 1)))))
        (local.set $x (i32.add (local.get $x) (global.get $xRowGap)))
        (local.set $d (i32.add (local.get $d) (global.get $dyRowGap)))
        (br_if $rowNext (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
      (local.set $d (i32.add (local.get $dwp) (local.get $co)))
      (call $addTo (local.get $d) (local.get $a0))
      (call $addTo (i32.add (local.get $d) (i32.const 16)) (local.get $a1))
      (call $addTo (i32.add (local.get $d) (i32.const 32)) (local.get $a2))
      (call $addTo (i32.add (local.get $d) (i32.const 48)) (local.get $a3))
      (local.set $co (i32.add (local.get $co) (i32.const 64)))
      (br $wideNext)))
    (block $narrowDone (loop $narrowNext
      (br_if $narrowDone (i32.ge_u (local.get $co) (global.get $coBytes)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $x (local.get $xp))
      (local.set $d (i32.add (local.get $dyp) (local.get $co)))
      (local.set $r (global.get $rows))
      (loop $rowNext
        (local.set $left (global.get $count))
        (loop $posNext
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (f32x4.splat (f32.load (local.get $x))) (v128.load (local.get $d)))))
          (local.set $x (i32.add (local.get $x) (global.get $xStep)))
          (local.set $d (i32.add (local.get $d) (global.get $coBytes)))
          (br_if $posNext (local.tee $left (i32.sub (local.get $left) (i32.const 1)))))
        (local.set $x (i32.add (local.get $x) (global.get $xRowGap)))
        (local.set $d (i32.add (local.get $d) (global.get $dyRowGap)))
        (br_if $rowNext (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
      (call $addTo (i32.add (local.get $dwp) (local.get $co)) (local.get $a0))
      (local.set $co (i32.add (local.get $co) (i32.const 16)))
      (br $narrowNext))))

  ;; the first output index o with o*s + k - pad >= 0 (clamped at 0), and one past the last
  ;; with o*s + k - pad < size (clamped at out)
  (func $firstValid (param $k i32) (param $s i32) (param $pad i32) (result i32)
    (local $need i32)
    (local.set $need (i32.sub (local.get $pad) (local.get $k)))
    (select (i32.const 0)
      (i32.div_s (i32.add (local.get $need) (i32.sub (local.get $s) (i32.const 1))) (local.get $s))
      (i32.le_s (local.get $need) (i32.const 0))))
  (func $endValid (param $k i32) (param $s i32) (param $pad i32) (param $size i32) (param $out i32) (result i32)
    (local $last i32) (local $end i32)
    (local.set $last (i32.sub (i32.add (local.get $pad) (i32.sub (local.get $size) (i32.const 1))) (local.get $k)))
    (local.set $end (select (i32.const 0)
      (i32.add (i32.div_s (local.get $last) (local.get $s)) (i32.const 1))
      (i32.lt_s (local.get $last) (i32.const 0))))
    (select (local.get $out) (local.get $end) (i32.gt_s (local.get $end) (local.get $out))))

  (func (export "convFilterGrad")
    (param $x i32) (param $dy i32) (param $dw i32)
    (param $N i32) (param $H i32) (param $W i32) (param $Ci i32) (param $OH i32) (param $OW i32) (param $Co i32)
    (param $KH i32) (param $KW i32) (param $sH i32) (param $sW i32) (param $padT i32) (param $padL i32)
    (local $coBytes i32) (local $ciBytes i32) (local $blockRows i32)
    (local $n i32) (local $oh0 i32) (local $oh1 i32) (local $kh i32) (local $kw i32) (local $ci i32)
    (local $ohLo i32) (local $ohHi i32) (local $owLo i32) (local $owHi i32)
    (local $xp i32) (local $dyp i32) (local $dwTap i32)
    (local.set $coBytes (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $ciBytes (i32.shl (local.get $Ci) (i32.const 2)))
    (global.set $coBytes (local.get $coBytes))
    (global.set $xStep (i32.mul (local.get $sW) (local.get $ciBytes)))
    (local.set $blockRows (i32.div_u (global.get $BLOCK) (local.get $OW)))
    (if (i32.eqz (local.get $blockRows)) (then (local.set $blockRows (i32.const 1))))
    (call $zero (local.get $dw)
      (i32.mul (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $Ci)) (local.get $coBytes)))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $oh0 (i32.const 0))
      (block $blockDone (loop $blockNext
        (br_if $blockDone (i32.ge_u (local.get $oh0) (local.get $OH)))
        (local.set $oh1 (i32.add (local.get $oh0) (local.get $blockRows)))
        (if (i32.gt_u (local.get $oh1) (local.get $OH)) (then (local.set $oh1 (local.get $OH))))
        (local.set $kh (i32.const 0))
        (block $khDone (loop $khNext
          (br_if $khDone (i32.ge_u (local.get $kh) (local.get $KH)))
          ;; the block's rows whose ih lies in [0, H)
          (local.set $ohLo (call $firstValid (local.get $kh) (local.get $sH) (local.get $padT)))
          (if (i32.lt_s (local.get $ohLo) (local.get $oh0)) (then (local.set $ohLo (local.get $oh0))))
          (local.set $ohHi (call $endValid (local.get $kh) (local.get $sH) (local.get $padT) (local.get $H) (local.get $oh1)))
          (if (i32.lt_s (local.get $ohLo) (local.get $ohHi))
            (then
              (global.set $rows (i32.sub (local.get $ohHi) (local.get $ohLo)))
              (local.set $kw (i32.const 0))
              (block $kwDone (loop $kwNext
                (br_if $kwDone (i32.ge_u (local.get $kw) (local.get $KW)))
                ;; the columns whose iw lies in [0, W)
                (local.set $owLo (call $firstValid (local.get $kw) (local.get $sW) (local.get $padL)))
                (local.set $owHi (call $endValid (local.get $kw) (local.get $sW) (local.get $padL) (local.get $W) (local.get $OW)))
                (if (i32.lt_s (local.get $owLo) (local.get $owHi))
                  (then
                    (global.set $count (i32.sub (local.get $owHi) (local.get $owLo)))
                    ;; from a row's last position to the next row's first
                    (global.set $xRowGap (i32.sub (i32.mul (i32.mul (local.get $sH) (local.get $W)) (local.get $ciBytes))
                      (i32.mul (global.get $count) (global.get $xStep))))
                    (global.set $dyRowGap (i32.mul (i32.sub (local.get $OW) (global.get $count)) (local.get $coBytes)))
                    ;; x[n, ohLo*sH + kh - padT, owLo*sW + kw - padL, 0] and dy[n, ohLo, owLo, 0]
                    (local.set $xp (i32.add (local.get $x) (i32.mul (local.get $ciBytes)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H))
                          (i32.sub (i32.add (i32.mul (local.get $ohLo) (local.get $sH)) (local.get $kh)) (local.get $padT))) (local.get $W))
                        (i32.sub (i32.add (i32.mul (local.get $owLo) (local.get $sW)) (local.get $kw)) (local.get $padL))))))
                    (local.set $dyp (i32.add (local.get $dy) (i32.mul (local.get $coBytes)
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $OH)) (local.get $ohLo)) (local.get $OW)) (local.get $owLo)))))
                    (local.set $dwTap (i32.add (local.get $dw)
                      (i32.mul (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $Ci)) (local.get $coBytes))))
                    (local.set $ci (i32.const 0))
                    (block $quadDone (loop $quadNext
                      (br_if $quadDone (i32.gt_u (i32.add (local.get $ci) (i32.const 4)) (local.get $Ci)))
                      (call $accumulateQuad
                        (i32.add (local.get $xp) (i32.shl (local.get $ci) (i32.const 2)))
                        (local.get $dyp)
                        (i32.add (local.get $dwTap) (i32.mul (local.get $ci) (local.get $coBytes))))
                      (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
                      (br $quadNext)))
                    ;; the input channels past the last four
                    (block $ciDone (loop $ciNext
                      (br_if $ciDone (i32.ge_u (local.get $ci) (local.get $Ci)))
                      (call $accumulateSingle
                        (i32.add (local.get $xp) (i32.shl (local.get $ci) (i32.const 2)))
                        (local.get $dyp)
                        (i32.add (local.get $dwTap) (i32.mul (local.get $ci) (local.get $coBytes))))
                      (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
                      (br $ciNext)))))
                (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                (br $kwNext)))))
          (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
          (br $khNext)))
        (local.set $oh0 (local.get $oh1))
        (br $blockNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))
)
