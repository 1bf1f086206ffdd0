"""Time per training step of the paper configuration against the machine's FLOP floor.

Usage::

    python benchmarks/bench_speed.py            # 256 x 256, width 256 x 5 (the paper)
    python benchmarks/bench_speed.py --size 128 --steps 5
    python benchmarks/bench_speed.py --device cuda   # eager, CUDA graph, TF32, bf16, compile

For each variant it times the library's own training step
(``inrr_sklearn.training.Trainer.step``: forward, loss, backward, Adam) and prints the
median seconds per step, the achieved matmul GFLOP/s and its fraction of the measured
matmul peak of the variant's precision on this machine. CPU variants: plain autograd
SIREN, our fused CPU kernel, fused + INRR. CUDA variants: eager, CUDA graph
(``cuda_graph=True``), TF32 and bfloat16 (``precision``) and ``torch.compile`` of the
networks inside the graph, each without and with ``INRR.paper()``, and three ablations
of the bfloat16 graph step with INRR (see ``make_trainer``); CUDA steps are timed with
device events over ``--steps`` consecutive steps. Writes ``docs/speed_<device>.md``.
"""

import argparse
import itertools
import platform
import statistics
import time
from pathlib import Path

import torch

from inrr_sklearn import INRR
from inrr_sklearn.nn import SirenNet
from inrr_sklearn.regularizers import dirichlet_energy_factored
from inrr_sklearn.regularizers._graph import unfold
from inrr_sklearn.training import GRAPH_WARMUP_STEPS, PRECISIONS, Trainer
from inrr_sklearn.training._trainer import _matmul_precision


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


def matmul_peak(device, n_points=65536, width=256, repeats=20, precision="float32"):
    """Best GFLOP/s of ``precision`` matmuls over shapes met in a step."""
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    best = 0.0
    with _matmul_precision(precision, device.type):
        for rows in (4096, n_points):
            a = torch.randn(rows, width, device=device, dtype=dtype)
            w = torch.randn(width, width, device=device, dtype=dtype)
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


def make_trainer(size, widths, device, *, fused=None, reg=None, cuda_graph=False,
                 precision="float32", compile=False, seed=0, ablation=None):  # fmt: skip
    """The library's trainer for the paper's problem at ``size``² (random data).

    ``ablation`` (with INRR, CUDA) undoes one part of the library's INRR step to
    measure what it saves: ``"sides"`` evaluates the row and column networks and
    energies one after the other, ``"foreach"`` replaces the fused Adam by torch's
    multi-tensor one; ``"stream"`` tries what the library does not do: the tiny
    networks on a second CUDA stream, forked before the main network's forward pass,
    so that their kernels can overlap the main network's.
    """
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
    penalty = None
    if reg is not None:
        penalty = reg.build(
            (size, size), n_observed=size * size // 2, generator=generator
        ).to(device)
    if compile:  # in place: the trainer, optimizers and graph see the same modules
        net.compile()
        if penalty is not None:
            penalty.compile()

    def forward():
        return net(coords).reshape(size, size)

    trained_penalty = penalty
    if ablation == "sides":
        penalty._batched = False
    elif ablation == "stream":
        trained_penalty = _SideStreamINRR(penalty)

        def forward():
            return trained_penalty.fork(lambda: net(coords).reshape(size, size))

    trainer = Trainer(
        net,
        forward,
        target,
        weight,
        penalty=trained_penalty,
        learning_rate=1e-4,
        cuda_graph=cuda_graph,
        precision=precision,
    )
    if ablation == "foreach":
        groups = [{"params": list(net.parameters())}, *penalty.param_groups()]
        trainer.optimizer = torch.optim.Adam(
            groups, lr=1e-4, capturable=cuda_graph, foreach=True
        )
    return trainer


class _SideStreamINRR(torch.nn.Module):
    """Ablation: INRR's tiny networks on a side stream, overlapping the main forward
    (and, through autograd's stream semantics, their backward the main backward)."""

    def __init__(self, penalty):
        super().__init__()
        self.penalty = penalty
        self.stream = torch.cuda.Stream()
        self.factors = None

    def param_groups(self):
        return self.penalty.param_groups()

    def fork(self, main_forward):
        main = torch.cuda.current_stream()
        self.stream.wait_stream(main)
        with torch.cuda.stream(self.stream):
            self.factors = self.penalty.inrs.probabilities()
        out = main_forward()
        main.wait_stream(self.stream)
        self.factors.record_stream(main)
        return out

    def forward(self, X, model):
        views = torch.stack([unfold(X, mode) for mode in (0, 1)])
        energies = dirichlet_energy_factored(views, self.factors)
        return (energies * self.penalty.weights.to(energies.dtype)).sum()


def time_steps(trainer, device, steps):
    """Median seconds per ``Trainer.step`` (CUDA: events around ``steps`` steps)."""
    if device.type != "cuda":
        times = []
        for _ in range(steps + 1):
            start = time.perf_counter()
            trainer.step()
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])  # the first step warms allocators up
    for _ in range(GRAPH_WARMUP_STEPS + 3):  # warm-up (and capture, for graphs)
        trainer.step()
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        start, end = (
            torch.cuda.Event(enable_timing=True),
            torch.cuda.Event(enable_timing=True),
        )
        start.record()
        for _ in range(steps):
            trainer.step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3 / steps)
    return statistics.median(times)


