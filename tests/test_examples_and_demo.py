"""The examples and the demo main job run (at small size) and produce their outputs."""

import runpy
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

pytest.importorskip("skimage")
pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert any(word in out for word in ("PSNR", "RMSE", "R^2")), out


def test_demo_writes_table_and_figure(tmp_path, capsys):
    from inrr_sklearn.demo import main

    figure = tmp_path / "demo.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        main(["--size", "24", "--max-iter", "15", "--output", str(figure)])
    out = capsys.readouterr().out
    for method in (
        "biharmonic",
        "Refined",
        "Telea",
        "NS",
        "INR+INRR",
        "INR+TV",
        "Blend",
    ):
        assert method in out
    assert figure.exists() and figure.stat().st_size > 10_000
