"""The CUDA path: runs only where CUDA is present (``pytest -m gpu``)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from inrr_sklearn import INRR, INRImputer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def _problem():
    rng = np.random.default_rng(0)
    u = np.linspace(0, 1, 32)
    X = np.outer(np.sin(4 * u), np.cos(3 * u)) + 1.0
    missing = rng.random(X.shape) < 0.3
    return X, np.where(missing, np.nan, X), missing


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "auto"])
def test_fit_on_cuda_stores_model_on_cpu(device):
    _, X_nan, missing = _problem()
    imp = INRImputer(
        reg=INRR(rank=16, hidden_layer_sizes=(16, 16)),
        hidden_layer_sizes=(32, 32, 32),
        max_iter=200,
        random_state=0,
        device=device,
    )
    out = imp.fit_transform(X_nan)
    assert imp.device_.type == "cuda"
    assert all(p.device.type == "cpu" for p in imp.model_.parameters())
    assert all(p.device.type == "cpu" for p in imp.penalty_.parameters())
    assert_array_equal(out[~missing], X_nan[~missing])
    restored = pickle.loads(pickle.dumps(imp))
    assert_array_equal(restored.transform(X_nan), out)


def test_cuda_and_cpu_reach_similar_quality():
    X, X_nan, missing = _problem()
    errors = {}
    for device in ("cpu", "cuda"):
        out = INRImputer(
            hidden_layer_sizes=(32, 32, 32), max_iter=300, random_state=0, device=device
        ).fit_transform(X_nan)
        errors[device] = np.sqrt(np.mean((out[missing] - X[missing]) ** 2))
    assert errors["cuda"] < 2 * errors["cpu"] + 1e-3, errors


def _small_trainer(cuda_graph, precision="float32", validate=True, reg=True):
    """A small SIREN (+ INRR) trainer on CUDA, built the same way every call."""
    from inrr_sklearn.nn import SirenNet
    from inrr_sklearn.training import Trainer

    generator = torch.Generator().manual_seed(0)
    net = SirenNet(2, (32, 32), 1, 30.0, 1.0, "sigmoid")
    net.reset_parameters(generator)
    net = net.cuda()
    size = 24
    lin = torch.linspace(-1, 1, size, device="cuda")
    rows, cols = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([cols.reshape(-1), rows.reshape(-1)], 1)
    target = torch.rand(size, size, generator=generator).cuda()
    observed = torch.rand(size, size, generator=generator) < 0.6
    val = (torch.rand(size, size, generator=generator) < 0.2) & observed
    train_w = (observed & ~val).float()
    penalty = None
    if reg:
        penalty = INRR(rank=8, hidden_layer_sizes=(8, 8)).build(
            (size, size), n_observed=int(train_w.sum()), generator=generator
        )
        penalty = penalty.cuda()
    return Trainer(
        net,
        lambda: net(coords).reshape(size, size),
        target,
        (train_w / train_w.sum()).cuda(),
        penalty=penalty,
        learning_rate=1e-3,
        val_weight=(val.float() / val.sum()).cuda() if validate else None,
        cuda_graph=cuda_graph,
        precision=precision,
    )


def test_cuda_graph_step_matches_eager_steps():
    from inrr_sklearn.training import GRAPH_WARMUP_STEPS

    eager, graphed = _small_trainer(False), _small_trainer(True)
    losses = {"eager": [], "graph": []}
    for _ in range(GRAPH_WARMUP_STEPS + 20):
        losses["eager"].append(float(eager.step().loss))
        losses["graph"].append(float(graphed.step().loss))
    assert graphed.graph is not None  # captured, and replayed since
    np.testing.assert_allclose(losses["graph"], losses["eager"], rtol=1e-4)
    for a, b in zip(eager.parameters, graphed.parameters, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
    # The best-iterate bookkeeping is captured too and still tracks the minimum.
    assert int(graphed.best.count) == int(eager.best.count)
    assert int(graphed.best.index) == int(eager.best.index)
    torch.testing.assert_close(graphed.best.value, eager.best.value)


@pytest.mark.parametrize("precision", ["tf32", "bfloat16"])
def test_reduced_precision_trains(precision):
    trainer = _small_trainer(True, precision=precision)
    first = float(trainer.step().loss)
    for _ in range(200):
        last = trainer.step().loss
    assert torch.isfinite(last) and float(last) < first
    assert torch.get_float32_matmul_precision() == "highest"  # restored after steps


@pytest.mark.parametrize("precision", ["float32", "tf32", "bfloat16"])
def test_imputer_with_graph_and_precision(precision):
    X, X_nan, missing = _problem()
    imp = INRImputer(
        reg=INRR(rank=8, hidden_layer_sizes=(8, 8)),
        hidden_layer_sizes=(32, 32, 32),
        max_iter=300,
        random_state=0,
        device="cuda",
        cuda_graph=True,
        precision=precision,
    )
    out = imp.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    assert np.sqrt(np.mean((out[missing] - X[missing]) ** 2)) < 0.2
    assert imp.n_iter_ == len(imp.loss_curve_)
    restored = pickle.loads(pickle.dumps(imp))
    assert all(p.device.type == "cpu" for p in restored.model_.parameters())


def test_graph_and_eager_fits_agree():
    _, X_nan, _ = _problem()
    outs = [
        INRImputer(
            reg=INRR(rank=8, hidden_layer_sizes=(8, 8)),
            hidden_layer_sizes=(32, 32),
            max_iter=100,
            random_state=0,
            device="cuda",
            cuda_graph=graph,
        ).fit_transform(X_nan)
        for graph in (False, True)
    ]
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-3)


def test_dmf_on_cuda_with_graph():
    from inrr_sklearn import DMFImputer

    _, X_nan, missing = _problem()
    imp = DMFImputer(reg=INRR(rank=8, hidden_layer_sizes=(8, 8)), max_iter=300,
                     random_state=0, device="cuda", record_every=50)  # fmt: skip
    out = imp.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    # Recorded snapshots are copies, not views of the graph's static output.
    completions = imp.history_["completion"]
    assert len(completions) > 2
    assert not np.allclose(completions[1], completions[-1])


@pytest.mark.parametrize("reg", [None, "inrr"])
def test_compile_inside_the_graph(reg):
    X, X_nan, missing = _problem()
    imp = INRImputer(
        reg=None if reg is None else INRR(rank=8, hidden_layer_sizes=(8, 8)),
        hidden_layer_sizes=(32, 32),
        max_iter=200,
        random_state=0,
        device="cuda",
        compile=True,
        precision="tf32",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the capture must succeed
        out = imp.fit_transform(X_nan)
    assert_array_equal(out[~missing], X_nan[~missing])
    assert np.sqrt(np.mean((out[missing] - X[missing]) ** 2)) < 0.2
    restored = pickle.loads(pickle.dumps(imp))  # the plain modules, not the compiled
    assert_array_equal(restored.transform(X_nan), out)


@pytest.mark.parametrize("n_jobs", [4, 8])
def test_graph_capture_in_worker_processes(n_jobs):
    """Fits in joblib's worker processes, 8 sharing the card as in the replication
    grid, capture their graphs too (no fallback); a failure names its first error."""
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_with_capture_warnings)(seed, kind)
        for seed in range(2 * n_jobs)
        for kind in ("inr", "inr+inrr", "dmf+inrr")
    )
    failures = [message for messages in results for message in messages]
    assert not failures, failures


def test_graph_capture_in_threads():
    """Fits in threads of one process (their captures take turns) do not fall back."""
    from joblib import Parallel, delayed

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Parallel(n_jobs=4, backend="threading")(
            delayed(_fit)(seed, kind)
            for seed in range(4)
            for kind in ("inr", "inr+inrr", "dmf+inrr")
        )
    failures = [str(w.message) for w in caught if "graph capture" in str(w.message)]
    assert not failures, failures


def _fit(seed, kind):
    from inrr_sklearn import DMFImputer

    _, X_nan, _ = _problem()
    reg = INRR(rank=8, hidden_layer_sizes=(8, 8)) if "inrr" in kind else None
    if kind.startswith("dmf"):
        imputer = DMFImputer(reg=reg, max_iter=100, random_state=seed, device="cuda")
    else:
        imputer = INRImputer(reg=reg, hidden_layer_sizes=(32, 32), max_iter=100,
                             random_state=seed, device="cuda")  # fmt: skip
    imputer.fit(X_nan)


def _fit_with_capture_warnings(seed, kind):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(seed, kind)
    return [str(w.message) for w in caught if "graph capture" in str(w.message)]


def test_failed_capture_names_the_error_that_broke_it():
    """A penalty that reads a value on the host cannot be captured: the fit warns with
    that op's error (not "a previous error during capture") and trains eagerly."""
    from inrr_sklearn.regularizers import BaseRegularizer, Penalty

    class HostReadPenalty(Penalty):
        def forward(self, X, model):
            X.sum().item()  # a host read: not allowed while capturing
            return (X * 0.0).sum()

    class HostRead(BaseRegularizer):
        def _build_penalty(self, shape, n_observed, generator):
            return HostReadPenalty()

    _, X_nan, missing = _problem()
    imputer = INRImputer(reg=HostRead(), hidden_layer_sizes=(16, 16), max_iter=30,
                         random_state=0, device="cuda", cuda_graph=True)  # fmt: skip
    with pytest.warns(RuntimeWarning, match="graph capture failed") as record:
        out = imputer.fit_transform(X_nan)
    message = next(str(w.message) for w in record if "graph capture" in str(w.message))
    assert "previous error" not in message, message
    assert imputer.n_iter_ == 30
    assert_array_equal(out[~missing], X_nan[~missing])
