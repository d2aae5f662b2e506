;; One momentum step with L2 decay as Paddle applies it, in one pass, on the tfjs wasm backend's
;; own memory (imported: no copies):
;;   v' = v * mu + (g + w * decay)      (without decay: v * mu + g)
;;   w' = w - v' * lr
;; in the same operations and order as the composed update (no fused multiply-add), so the
;; results are the same floats; tfjs composes it of six kernels, six passes. Pointers are in
;; bytes, n in elements. Built into momentum_update.wasm.ts by scripts/build-wasm-kernels.mjs.
(module
  (import "env" "memory" (memory 0))

  (func (export "momentumUpdate")
    (param $w i32) (param $v i32) (param $g i32) (param $wOut i32) (param $vOut i32) (param $n i32)
    (param $mu f32) (param $decay f32) (param $lr f32)
    (local $vectorEnd i32) (local $end i32) (local $useDecay i32)
    (local $wv v128) (local $nv v128) (local $mus v128) (local $decays v128) (local $lrs v128)
    (local $ws f32) (local $ns f32)
    (local.set $useDecay (f32.ne (local.get $decay) (f32.const 0)))
    (local.set $mus (f32x4.splat (local.get $mu)))
    (local.set $decays (f32x4.splat (local.get $decay)))
    (local.set $lrs (f32x4.splat (local.get $lr)))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vectorEnd (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $w) (local.get $vectorEnd)))
      (local.set $wv (v128.load (local.get $w)))
      (local.set $nv (v128.load (local.get $g)))
      (if (local.get $useDecay)
        (then (local.set $nv (f32x4.add (local.get $nv) (f32x4.mul (local.get $wv) (local.get $decays))))))
      (local.set $nv (f32x4.add (f32x4.mul (v128.load (local.get $v)) (local.get $mus)) (local.get $nv)))
      (v128.store (local.get $vOut) (local.get $nv))
      (v128.store (local.get $wOut) (f32x4.sub (local.get $wv) (f32x4.mul (local.get $nv) (local.get $lrs))))
      (local.set $w (i32.add (local.get $w) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $wOut (i32.add (local.get $wOut) (i32.const 16)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 16)))
      (br $next)))
    ;; the last n mod 4
    (block $tailDone (loop $tailNext
      (br_if $tailDone (i32.ge_u (local.get $w) (local.get $end)))
      (local.set $ws (f32.load (local.get $w)))
      (local.set $ns (f32.load (local.get $g)))
      (if (local.get $useDecay)
        (then (local.set $ns (f32.add (local.get $ns) (f32.mul (local.get $ws) (local.get $decay))))))
      (local.set $ns (f32.add (f32.mul (f32.load (local.get $v)) (local.get $mu)) (local.get $ns)))
      (f32.store (local.get $vOut) (local.get $ns))
      (f32.store (local.get $wOut) (f32.sub (local.get $ws) (f32.mul (local.get $ns) (local.get $lr))))
      (local.set $w (i32.add (local.get $w) (i32.const 4)))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $wOut (i32.add (local.get $wOut) (i32.const 4)))
      (local.set $vOut (i32.add (local.get $vOut) (i32.const 4)))
      (br $tailNext))))
)
