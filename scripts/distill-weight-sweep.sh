#!/bin/bash
# The distillation-weight sweep of results/distill-sweep.md: 120 steps from the shipped student
# (models/yolov3_mobilenet_v1_shapes) with the shipped teacher, seed 0, the schedule of
# `kd demo --steps 120`, two runs at a time. Each run's log and `kd eval --json` go to OUT.
# Usage: scripts/distill-weight-sweep.sh [OUT]   (default output/sweep; about 12 min on 2 cores)
set -euo pipefail
OUT=${1:-output/sweep}
mkdir -p "$OUT"
STUDENT=configs/yolov3_mobilenet_v1_shapes.yml
COMMON=(-c "$STUDENT" -o weights=models/yolov3_mobilenet_v1_shapes -o max_iters=120 -o "optimizer.boundaries=[90,108]"
  -o optimizer.warmup_steps=13 -o log_iter=10 -o snapshot_iter=100000)
TEACHER=(-t configs/yolov3_r34_shapes.yml --teacher-pretrained models/yolov3_r34_shapes)
run() {
  local name=$1; shift
  npx kd "$@" -o "save_dir=$OUT/$name" > "$OUT/$name.log" 2>&1
  npx kd eval -w "$OUT/$name/model_final" --json > "$OUT/$name.eval.json" 2>> "$OUT/$name.log"
}
(
  run l2_w10 distill "${COMMON[@]}" "${TEACHER[@]}" -o distill.method=l2 -o distill.weight=10
  run fine_grained_paper_w1 distill "${COMMON[@]}" "${TEACHER[@]}" -o distill.method=fine_grained_paper
  run baseline train "${COMMON[@]}"
) &
(
  run fine_grained_w1000 distill "${COMMON[@]}" "${TEACHER[@]}" -o distill.method=fine_grained
  run l2_w1 distill "${COMMON[@]}" "${TEACHER[@]}" -o distill.method=l2 -o distill.weight=1
) &
wait
for f in "$OUT"/*.eval.json; do
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(process.argv[1], (100 * r.mAP).toFixed(2))' "$f"
done
