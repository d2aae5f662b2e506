#!/bin/bash
# Trains the shipped teacher, then the shipped student (or only one of them), further on the built-in dataset with the
# same schedule (the "same budget" of the detection-core comparison): STEPS steps from their
# weights (-o weights=, a fresh schedule: warmup, lr 0.01, decay at 80% and 90%), data-parallel
# over 2 threads (replicas: 2), evaluated with --eval every STEPS/4 steps.
# Usage: scripts/train-shapes-further.sh [STEPS] [OUT] [MODELS]   (default 3600 output/further both;
# MODELS is teacher, student or both, so a round can span two sittings; each round's measured step
# times, 1.2 to 2.7 s per teacher step on these 2-core machines, are in models/README.md and README)
set -euo pipefail
STEPS=${1:-3600}
OUT=${2:-output/further}
MODELS=${3:-both}
case "$MODELS" in
  teacher | student | both) ;;
  *) echo "train-shapes-further.sh: MODELS must be teacher, student or both, got '$MODELS'" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
SCHEDULE=(-o max_iters="$STEPS" -o "optimizer.boundaries=[$((STEPS * 8 / 10)),$((STEPS * 9 / 10))]" -o snapshot_iter=$((STEPS / 4)) -o replicas=2)
if [ "$MODELS" != student ]; then
  npx kd train -c configs/yolov3_r34_shapes.yml --eval -o weights=models/yolov3_r34_shapes "${SCHEDULE[@]}" \
    -o save_dir="$OUT/teacher" > "$OUT/teacher.log" 2>&1
fi
if [ "$MODELS" != teacher ]; then
  npx kd train -c configs/yolov3_mobilenet_v1_shapes.yml --eval -o weights=models/yolov3_mobilenet_v1_shapes "${SCHEDULE[@]}" \
    -o save_dir="$OUT/student" > "$OUT/student.log" 2>&1
fi
