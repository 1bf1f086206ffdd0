"""The torch-only trainer and its parts, without any estimator."""

import copy
import math

import pytest
import torch

from inrr_sklearn.exceptions import DivergenceError
from inrr_sklearn.regularizers import make_regularizer
from inrr_sklearn.training import (
    SYNC_EVERY,
    BestIterate,
    Callback,
    DivergenceGuard,
    EarlyStopping,
    FlatAdam,
    Trainer,
    train,
)


def _trainer(lr=0.1, validate=False, penalty=None):
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 6, bias=False)
    target = torch.arange(6.0).reshape(2, 3)
    weight = torch.full((2, 3), 1 / 6)
    return Trainer(
        model,
        lambda: model.weight.reshape(2, 3),
        target,
        weight,
        penalty=penalty,
        learning_rate=lr,
        val_weight=weight if validate else None,
    )


def test_step_returns_device_tensors_and_lowers_the_loss():
    trainer = _trainer()
    first = trainer.step()
    assert isinstance(first.loss, torch.Tensor) and first.loss.ndim == 0
    assert first.validation is None and first.completion.shape == (2, 3)
    for _ in range(50):
        last = trainer.step()
    assert last.loss < first.loss


def test_penalty_parameters_get_their_own_learning_rate():
    reg = make_regularizer("inrr", rank=2, hidden_layer_sizes=(4,))
    penalty = reg.build(
        (2, 3), n_observed=6, generator=torch.Generator().manual_seed(0)
    )
    trainer = _trainer(penalty=penalty)
    model_group, penalty_group = trainer.optimizer.param_groups
    assert penalty_group["lr"] == reg.learning_rate_init != model_group["lr"]
    assert {id(p) for p in penalty_group["params"]} == {
        id(p) for p in penalty.parameters()
    }
    before = [p.detach().clone() for p in penalty.parameters()]
    trainer.step()
    assert any(
        not torch.equal(b, p) for b, p in zip(before, penalty.parameters(), strict=True)
    )


def test_stopping_rule_is_relative():
    rule = EarlyStopping(tol=0.1, n_iter_no_change=2)
    assert not rule.update(1.0)
    assert not rule.update(0.95)  # 5 % better: no improvement at tol=10 %
    assert rule.update(0.95)
    scaled = EarlyStopping(tol=0.1, n_iter_no_change=2)
    assert [scaled.update(v * 1e-30) for v in (1.0, 0.95, 0.95)] == [False, False, True]


def test_best_iterate_keeps_the_minimum_and_never_a_nan():
    param = torch.nn.Parameter(torch.zeros(2))
    best = BestIterate([param])
    for value, fill in ((3.0, 1.0), (1.0, 2.0), (math.nan, 3.0), (2.0, 4.0)):
        with torch.no_grad():
            param.fill_(fill)
        best.update(torch.tensor(value))
    assert best.restore() == 1 and int(best.count) == 4 and float(best.value) == 1.0
    assert torch.equal(param, torch.full((2,), 2.0))


def test_train_stops_records_and_restores():
    trainer = _trainer(validate=True)
    result = train(trainer, 500, [DivergenceGuard(), EarlyStopping(1e-4, 10)])
    assert result.converged and result.n_iter < 500
    assert len(result.loss_curve) == len(result.validation_curve) == result.n_iter
    assert result.best_index is not None and result.best_index > 0


def test_divergence_without_a_best_iterate_raises():
    trainer = _trainer(lr=1e6)
    with pytest.raises(DivergenceError, match="iteration"):
        train(trainer, 4 * SYNC_EVERY, [DivergenceGuard()])


def test_divergence_restores_the_best_validated_iterate():
    trainer = _trainer(lr=0.1, validate=True)
    train(trainer, 60, [DivergenceGuard()])
    for group in trainer.optimizer.param_groups:
        group["lr"] = 1e6
    result = train(trainer, 4 * SYNC_EVERY, [DivergenceGuard()], warm=True)
    assert result.diverged_at is not None
    assert torch.isfinite(trainer.model.weight).all()
    assert trainer.model.weight.abs().max() < 10


