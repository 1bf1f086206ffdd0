"""How strong should INRR be on tables, and does ordering the rows help?

Usage::

    python benchmarks/study_tabular_inrr.py                 # weights and row ordering
    python benchmarks/study_tabular_inrr.py --coordinates   # spectral coordinates, 3 seeds

For the three tables of ``bench_tabular.py`` at 30 % MCAR: held-out RMSE (column-std
units) of ``DMFImputer`` with INRR weights 0.01 ... 100, with and without early
stopping; then with rows (and columns) permuted by a spectral ordering (1-D
``SpectralEmbedding`` of a 10-nearest-neighbour graph of the standardised, mean-filled
rows) before the fit and permuted back after. Prints one line per data set. Results are
quoted in ``docs/benchmark_tabular.md``.
"""

import sys
import warnings

import numpy as np
import torch
from _tasks import missing_rmse
from bench_tabular import datasets, missing_patterns
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import SpectralEmbedding

from inrr_sklearn import INRR, DMFImputer
from inrr_sklearn.nn import SirenNet


def standardized_filled(X_nan, axis=0):
    """Columns standardised on observed entries, missing set to 0; transposed if axis=1."""
    Z = (X_nan - np.nanmean(X_nan, 0)) / np.nanstd(X_nan, 0)
    Z = np.where(np.isnan(Z), 0, Z)
    return Z.T if axis == 1 else Z


def spectral_order(X_nan, axis=0):
    """Indices sorting rows (axis=0) or columns (axis=1) by their Fiedler coordinate."""
    Z = standardized_filled(X_nan, axis)
    embedding = SpectralEmbedding(
        n_components=1,
        affinity="nearest_neighbors",
        n_neighbors=min(10, Z.shape[0] - 1),
        random_state=0,
    ).fit_transform(Z)[:, 0]
    return np.argsort(embedding)


def spectral_coordinates(X_nan, d, axis=0):
    """(k, d) coordinates in [-1, 1]: top-d singular directions of the filled table."""
    Z = standardized_filled(X_nan, axis)
    U, s, _ = np.linalg.svd(Z, full_matrices=False)
    C = U[:, :d] * s[:d]
    return torch.tensor(C / np.abs(C).max(0), dtype=torch.float32)


class SpectralINRR(INRR):
    """INRR whose tiny SIRENs read given coordinates (``None`` keeps the index)."""

    def __init__(self, *, alpha_row=1e-2, alpha_col=1e-2, rank=32, coordinates=None):
        super().__init__(alpha_row=alpha_row, alpha_col=alpha_col, rank=rank)
        self.coordinates = coordinates

    def _build_penalty(self, shape, n_observed, generator):
        penalty = super()._build_penalty(shape, n_observed, generator)
        if not any(c is not None for c in (self.coordinates or {}).values()):
            return penalty
        stack = penalty.inrs.nets
        nets, coords = [], []
        for side, k in enumerate(penalty.inrs.sizes):
            given = (self.coordinates or {}).get(("row", "col")[side])
            net = SirenNet(
                1 if given is None else given.shape[1], tuple(self.hidden_layer_sizes),
                self.rank, self.omega_0, self.hidden_omega_0, fused=False,
            )  # fmt: skip
            if given is None:  # the index coordinates: the library's drawn network
                with torch.no_grad():
                    linears = [*net.layers, net.head]
                    for linear, w, b in zip(
                        linears, stack.weights, stack.biases, strict=True
                    ):
                        linear.weight.copy_(w[side])
                        linear.bias.copy_(b[side, 0])
                given = penalty.inrs.coords[side, :k]
            else:
                net.reset_parameters(generator)
            nets.append(net)
            coords.append(given)
        penalty.inrs = _GivenCoordinateINRs(nets, coords, penalty.inrs.sizes)
        penalty._batched = False  # side by side: the inputs differ
        return penalty


