#!/usr/bin/env python3
"""The PyTorch side of `kd bench engine --vs-pytorch`: the engine benchmark's fixed model
(libs/engine/src/bench/benchmark_model.ts) in PyTorch on the CPU, timed as kd times it.

Usage: torch_engine.py [--threads 1,2] [--batch 8] [--size 160] [--repeats 10] [--warmup 3]
                       [--params-only | --profile]
Prints one JSON object: {"torch_version", "batch", "input_size", "params", "blas",
"rows": [{"threads", "forward_ms", "train_step_ms"}]} with medians of `repeats` timed runs
after `warmup` untimed ones, per thread count (torch.set_num_threads). --params-only prints
the parameter count without timing (what the test checks against kd's model). --profile
replaces "rows" with "profile": {"threads", "steps", "parts": {part: ms}}, where a train
step's time goes, by the parts `kd bench engine --profile` uses (median over `repeats`
profiled steps, with the first of --threads). Exit 3 with {"error": ...} when torch is not
importable.

The model: conv3x3/2 -> 16 + ReLU, nine depthwise-separable blocks (dw3x3 + ReLU,
1x1 + ReLU), a 1x1 conv to 75 channels; batch 8 at 160x160x3, loss mean(out^2), Adam 1e-3.
The same layers, shapes and arithmetic as kd's; in PyTorch's own layout (NCHW) and padding
(1 on each side of a 3x3, where TensorFlow's 'same' at stride 2 pads 0 before and 1 after:
the same output shapes and work), as a PyTorch user would write it.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    print(json.dumps({"error": "torch is not installed for " + sys.executable}))
    sys.exit(3)

# (out channels, stride) of the depthwise-separable blocks, as separableBlocks in benchmark_model.ts
SEPARABLE_BLOCKS = [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (256, 1), (512, 2)]


def benchmark_model():
    layers = [nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU()]
    channels = 16
    for out, stride in SEPARABLE_BLOCKS:
        layers += [
            nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=channels), nn.ReLU(),
            nn.Conv2d(channels, out, 1), nn.ReLU(),
        ]
        channels = out
    layers.append(nn.Conv2d(channels, 75, 1))
    model = nn.Sequential(*layers)
    # He-normal weights and zero biases, as kd's (the values do not change the timing)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def blas_library():
    """The BLAS library this process loaded (Debian's torch calls whatever libblas.so.3
    points to: the reference libblas3 makes its convolutions about 10x slower than OpenBLAS)."""
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return None
    return sorted(paths)[0] if paths else None


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def median_ms(f, repeats, warmup):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def benchmark_setup(threads, batch, size):
    """The model, a batch and Adam, seeded, with `threads` threads."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = benchmark_model()
    return model, torch.randn(batch, 3, size, size), torch.optim.Adam(model.parameters(), lr=1e-3)


def time_threads(threads, batch, size, repeats, warmup):
    model, x, optimizer = benchmark_setup(threads, batch, size)

    def forward():
        with torch.no_grad():
            model(x)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        optimizer.step()
        loss.item()

    forward_ms = median_ms(forward, repeats, warmup)
    train_ms = median_ms(train_step, repeats, warmup)
    return {"threads": threads, "forward_ms": forward_ms, "train_step_ms": train_ms}


def conv_parts(events):
    """One profiled step's convolution milliseconds by part. A convolution is dense or
    depthwise by its weight's shape ([out, in / groups, kh, kw]: depthwise when in / groups
    is 1 and out is the input's channels); a backward convolution computes both the input's
    and the filter's gradient."""
    parts = dict.fromkeys(CONV_PARTS, 0.0)
    for e in events:
        if e.name in ("aten::convolution", "aten::convolution_backward"):
            # forward: (input, weight, bias); backward: (grad_output, input, weight)
            x, w = (e.input_shapes[0], e.input_shapes[1]) if e.name == "aten::convolution" else (e.input_shapes[1], e.input_shapes[2])
            kind = "depthwise" if w[1] == 1 and w[0] == x[1] and x[1] > 1 else "dense"
            suffix = "forward" if e.name == "aten::convolution" else "gradients"
            parts[f"{kind}_conv_{suffix}"] += e.cpu_time_total / 1000
    return parts


# The parts of a train step, as kd's profile groups its kernels (libs/engine/src/bench/engine_profile.ts)
CONV_PARTS = ["dense_conv_forward", "depthwise_conv_forward", "dense_conv_gradients", "depthwise_conv_gradients"]
PROFILE_PARTS = CONV_PARTS + ["other", "optimizer", "step"]


def profile_step(threads, batch, size, repeats, warmup):
    """Each of `repeats` steps runs twice, timed and profiled: the convolutions' parts come
    from the profiler; "other" (the rest of forward and backward: bias, ReLU, the loss, their
    gradients, the framework's own time) and the optimizer's update from the timed run, as
    profiling adds time between ops. Medians per part."""
    from torch.profiler import ProfilerActivity, profile

    model, x, optimizer = benchmark_setup(threads, batch, size)

    def gradient_pass():
        optimizer.zero_grad(set_to_none=True)
        model(x).square().mean().backward()

    for _ in range(warmup):
        gradient_pass()
        optimizer.step()
    steps = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gradient_pass()
        t1 = time.perf_counter()
        optimizer.step()
        t2 = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            gradient_pass()
            optimizer.step()
        parts = conv_parts(prof.events())
        parts["other"] = (t1 - t0) * 1000 - sum(parts.values())
        parts["optimizer"] = (t2 - t1) * 1000
        parts["step"] = (t2 - t0) * 1000
        steps.append(parts)
    return {"threads": threads, "steps": repeats, "parts": {p: statistics.median(s[p] for s in steps) for p in PROFILE_PARTS}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--params-only", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    result = {
        "torch_version": torch.__version__,
        "batch": args.batch,
        "input_size": args.size,
        "params": param_count(benchmark_model()),
        "blas": blas_library(),
    }
    if args.profile:
        result["profile"] = profile_step(int(args.threads.split(",")[0]), args.batch, args.size, args.repeats, args.warmup)
    elif not args.params_only:
        threads = [int(t) for t in args.threads.split(",")]
        result["rows"] = [time_threads(t, args.batch, args.size, args.repeats, args.warmup) for t in threads]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