def variants_for(device):
    """(label, trainer options) of every variant timed on ``device``."""
    if device.type == "cpu":
        return [
            ("plain autograd", dict(fused=False)),
            ("fused kernel", dict(fused=True)),
            ("fused + INRR (paper)", dict(fused=True, reg=INRR.paper())),
        ]
    variants = []
    for name, options in [
        ("eager", dict()),
        ("CUDA graph", dict(cuda_graph=True)),
        ("CUDA graph, TF32", dict(cuda_graph=True, precision="tf32")),
        ("CUDA graph, bfloat16", dict(cuda_graph=True, precision="bfloat16")),
        ("compile + graph, bf16",
         dict(cuda_graph=True, precision="bfloat16", compile=True)),
        ("compile + graph, TF32", dict(cuda_graph=True, precision="tf32", compile=True)),
    ]:  # fmt: skip
        variants.append((name, options))
        variants.append((f"{name} + INRR (paper)", {**options, "reg": INRR.paper()}))
    bf16 = dict(cuda_graph=True, precision="bfloat16", reg=INRR.paper())
    for ablation, label in [
        ("sides", "rows then columns"),
        ("foreach", "foreach Adam"),
        ("stream", "tiny networks on a side stream"),
    ]:
        variants.append(
            (f"CUDA graph, bfloat16 + INRR (paper), {label}",
             {**bf16, "ablation": ablation})
        )  # fmt: skip
    return variants


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--budget", type=float, default=600, help="seconds; later variants are skipped"
    )
    parser.add_argument("--docs", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    widths = (args.width,) * args.layers
    flops = siren_step_flops(args.size**2, widths)
    precisions = ["float32"] if device.type == "cpu" else list(PRECISIONS)
    peaks = {p: matmul_peak(device, args.size**2, args.width, precision=p)
             for p in precisions}  # fmt: skip
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads"
    )
    floors = ", ".join(
        f"{p} {peaks[p]:.0f} GFLOP/s (floor {flops / peaks[p] / 1e9 * 1e3:.3f} ms)"
        for p in precisions
    )
    lines = [
        f"# Training-step speed, {args.size}x{args.size}, SIREN {args.width}x"
        f"{args.layers} ({device.type}: {name})",
        "",
        f"Generated by `python benchmarks/bench_speed.py --size {args.size} "
        f"--width {args.width} --device {args.device}`; torch {torch.__version__}.",
        f"Matmul work per step: {flops / 1e9:.1f} GFLOP. Measured matmul peaks and the "
        f"step floors they give: {floors}.",
        "",
        "| variant | s / step | GFLOP/s | fraction of its precision's peak |",
        "|---|---|---|---|",
    ]
    results = {}
    out = Path(args.docs) / f"speed_{device.type}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for label, options in variants_for(device):
        out.write_text("\n".join(lines) + "\n")  # a run stopped early keeps its rows
        if time.perf_counter() - started > args.budget:
            lines.append(f"| {label} | not run (time budget of {args.budget} s) | | |")
            continue
        try:
            trainer = make_trainer(args.size, widths, device, **options)
            seconds = time_steps(trainer, device, args.steps)
        except Exception as exc:  # a variant this torch/device cannot run
            lines.append(f"| {label} | failed: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:120]} | | |")  # fmt: skip
            print(lines[-1], flush=True)
            continue
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
        if options.get("cuda_graph") and trainer.graph is None:
            label += " (capture failed: ran eagerly)"
        results[label] = seconds
        peak = peaks[options.get("precision", "float32")]
        rate = flops / seconds / 1e9
        lines.append(f"| {label} | {seconds:.5f} | {rate:.0f} | {rate / peak:.0%} |")
        print(lines[-1], flush=True)
    lines.append("")
    if device.type == "cpu" and len(results) == 3:
        labels = list(results)
        overhead = results[labels[2]] / results[labels[1]] - 1
        speedup = results[labels[0]] / results[labels[1]]
        lines.append(
            f"Fused kernel speed-up over plain autograd: {speedup:.2f}x; INRR adds "
            f"{overhead:.1%} to a step."
        )
    for label in results:
        with_inrr = f"{label} + INRR (paper)"
        if with_inrr in results:
            lines.append(
                f"- {label}: INRR adds {results[with_inrr] / results[label] - 1:.1%}; "
                f"the 10,001-step paper run takes {results[with_inrr] * 10001:.1f} s "
                f"with INRR ({results[label] * 10001:.1f} s without)."
            )
    reference = "CUDA graph, bfloat16 + INRR (paper)"
    for label in results:
        if label.startswith(reference + ", ") and reference in results:
            lines.append(
                f"- ablation, {label[len(reference) + 2 :]}: "
                f"{results[label] * 1e3:.3f} ms a step against the library's "
                f"{results[reference] * 1e3:.3f} ms."
            )
    text = "\n".join(lines) + "\n"
    print(text)
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
