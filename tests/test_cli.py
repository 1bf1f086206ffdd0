"""The ``inrr-sklearn`` command line on image files the package does not ship."""

import numpy as np
import pytest

pytest.importorskip("skimage")
pytest.importorskip("matplotlib")

from skimage import io

from inrr_sklearn.cli import main

pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture
def files(tmp_path):
    """A 20 x 16 RGB gradient PNG and a mask PNG (white = observed)."""
    rows, cols = np.mgrid[0:20, 0:16]
    image = np.stack([rows * 12, cols * 15, (rows + cols) * 6], axis=-1).astype(
        np.uint8
    )
    mask = (np.random.default_rng(0).random((20, 16)) > 0.3).astype(np.uint8) * 255
    io.imsave(tmp_path / "img.png", image)
    io.imsave(tmp_path / "mask.png", mask, check_contrast=False)
    return tmp_path, image, mask > 0


def test_complete_with_a_mask_file_keeps_observed_pixels(files, capsys):
    path, image, observed = files
    out = path / "out.png"
    fig = path / "fig.png"
    rc = main(
        ["complete", str(path / "img.png"), "--mask", str(path / "mask.png"),
         "-o", str(out), "--max-iter", "10", "--figure", str(fig), "--quiet"]
    )  # fmt: skip
    assert rc == 0
    result = io.imread(out)
    assert result.shape == image.shape
    assert np.array_equal(result[observed], image[observed])
    assert fig.stat().st_size > 5000
    assert "pixels completed" in capsys.readouterr().out


def test_generated_mask_reports_scores(files, capsys):
    path, _, _ = files
    rc = main(
        ["complete", str(path / "img.png"), "--mask-kind", "random", "--method",
         "dmf+inrr", "--gray", "-o", str(path / "o.png"), "--max-iter", "5", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    assert io.imread(path / "o.png").shape == (20, 16)
    assert "PSNR" in capsys.readouterr().out


def test_unreadable_files_give_clear_errors(files, capsys):
    path, _, _ = files
    (path / "broken.png").write_text("not an image")
    assert main(["complete", str(path / "missing.png"), "-o", "x.png"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["complete", str(path / "broken.png"), "-o", "x.png"]) == 2
    assert "broken.png" in capsys.readouterr().err
    io.imsave(path / "small.png", np.zeros((5, 5), np.uint8), check_contrast=False)
    rc = main(
        [
            "complete",
            str(path / "img.png"),
            "--mask",
            str(path / "small.png"),
            "-o",
            "x.png",
        ]
    )
    assert rc == 2
    assert "must match" in capsys.readouterr().err


def test_method_names_sum_regularizers_or_are_refused(files, capsys):
    path, _, _ = files
    rc = main(
        ["complete", str(path / "img.png"), "--method", "INR+inrr+tv", "--mask-kind",
         "text", "-o", str(path / "o.png"), "--max-iter", "5", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    assert capsys.readouterr().out.startswith("inr+inrr+tv:")
    with pytest.raises(SystemExit) as exit_info:
        main(["complete", str(path / "img.png"), "--method", "inr+blur", "-o", "x.png"])
    assert exit_info.value.code == 2
    assert "unknown method 'inr+blur'" in capsys.readouterr().err