def test_interrupt_stops_and_keeps_the_best(monkeypatch):
    trainer = _trainer(validate=True)
    calls = {"n": 0}
    step = trainer.step

    def interrupted():
        calls["n"] += 1
        if calls["n"] == 30:
            raise KeyboardInterrupt
        return step()

    trainer.step = interrupted
    result = train(trainer, 100, [DivergenceGuard()])
    assert result.interrupted and result.n_iter == 29
    assert len(result.loss_curve) == 29


def test_callbacks_run_once_per_read_and_can_stop():
    class StopAfterTwoReads(Callback):
        def __init__(self):
            self.reads = []

        def on_read(self, state, first):
            self.reads.append((first, state.n_iter))
            state.converged = len(self.reads) == 2

    trainer, callback = _trainer(), StopAfterTwoReads()
    result = train(trainer, 10 * SYNC_EVERY, [callback])
    assert callback.reads == [(0, SYNC_EVERY), (SYNC_EVERY, 2 * SYNC_EVERY)]
    assert result.converged and result.n_iter == 2 * SYNC_EVERY


def test_a_failing_step_closes_the_callbacks():
    class Closed(Callback):
        closed = False

        def close(self):
            self.closed = True

    trainer, callback = _trainer(), Closed()

    def broken():
        raise RuntimeError("boom")

    trainer.step = broken
    with pytest.raises(RuntimeError, match="boom"):
        train(trainer, 10, [callback])
    assert callback.closed


def test_subgrid_sampler_covers_the_grid_by_strided_sub_grids():
    from inrr_sklearn.training import SubgridSampler

    sampler = SubgridSampler(
        7, 5, stride=3, generator=torch.Generator().manual_seed(0), device="cpu"
    )
    seen = torch.zeros(35, dtype=torch.long)
    for _ in range(200):
        index = sampler.sample()
        rows, cols = index // 5, index % 5
        # one residue class of rows and of columns, every member of it
        assert (rows - rows[0, 0]).remainder(3).eq(0).all()
        assert (cols - cols[0, 0]).remainder(3).eq(0).all()
        assert index.shape == (
            len(range(int(rows[0, 0]), 7, 3)),
            len(range(int(cols[0, 0]), 5, 3)),
        )
        assert sampler.scale(index) == 35 / index.numel()
        seen[index.reshape(-1)] += 1
    assert seen.min() > 0
    with pytest.raises(ValueError, match="stride"):
        SubgridSampler(4, 4, stride=5, generator=torch.Generator(), device="cpu")


class _Offsets:
    """A sampler that hands out the sub-grids of ``offsets`` in turn (stride s)."""

    def __init__(self, height, width, stride, offsets):
        self.height, self.width, self.stride = height, width, stride
        self.offsets = list(offsets)

    def sample(self):
        row, col = self.offsets.pop(0)
        rows = torch.arange(row, self.height, self.stride)
        cols = torch.arange(col, self.width, self.stride)
        return rows[:, None] * self.width + cols[None, :]

    def scale(self, index):
        return self.height * self.width / index.numel()


def test_sub_grid_steps_estimate_the_full_step_on_channels():
    """Each sub-grid step's data term, averaged over the s² offsets, is the full
    data term; the penalty sees the sub-grid's (rows, cols, C); validation is the
    full validation error, every step."""
    height, width, channels, stride = 4, 6, 2, 2
    generator = torch.Generator().manual_seed(0)
    values = torch.rand(height * width, channels, generator=generator)
    target = torch.rand(height, width * channels, generator=generator)
    train = torch.rand(height, width * channels, generator=generator)
    train /= train.sum()
    val = (torch.rand(height, width * channels, generator=generator) > 0.5).float()
    val /= val.sum()
    free = torch.nn.Parameter(values.clone())
    seen = []

    class Recording(torch.nn.Module):
        any_shape = True

        def forward(self, X, model):
            seen.append(tuple(X.shape))
            return X.new_zeros(())

        def param_groups(self):
            return []

    penalty = Recording()
    offsets = [(a, b) for a in range(stride) for b in range(stride)]
    trainer = Trainer(
        torch.nn.ParameterList([free]),
        lambda index=None: (
            free.reshape(height, -1) if index is None else free[index.reshape(-1)]
        ),
        target,
        train,
        penalty=penalty,
        view_shape=(height, width, channels),
        learning_rate=0.0,  # the parameters stay put: every step sees the same X
        val_weight=val,
        batches=_Offsets(height, width, stride, offsets),
    )
    full_residual = values.reshape(height, -1) - target
    full_loss = float((full_residual**2 * train).sum())
    full_val = float((full_residual**2 * val).sum())
    results = [trainer.step() for _ in offsets]
    assert sum(float(r.loss) for r in results) / len(offsets) == pytest.approx(
        full_loss
    )
    assert all(float(r.validation) == pytest.approx(full_val) for r in results)
    assert seen == [(2, 3, channels)] * len(offsets)


