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

from inrr_sklearn import AIR, INRR, L2, TV
from inrr_sklearn._modules import SirenNet
from inrr_sklearn.image import load_image
from inrr_sklearn.masks import scribble_mask, text_mask

REGULARIZERS = {"inrr": INRR, "air": AIR, "tv": TV, "l2": L2}


DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
if DEV.type == "cpu":
    torch.set_num_threads(1)


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
    W = M / M.sum()
    mod = reg.build((k, n), n_observed=int(mask.sum()), generator=g) if reg else None
    if mod is not None:
        mod = mod.to(DEV)
    opt = torch.optim.Adam(net.parameters(), lr)
    ropt = (
        torch.optim.Adam(reg.param_groups(mod))
        if reg and reg.param_groups(mod)
        else None
    )
    miss = ~mask
    out = []
    for it in range(1, steps + 1):
        X = net(coords).reshape(k, n)
        loss = ((X - Y) ** 2 * W).sum()
        if reg:
            p = reg.penalty(X, model=net, module=mod)
            if warm:
                p = p * min(1.0, it / warm)
            loss = loss + p
        opt.zero_grad()
        if ropt:
            ropt.zero_grad()
        loss.backward()
        opt.step()
        if ropt:
            ropt.step()
        if it % every == 0:
            Xn = X.detach().cpu().numpy()
            mse = ((Xn - img)[miss] ** 2).mean()
            out.append(float(round(10 * np.log10(1 / mse), 2)))
    return out


if __name__ == "__main__":
    cfg = json.loads(sys.argv[1])
    img = load_image(cfg.get("image", "camera"), cfg.get("size", 128))
    mask_kind = cfg.get("mask", "random")
    if mask_kind == "text":
        mask = text_mask(img.shape)
    elif mask_kind == "scribble":
        mask = scribble_mask(img.shape, random_state=0)
    else:  # the logged sweeps drew random masks with default_rng; keep it so
        rng = np.random.default_rng(cfg.get("mseed", 0))
        mask = rng.random(img.shape) > cfg.get("rate", 0.5)
    reg_name = cfg.get("reg")
    reg = None if reg_name is None else REGULARIZERS[reg_name](**cfg.get("rp", {}))
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
