"""Time per training step of the paper configuration against the machine's FLOP floor.

Usage::

    python benchmarks/bench_speed.py            # 256 x 256, width 256 x 5 (the paper)
    python benchmarks/bench_speed.py --size 128 --steps 5

For each variant (plain autograd SIREN, our fused CPU kernel, fused + INRR) it times
full training steps of ``INRImputer`` internals (forward, loss, backward, Adam) and
prints the median seconds per step, the achieved matmul GFLOP/s and its fraction of the
measured fp32 matmul peak of this machine. Writes ``docs/speed_<device>.md``.
"""

import argparse
import itertools
import platform
import statistics
import time
from pathlib import Path

import torch

from inrr_sklearn import INRR
from inrr_sklearn._modules import SirenNet


def siren_step_flops(n_points, widths):
    """Matmul FLOPs of one forward + backward step of a SIREN 2 -> widths -> 1.

    Forward: 2 N w_in w_out per layer. Backward: the weight gradient of every layer
    and the input gradient of every layer but the first (coordinates need none).
    """
    dims = [2, *widths, 1]
    pairs = list(itertools.pairwise(dims))
    forward = sum(2 * n_points * a * b for a, b in pairs)
    weight_grads = forward
    input_grads = sum(2 * n_points * a * b for a, b in pairs[1:])
    return forward + weight_grads + input_grads


def matmul_peak(device, n_points=65536, width=256, repeats=20):
    """Best fp32 GFLOP/s over matmul shapes met in a step (chunked and whole)."""
    best = 0.0
    for rows in (4096, n_points):
        a = torch.randn(rows, width, device=device)
        w = torch.randn(width, width, device=device)
        for _ in range(3):
            a @ w
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ w
        _sync(device)
        seconds = (time.perf_counter() - start) / repeats
        best = max(best, 2 * rows * width * width / seconds / 1e9)
    return best


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(size, widths, device, fused, reg, steps, seed=0):
    generator = torch.Generator().manual_seed(seed)
    net = SirenNet(2, widths, 1, 30.0, 1.0, "sigmoid", fused=fused)
    net.reset_parameters(generator)
    net = net.to(device)
    lin = torch.linspace(-1, 1, size, device=device)
    rows, cols = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([cols.reshape(-1), rows.reshape(-1)], 1)
    target = torch.rand(size, size, generator=generator).to(device)
    weight = (torch.rand(size, size, generator=generator) < 0.5).float().to(device)
    weight /= weight.sum()
    module = None
    params = list(net.parameters())
    if reg is not None:
        module = reg.build(
            (size, size), n_observed=size * size // 2, generator=generator
        ).to(device)
    optimizer = torch.optim.Adam(params, lr=1e-4)
    reg_optimizer = (
        torch.optim.Adam(reg.param_groups(module)) if module is not None else None
    )
    times = []
    for _ in range(steps + 1):
        _sync(device)
        start = time.perf_counter()
        X = net(coords).reshape(size, size)
        loss = ((X - target) ** 2 * weight).sum()
        if reg is not None:
            loss = loss + reg.penalty(X, model=net, module=module)
        optimizer.zero_grad()
        if reg_optimizer:
            reg_optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if reg_optimizer:
            reg_optimizer.step()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first step warms allocators up


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    widths = (args.width,) * args.layers
    flops = siren_step_flops(args.size**2, widths)
    peak = matmul_peak(device, args.size**2, args.width)
    if device.type == "cpu":
        variants = [
            ("plain autograd", False, None),
            ("fused kernel", True, None),
            ("fused + INRR (paper)", True, INRR.paper()),
        ]
    else:
        variants = [
            ("plain autograd", False, None),
            ("plain + INRR (paper)", False, INRR.paper()),
        ]
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads"
    )
    lines = [
        f"# Training-step speed, {args.size}x{args.size}, SIREN {args.width}x"
        f"{args.layers} ({device.type}: {name})",
        "",
        f"Generated by `python benchmarks/bench_speed.py --size {args.size} "
        f"--width {args.width} --device {args.device}`; torch {torch.__version__}.",
        f"Matmul work per step: {flops / 1e9:.1f} GFLOP; measured fp32 matmul peak: "
        f"{peak:.0f} GFLOP/s, so the floor is {flops / peak / 1e9:.3f} s per step.",
        "",
        "| variant | s / step | GFLOP/s | fraction of peak |",
        "|---|---|---|---|",
    ]
    results = {}
    for label, fused, reg in variants:
        seconds = time_steps(args.size, widths, device, fused, reg, args.steps)
        results[label] = seconds
        rate = flops / seconds / 1e9
        lines.append(f"| {label} | {seconds:.4f} | {rate:.0f} | {rate / peak:.0%} |")
        print(lines[-1], flush=True)
    labels = list(results)
    if device.type == "cpu":
        overhead = results[labels[2]] / results[labels[1]] - 1
        speedup = results[labels[0]] / results[labels[1]]
        lines += [
            "",
            f"Fused kernel speed-up over plain autograd: {speedup:.2f}x; INRR adds "
            f"{overhead:.1%} to a step.",
        ]
    else:
        overhead = results[labels[1]] / results[labels[0]] - 1
        lines += ["", f"INRR adds {overhead:.1%} to a step."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.docs) / f"speed_{device.type}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