class _GivenCoordinateINRs(torch.nn.Module):
    """Per side a SirenNet on given coordinates, in place of INRR's stacked networks
    (the ``probabilities(sides)`` interface of ``_INRRPenalty.inrs``)."""

    def __init__(self, nets, coords, sizes):
        super().__init__()
        self.nets = torch.nn.ModuleList(nets)
        self.coords = list(coords)
        self.sizes = sizes

    def probabilities(self, sides=(True, True)):
        return tuple(
            torch.softmax(net(c.to(next(net.parameters()).device)), dim=1)
            if wanted
            else None
            for net, c, wanted in zip(self.nets, self.coords, sides, strict=True)
        )


def coordinates_study():
    variants = {
        "DMF": lambda X_nan: None,
        "index a=0.1": lambda X_nan: INRR(alpha_row=0.1, alpha_col=0.1),
        "index a=0.3": lambda X_nan: INRR(alpha_row=0.3, alpha_col=0.3),
        "index a=1": lambda X_nan: INRR(alpha_row=1.0, alpha_col=1.0),
        "rows 2-d a=0.3": lambda X_nan: SpectralINRR(
            alpha_row=0.3, alpha_col=0.3,
            coordinates={"row": spectral_coordinates(X_nan, 2)},
        ),
        "rows 2-d a=1": lambda X_nan: SpectralINRR(
            alpha_row=1.0, alpha_col=1.0,
            coordinates={"row": spectral_coordinates(X_nan, 2)},
        ),
        "rows 4-d a=1": lambda X_nan: SpectralINRR(
            alpha_row=1.0, alpha_col=1.0,
            coordinates={"row": spectral_coordinates(X_nan, 4)},
        ),
        "rows 2-d + cols 2-d a=1": lambda X_nan: SpectralINRR(
            alpha_row=1.0, alpha_col=1.0,
            coordinates={
                "row": spectral_coordinates(X_nan, 2),
                "col": spectral_coordinates(X_nan, 2, axis=1),
            },
        ),
        "rows 2-d only (alpha_col=0) a=1": lambda X_nan: SpectralINRR(
            alpha_row=1.0, alpha_col=0.0,
            coordinates={"row": spectral_coordinates(X_nan, 2)},
        ),
    }  # fmt: skip
    for name, X in datasets().items():
        scores = {v: [] for v in variants}
        for seed in range(3):
            missing = np.random.default_rng(100 + seed).random(X.shape) < 0.3
            X_nan = np.where(missing, np.nan, X)
            for variant, make_reg in variants.items():
                out = DMFImputer(
                    reg=make_reg(X_nan), random_state=seed, device="cpu"
                ).fit_transform(X_nan)
                scores[variant].append(missing_rmse(out, X, missing))
        for variant, values in scores.items():
            print(
                f"{name:9s} {variant:32s} {np.mean(values):.3f}  ("
                + ", ".join(f"{v:.3f}" for v in values) + ")",
                flush=True,
            )  # fmt: skip


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, X in datasets().items():
        missing = missing_patterns(X, quick=True)["MCAR 30%"]
        X_nan = np.where(missing, np.nan, X)
        cells = []
        for alpha in (None, 0.01, 1, 10, 100):
            for early in (True, False):
                reg = None if alpha is None else INRR(alpha_row=alpha, alpha_col=alpha)
                out = DMFImputer(
                    reg=reg,
                    early_stopping=early,
                    max_iter=3000 if early else 1500,
                    random_state=0,
                    device="cpu",
                ).fit_transform(X_nan)
                cells.append(
                    f"a={alpha} es={int(early)}: {missing_rmse(out, X, missing):.3f}"
                )
        for order in ("rows", "both"):
            rows = spectral_order(X_nan, 0)
            cols = (
                spectral_order(X_nan, 1) if order == "both" else np.arange(X.shape[1])
            )
            out = DMFImputer(
                reg=INRR(alpha_row=1, alpha_col=1), random_state=0, device="cpu"
            ).fit_transform(X_nan[np.ix_(rows, cols)])
            back = np.empty_like(out)
            back[np.ix_(rows, cols)] = out
            cells.append(f"ordered {order} a=1: {missing_rmse(back, X, missing):.3f}")
        print(name, " | ".join(cells), flush=True)


if __name__ == "__main__":
    if "--coordinates" in sys.argv[1:]:
        warnings.simplefilter("ignore", ConvergenceWarning)
        coordinates_study()
    else:
        main()
