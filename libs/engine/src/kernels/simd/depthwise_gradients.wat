;; The depthwise convolution's gradients (channel multiplier 1), NHWC, on the tfjs wasm
;; backend's own memory (imported: no copies). With ih = oh*sH + kh*dH - padT, iw likewise:
;;   filter: dw[kh,kw,c] = sum_{n,oh,ow} x[n,ih,iw,c] * dy[n,oh,ow,c]
;;   input:  dx[n,ih,iw,c] = sum_{oh,ow,kh,kw} dy[n,oh,ow,c] * w[kh,kw,c]
;; Both make one pass over dy. Channels in lanes of four (f32x4): C must be a multiple of 4.
;; Pointers and sizes are in bytes. Built into depthwise_gradients.wasm.ts by
;; scripts/build-wasm-kernels.mjs.
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

  ;; dst[i] += src[i] over n bytes
  (func $addInto (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $next))))

  ;; acc[i] += x[i] * dy[i] over n bytes
  (func $multiplyAdd (param $acc i32) (param $x i32) (param $dy i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $acc)
          (f32x4.add (v128.load (local.get $acc)) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $dy)))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (br $next))))

;; filter gradient: each output row's taps are summed into `row` first and then added to dw
  ;; (two-level sums keep float32 rounding near the composed kernel's)
  (func (export "depthwiseFilterGrad")
    (param $x i32) (param $dy i32) (param $dw i32) (param $row i32)
    (param $N i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $KH i32) (param $KW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padT i32) (param $padL i32)
    (local $rowBytes i32) (local $tapsBytes i32)
    (local $n i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32)
    (local $ih i32) (local $iw i32) (local $dyp i32) (local $xrow i32)
    ;; one pixel's channels, and all taps' channels
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $tapsBytes (i32.mul (i32.mul (local.get $KH) (local.get $KW)) (local.get $rowBytes)))
    (call $zero (local.get $dw) (local.get $tapsBytes))
    (local.set $dyp (local.get $dy))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $oh (i32.const 0))
      (block $ohDone (loop $ohNext
        (br_if $ohDone (i32.ge_u (local.get $oh) (local.get $OH)))
        (call $zero (local.get $row) (local.get $tapsBytes))
        (local.set $ow (i32.const 0))
        (block $owDone (loop $owNext
          (br_if $owDone (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $kh (i32.const 0))
          (block $khDone (loop $khNext
            (br_if $khDone (i32.ge_u (local.get $kh) (local.get $KH)))
            (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sH)) (i32.mul (local.get $kh) (local.get $dH))) (local.get $padT)))
            ;; unsigned: a negative ih is out of bounds too
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $xrow (i32.add (local.get $x)
                  (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $rowBytes))))
                (local.set $kw (i32.const 0))
                (block $kwDone (loop $kwNext
                  (br_if $kwDone (i32.ge_u (local.get $kw) (local.get $KW)))
                  (local.set $iw (i32.sub (i32.add (i32.mul (local.get $ow) (local.get $sW)) (i32.mul (local.get $kw) (local.get $dW))) (local.get $padL)))
                  (if (i32.lt_u (local.get $iw) (local.get $W))
                    (then
                      (call $multiplyAdd
                        (i32.add (local.get $row) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $rowBytes)))
                        (i32.add (local.get $xrow) (i32.mul (local.get $iw) (local.get $rowBytes)))
                        (local.get $dyp)
                        (local.get $rowBytes))))
                  (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                  (br $kwNext)))))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br $khNext)))
          (local.set $dyp (i32.add (local.get $dyp) (local.get $rowBytes)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $owNext)))
        (call $addInto (local.get $dw) (local.get $row) (local.get $tapsBytes))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $ohNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))

  ;; input gradient: each dy pixel, times each tap's weights, added where that tap read x
  (func (export "depthwiseInputGrad")
    (param $dy i32) (param $w i32) (param $dx i32)
    (param $N i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (param $KH i32) (param $KW i32) (param $sH i32) (param $sW i32) (param $dH i32) (param $dW i32)
    (param $padT i32) (param $padL i32)
    (local $rowBytes i32)
    (local $n i32) (local $oh i32) (local $ow i32) (local $kh i32) (local $kw i32)
    (local $ih i32) (local $iw i32) (local $dyp i32) (local $dxrow i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (call $zero (local.get $dx) (i32.mul (i32.mul (i32.mul (local.get $N) (local.get $H)) (local.get $W)) (local.get $rowBytes)))
    (local.set $dyp (local.get $dy))
    (local.set $n (i32.const 0))
    (block $nDone (loop $nNext
      (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
      (local.set $oh (i32.const 0))
      (block $ohDone (loop $ohNext
        (br_if $ohDone (i32.ge_u (local.get $oh) (local.get $OH)))
        (local.set $ow (i32.const 0))
        (block $owDone (loop $owNext
          (br_if $owDone (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $kh (i32.const 0))
          (block $khDone (loop $khNext
            (br_if $khDone (i32.ge_u (local.get $kh) (local.get $KH)))
            (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sH)) (i32.mul (local.get $kh) (local.get $dH))) (local.get $padT)))
            (if (i32.lt_u (local.get $ih) (local.get $H))
              (then
                (local.set $dxrow (i32.add (local.get $dx)
                  (i32.mul (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $rowBytes))))
                (local.set $kw (i32.const 0))
                (block $kwDone (loop $kwNext
                  (br_if $kwDone (i32.ge_u (local.get $kw) (local.get $KW)))
                  (local.set $iw (i32.sub (i32.add (i32.mul (local.get $ow) (local.get $sW)) (i32.mul (local.get $kw) (local.get $dW))) (local.get $padL)))
                  (if (i32.lt_u (local.get $iw) (local.get $W))
                    (then
                      (call $multiplyAdd
                        (i32.add (local.get $dxrow) (i32.mul (local.get $iw) (local.get $rowBytes)))
                        (local.get $dyp)
                        (i32.add (local.get $w) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $rowBytes)))
                        (local.get $rowBytes))))
                  (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                  (br $kwNext)))))
            (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
            (br $khNext)))
          (local.set $dyp (i32.add (local.get $dyp) (local.get $rowBytes)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $owNext)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $ohNext)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nNext))))
)
