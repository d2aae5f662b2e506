#!/usr/bin/env python3
"""VOC detection AP with numpy, in the style of the devkit's voc_eval.py: the peer `kd bench map`
times our evaluateVoc against.

Usage: voc_eval_numpy.py INPUT.json
INPUT: {"classes": [...], "images": [{"id", "objects": [{"class", "bbox", "difficult"}]}],
        "detections": [{"image_id", "class", "score", "bbox"}], "metric": "11point"|"area",
        "iou": 0.5, "repeats": 3}
Prints one JSON object: {"mAP", "per_class", "eval_ms" (median), "runs_ms"}. Only the
evaluation is timed: not the interpreter start, not the JSON load.

As voc_eval.py: per class, detections sorted by score; each one's IoU against all GT of its
image at once (+1 pixel convention); IoU > threshold on a difficult GT is ignored, on a matched
one an FP. Two deliberate differences, so that results are comparable to 1e-9 rather than
only close: the sort is stable (the devkit's quicksort orders ties arbitrarily), and the 11
recall thresholds are k/10 (np.arange(0, 1.1, 0.1) gives 0.30000000000000004, which misses
a recall of exactly 0.3).
"""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"error": "numpy is not installed for " + sys.executable}))
    sys.exit(3)


def voc_ap(rec, prec, metric):
    if metric == "11point":
        ap = 0.0
        for k in range(11):
            t = k / 10
            above = rec >= t
            ap += (np.max(prec[above]) if np.any(above) else 0.0) / 11.0
        return ap
    if metric == "area":
        mrec = np.concatenate(([0.0], rec, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # the devkit's max-to-the-right loop
        i = np.where(mrec[1:] != mrec[:-1])[0]
        return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    raise ValueError("metric must be 11point or area, got " + repr(metric))


def eval_class(cls, images, dets, ovthresh, metric):
    class_recs = {}
    npos = 0
    for im in images:
        objs = [o for o in im["objects"] if o["class"] == cls]
        bbox = np.array([o["bbox"] for o in objs], dtype=np.float64).reshape(-1, 4)
        difficult = np.array([bool(o.get("difficult", False)) for o in objs], dtype=bool)
        npos += int(np.sum(~difficult))
        class_recs[im["id"]] = {"bbox": bbox, "difficult": difficult, "det": np.zeros(len(objs), dtype=bool)}
    if npos == 0:
        return None

    mine = [d for d in dets if d["class"] == cls]
    image_ids = [d["image_id"] for d in mine]
    confidence = np.array([d["score"] for d in mine], dtype=np.float64)
    BB = np.array([d["bbox"] for d in mine], dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-confidence, kind="stable")
    BB = BB[order, :]
    image_ids = [image_ids[i] for i in order]

    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :]
        ovmax = -np.inf
        BBGT = R["bbox"]
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0) + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0) - inters
            overlaps = inters / uni
            jmax = int(np.argmax(overlaps))
            ovmax = overlaps[jmax]
        if ovmax > ovthresh:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = True
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0

    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, metric)


def evaluate(data):
    per_class = {}
    for cls in data["classes"]:
        ap = eval_class(cls, data["images"], data["detections"], data.get("iou", 0.5), data.get("metric", "11point"))
        if ap is not None:
            per_class[cls] = float(ap)
    aps = list(per_class.values())
    return (sum(aps) / len(aps) if aps else 0.0), per_class


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    runs = []
    for _ in range(max(1, int(data.get("repeats", 1)))):
        t0 = time.perf_counter()
        m, per_class = evaluate(data)
        runs.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({"mAP": m, "per_class": per_class, "eval_ms": float(np.median(runs)), "runs_ms": runs}))


if __name__ == "__main__":
    main()