def test_cuda_graph_refuses_sub_grid_steps():
    target = torch.zeros(4, 4)
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(
            torch.nn.Linear(1, 1), lambda index=None: target, target, target,
            cuda_graph=True, batches=_Offsets(4, 4, 2, [(0, 0)]),
        )  # fmt: skip


def test_flat_adam_is_torch_adam_to_the_bit():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    models = [torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh())]
    models.append(copy.deepcopy(models[0]))
    unused = [torch.nn.Parameter(torch.ones(2)) for _ in range(2)]  # no gradient
    optimizers = [
        optimizer(
            [
                {"params": [model[0].weight, unused_param]},
                {"params": [model[0].bias], "lr": 0.03},
            ],
            lr=0.01,
        )
        for optimizer, model, unused_param in zip(
            (FlatAdam, torch.optim.Adam), models, unused, strict=True
        )
    ]
    for _ in range(40):
        for model, optimizer in zip(models, optimizers, strict=True):
            optimizer.zero_grad()
            (model(x).sum(dim=1, keepdim=True) - y).square().mean().backward()
            optimizer.step()
    ours = [*models[0].parameters(), unused[0]]
    theirs = [*models[1].parameters(), unused[1]]
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    assert torch.equal(unused[0], torch.ones(2))


def test_cpu_training_builds_no_torch_optimizer(monkeypatch):
    # Building a torch.optim optimizer imports torch._dynamo (seconds per process).
    def refuse(*args, **kwargs):
        raise AssertionError("torch.optim.Optimizer built on CPU")

    monkeypatch.setattr(torch.optim.Optimizer, "__init__", refuse)
    trainer = _trainer(penalty=None)
    trainer.step()
    assert isinstance(trainer.optimizer, FlatAdam)


def test_flat_adam_refuses_what_torch_adam_would_do_differently():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match="more than once"):
        FlatAdam([{"params": [a, b]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="'params' and 'lr' only"):
        FlatAdam([{"params": [a], "eps": 1e-6}], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        FlatAdam([{"params": [a], "lr": None}], lr=0.1)
    with pytest.raises(ValueError, match="one dtype"):
        FlatAdam([{"params": [a, b.double()]}], lr=0.1)


def test_best_iterate_without_parameters():
    best = BestIterate([])
    best.update(torch.tensor(1.0))
    assert best.restore() == 0


def test_own_stream_and_release_graph_off_cuda():
    """Off CUDA the fit's stream is a no-op and a trainer without a graph releases
    nothing (it keeps stepping eagerly)."""
    from inrr_sklearn.training import own_stream

    target = torch.arange(6.0).reshape(2, 3) / 6
    free = torch.nn.Parameter(torch.zeros(2, 3))
    trainer = Trainer(torch.nn.ParameterList([free]), lambda: free, target,
                      torch.ones(2, 3) / 6, learning_rate=0.1)  # fmt: skip
    with own_stream("cpu"):
        first = trainer.step().loss
    trainer.release_graph()
    assert trainer.graph is None and trainer.cuda_graph is False
    assert trainer.step().loss < first


def test_capture_error_text_names_the_first_error_and_where():
    """A broken capture's second error ("previous error during capture") gives way to
    the first, described by its first line (its repr if it has none) and location."""
    from inrr_sklearn.training._trainer import _describe, _first_error

    def op():
        raise RuntimeError("operation not permitted when stream is capturing\nmore")

    try:
        try:
            op()
        except RuntimeError:
            # implicitly chained (__context__), as torch.cuda.graph's exit raises it
            raise RuntimeError(  # noqa: B904
                "operation failed due to a previous error during capture"
            )
    except RuntimeError as exc:
        text = _describe(_first_error(exc))
    assert text.startswith("operation not permitted when stream is capturing, raised")
    assert "in op at" in text and "more" not in text
    try:
        raise AssertionError()
    except AssertionError as exc:
        assert _describe(exc).startswith("AssertionError()")
