"""Sweep one training configuration and print missing-pixel PSNR every 100 steps.

This is the script behind ``docs/defaults.md``: it trains the library's ``SirenNet``
with a regularizer from ``inrr_sklearn.regularizers`` (no early stopping, fixed seeds)
and prints the trajectory, so that one run shows every budget. Usage::

    python benchmarks/sweep_defaults.py '{"reg": "inrr", "mask": "text", "steps": 2000,
        "rp": {"alpha_row": 0.01, "alpha_col": 0.01, "rank": 32}}'
    # many at once (8 processes; on a GPU machine they share the GPU):
    cat benchmarks/sweeps/gpu_sweep1.jsonl | xargs -d '\\n' -P 8 -I{} \\
        python benchmarks/sweep_defaults.py '{}'

Config keys: image (skimage.data name), size, mask (random/text/scribble), rate, reg
(null/inrr/tv/l2/air), rp (regularizer params), width, steps, lr, warm (linear ramp
of the penalty over that many steps).
"""

import json
import sys
import time

import numpy as np
import torch

from inrr_sklearn.image import load_image
from inrr_sklearn.masks import make_mask
from inrr_sklearn.nn import SirenNet
from inrr_sklearn.regularizers import Penalty, make_regularizer
from inrr_sklearn.training import Trainer

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
if DEV.type == "cpu":
    torch.set_num_threads(1)


class _WarmUp(Penalty):
    """A penalty ramped linearly from 0 to full weight over ``steps`` calls."""

    def __init__(self, inner, steps):
        super().__init__()
        self.inner, self.steps, self.calls = inner, steps, 0

    def forward(self, X, model):
        self.calls += 1
        return self.inner(X, model) * min(1.0, self.calls / self.steps)

    def param_groups(self):
        return self.inner.param_groups()


def run(img, mask, reg, width=96, steps=1500, lr=1e-3, every=100, seed=0, warm=0):
    k, n = img.shape
    g = torch.Generator().manual_seed(seed)
    net = SirenNet(2, (width,) * 5, 1, 30.0, 1.0, "sigmoid")
    net.reset_parameters(g)
    net = net.to(DEV)
    r = torch.linspace(-1, 1, k)
    c = torch.linspace(-1, 1, n)
    gr, gc = torch.meshgrid(r, c, indexing="ij")
    coords = torch.stack([gc.reshape(-1), gr.reshape(-1)], 1).to(DEV)
    Y = torch.tensor(img, dtype=torch.float32, device=DEV)
    M = torch.tensor(mask, dtype=torch.float32, device=DEV)
    penalty = None
    if reg is not None:
        penalty = reg.build((k, n), n_observed=int(mask.sum()), generator=g).to(DEV)
        if warm:
            penalty = _WarmUp(penalty, warm)
    trainer = Trainer(
        net,
        lambda: net(coords).reshape(k, n),
        Y,
        M / M.sum(),
        penalty=penalty,
        learning_rate=lr,
    )
    miss = ~mask
    out = []
    for it in range(1, steps + 1):
        X = trainer.step().completion  # the matrix before this step's update
        if it % every == 0:
            Xn = X.cpu().numpy()
            mse = ((Xn - img)[miss] ** 2).mean()
            out.append(float(round(10 * np.log10(1 / mse), 2)))
    return out


if __name__ == "__main__":
    cfg = json.loads(sys.argv[1])
    img = load_image(cfg.get("image", "camera"), cfg.get("size", 128))
    mask_kind = cfg.get("mask", "random")
    if mask_kind in ("text", "scribble"):
        mask = make_mask(mask_kind, img.shape, random_state=0)
    else:  # the logged sweeps drew random masks with default_rng; keep it so
        rng = np.random.default_rng(cfg.get("mseed", 0))
        mask = rng.random(img.shape) > cfg.get("rate", 0.5)
    reg = make_regularizer(cfg.get("reg"), **cfg.get("rp", {}))
    t = time.time()
    res = run(
        img,
        mask,
        reg,
        width=cfg.get("width", 96),
        steps=cfg.get("steps", 1500),
        lr=cfg.get("lr", 1e-3),
        warm=cfg.get("warm", 0),
    )
    print(
        json.dumps(cfg),
        f"max {max(res):.2f}@{100 * (1 + int(np.argmax(res)))}",
        res,
        f"{time.time() - t:.0f}s",
        flush=True,
    )
