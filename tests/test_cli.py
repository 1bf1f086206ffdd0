"""The ``inrr-sklearn`` command line on image files the package does not ship."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")
pytest.importorskip("matplotlib")

from skimage import io

from inrr_sklearn import INRImputer
from inrr_sklearn.cli import main
from inrr_sklearn.image import write_image

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
    assert result.dtype == np.uint8  # an 8-bit input stays 8-bit
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
    err = capsys.readouterr().err
    assert "broken.png" in err
    assert err.startswith("inrr-sklearn: error: cannot read") and err.count("\n") == 1
    assert main(["complete", str(path), "-o", "x.png"]) == 2
    assert "is a folder" in capsys.readouterr().err
    rc = main(
        ["complete", str(path / "img.png"), "--mask-holes", str(path / "none.png"),
         "-o", "x.png"]
    )  # fmt: skip
    assert rc == 2
    err = capsys.readouterr().err
    assert "none.png" in err and err.count("\n") == 1
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


def test_mask_holes_is_the_skimage_opencv_convention(files, capsys):
    path, image, observed = files
    holes = (~observed).astype(np.uint8) * 255  # white = hole, as for cv2.inpaint
    io.imsave(path / "holes.png", holes, check_contrast=False)
    common = ["--method", "inr", "--max-iter", "3", "--quiet"]
    rc = main(
        ["complete", str(path / "img.png"), "--mask-holes", str(path / "holes.png"),
         "-o", str(path / "from_holes.png"), *common]
    )  # fmt: skip
    assert rc == 0
    out = capsys.readouterr().out
    assert f"{int((~observed).sum())} of {observed.size} pixels completed" in out
    assert "PSNR" not in out  # a given mask hides no truth
    result = io.imread(path / "from_holes.png")
    assert np.array_equal(result[observed], image[observed])
    rc = main(
        ["complete", str(path / "img.png"), "--mask", str(path / "mask.png"),
         "-o", str(path / "from_mask.png"), *common]
    )  # fmt: skip
    assert rc == 0
    assert np.array_equal(io.imread(path / "from_mask.png"), result)


def test_mask_and_mask_holes_exclude_each_other_and_are_explained(files, capsys):
    path, _, _ = files
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["complete", str(path / "img.png"), "--mask", str(path / "mask.png"),
             "--mask-holes", str(path / "mask.png"), "-o", "x.png"]
        )  # fmt: skip
    assert exit_info.value.code == 2
    assert "not allowed with argument --mask" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["complete", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "white = OBSERVED" in help_text
    assert "white/nonzero = HOLE" in help_text
    assert "mask of the HOLES (skimage/OpenCV inpainting convention)" in help_text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-o", "out.txt"], ".txt is not a format it can write"),
        (["-o", "out"], "no file suffix"),
        (["-o", "nowhere/out.png"], "the folder nowhere does not exist"),
        (["-o", "folder.png"], "is a folder"),
        (["-o", "locked/out.png"], "not writable"),
        (["-o", "out.png", "--figure", "fig.docx"], ".docx is not a format"),
        (["-o", "out.png", "--figure", "fig"], "no file suffix"),
        (["-o", "out.png", "--figure", "nowhere/fig.pdf"], "does not exist"),
        (["-o", "out.png", "--figure", "out.png"], "the same file"),
    ],
)
def test_bad_output_paths_are_refused_before_fitting(
    files, capsys, monkeypatch, options, message
):
    path, _, _ = files
    (path / "folder.png").mkdir()
    (path / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(  # as for a read-only folder, also when tests run as root
        os, "access", lambda p, mode: Path(p).name != "locked" and real_access(p, mode)
    )

    def no_fit(self, X, *args, **kwargs):
        raise AssertionError("fitted before checking the output paths")

    monkeypatch.setattr(INRImputer, "fit_transform", no_fit)
    monkeypatch.chdir(path)
    before = sorted(path.rglob("*"))
    assert main(["complete", "img.png", *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("inrr-sklearn: error: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert message in captured.err
    assert sorted(path.rglob("*")) == before  # nothing written


@pytest.mark.parametrize(
    ("suffix", "shape"), [("png", (12, 10)), ("tif", (12, 10, 3)), ("png", (9, 8, 3))]
)
def test_16_bit_input_gives_16_bit_output_with_observed_pixels_exact(
    tmp_path, capsys, suffix, shape
):
    if suffix == "png" and len(shape) == 3:
        pytest.importorskip("cv2")  # Pillow reads 16-bit colour PNGs as 8-bit
    rng = np.random.default_rng(0)
    image = rng.integers(0, 65536, shape, dtype=np.uint16)
    if len(shape) == 3 and suffix == "png":
        write_image(tmp_path / "img.png", image / 65535, dtype=np.uint16)
    else:
        io.imsave(tmp_path / f"img.{suffix}", image, check_contrast=False)
    observed = rng.random(shape[:2]) > 0.3
    io.imsave(tmp_path / "mask.png", observed.astype(np.uint8) * 255)
    out = tmp_path / f"out.{suffix}"
    rc = main(
        ["complete", str(tmp_path / f"img.{suffix}"), "--mask",
         str(tmp_path / "mask.png"), "-o", str(out), "--max-iter", "3", "--quiet"]
    )  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert "(16-bit)" in capsys.readouterr().out
    result = io.imread(out) if suffix == "tif" or len(shape) == 2 else _cv2_rgb(out)
    assert result.dtype == np.uint16
    assert result.shape == image.shape
    assert np.array_equal(result[observed], image[observed])


def _cv2_rgb(path):
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]


def test_16_bit_input_to_jpeg_is_written_8_bit_with_a_warning(tmp_path, capsys):
    image = np.random.default_rng(0).integers(0, 65536, (8, 8), dtype=np.uint16)
    io.imsave(tmp_path / "img.png", image, check_contrast=False)
    rc = main(
        ["complete", str(tmp_path / "img.png"), "-o", str(tmp_path / "o.jpg"),
         "--method", "inr", "--max-iter", "2", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    assert "JPG holds 8" in capsys.readouterr().err
    assert io.imread(tmp_path / "o.jpg").dtype == np.uint8


@pytest.mark.parametrize("method", ["inr", "blend", "refined", "biharmonic"])
@pytest.mark.parametrize("shape", [(5, 5, 3), (2, 2)])
def test_tiny_images_complete_and_score(tmp_path, capsys, shape, method):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    io.imsave(tmp_path / "tiny.png", image, check_contrast=False)
    out = tmp_path / "out.png"
    rc = main(
        ["complete", str(tmp_path / "tiny.png"), "-o", str(out), "--method", method,
         "--random-state", "1", "--max-iter", "3", "--quiet",
         "--figure", str(tmp_path / "fig.png")]
    )  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert io.imread(out).shape == shape
    assert (tmp_path / "fig.png").exists()
    if min(shape[:2]) >= 3:
        assert "SSIM n/a" not in printed and "SSIM " in printed
    else:
        assert "SSIM n/a (a side under 3 pixels)" in printed


def _without(monkeypatch, package):
    """Make ``import package`` (and its submodules) raise ImportError."""
    for name in [*sys.modules, package]:
        if name == package or name.startswith(f"{package}."):
            monkeypatch.setitem(sys.modules, name, None)


def test_missing_scikit_image_gives_an_install_hint(files, capsys, monkeypatch):
    path, _, _ = files
    _without(monkeypatch, "skimage")
    assert main(["complete", str(path / "img.png"), "-o", str(path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "inrr-sklearn: error: inrr-sklearn complete needs scikit-image: "
        'pip install "inrr_sklearn[demo]"\n'
    )
    assert main(["demo", "--output", str(path / "demo.png")]) == 2
    assert 'needs scikit-image and matplotlib: pip install "inrr_sklearn[demo]"' in (
        capsys.readouterr().err
    )
    assert not (path / "o.png").exists()


def test_missing_matplotlib_refuses_figure_before_fitting(files, capsys, monkeypatch):
    path, _, _ = files
    _without(monkeypatch, "matplotlib")
    rc = main(
        ["complete", str(path / "img.png"), "-o", str(path / "o.png"),
         "--figure", str(path / "f.png")]
    )  # fmt: skip
    assert rc == 2
    assert "--figure needs matplotlib: pip install" in capsys.readouterr().err
    assert not (path / "o.png").exists()


def test_float_tiff_keeps_values_above_one(tmp_path):
    rng = np.random.default_rng(0)
    image = (3 * rng.random((16, 16))).astype(np.float32)
    mask = (rng.random((16, 16)) > 0.3).astype(np.uint8) * 255
    io.imsave(tmp_path / "f.tif", image, check_contrast=False)
    io.imsave(tmp_path / "mask.png", mask, check_contrast=False)
    args = ["complete", str(tmp_path / "f.tif"), "--mask", str(tmp_path / "mask.png")]
    assert main([*args, "-o", str(tmp_path / "out.tif"), "--method", "ns"]) == 0
    result = io.imread(tmp_path / "out.tif")
    observed = mask > 0
    assert result.dtype == np.float32 and result.max() > 1
    assert np.array_equal(result[observed], image[observed])
    # An 8- or 16-bit format cannot hold them: refused before fitting, one line.
    assert main([*args, "-o", str(tmp_path / "out.png"), "--method", "ns"]) == 2
    assert not (tmp_path / "out.png").exists()


def test_sixteen_bit_grey_with_a_zero_one_mask_keeps_every_observed_sample(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 65536, size=(16, 16)).astype(np.uint16)
    observed = rng.random((16, 16)) > 0.3
    io.imsave(tmp_path / "g.png", image, check_contrast=False)
    io.imsave(tmp_path / "m.png", observed.astype(np.uint8), check_contrast=False)
    rc = main(
        ["complete", str(tmp_path / "g.png"), "--mask", str(tmp_path / "m.png"),
         "-o", str(tmp_path / "o.png"), "--max-iter", "5", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    result = io.imread(tmp_path / "o.png")
    assert result.dtype == np.uint16
    assert np.array_equal(result[observed], image[observed])
