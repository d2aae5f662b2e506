;; The gradient of ReLU and leaky ReLU in one pass, on the tfjs wasm backend's own memory
;; (imported: no copies):
;;   dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i]        (ReLU: alpha = 0)
;; where tfjs composes it of three kernels (step or greater, cast or where, multiply), three
;; passes over the activation. Pointers are in bytes, n in elements. Built into
;; activation_grad.wasm.ts by scripts/build-wasm-kernels.mjs.
(module
  (import "env" "memory" (memory 0))

  (func (export "activationGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $alpha f32)
    (local $end i32) (local $vectorEnd i32) (local $d v128) (local $alphas v128) (local $s f32)
    (local.set $alphas (f32x4.splat (local.get $alpha)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vectorEnd (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; four at a time
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $x) (local.get $vectorEnd)))
      (local.set $d (v128.load (local.get $dy)))
      (v128.store (local.get $dx)
        (v128.bitselect (local.get $d) (f32x4.mul (local.get $d) (local.get $alphas))
          (f32x4.gt (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
      (br $next)))
    ;; the last n mod 4
    (block $tailDone (loop $tailNext
      (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
      (local.set $s (f32.load (local.get $dy)))
      (f32.store (local.get $dx)
        (select (local.get $s) (f32.mul (local.get $s) (local.get $alpha)) (f32.gt (f32.load (local.get $x)) (f32.const 0))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
      (br $tailNext))))
)
