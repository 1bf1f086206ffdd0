"""The package's layers: each module imports only from its own layer or those below.

Layers, bottom up: helpers (no torch training, no estimators), training, regularizers,
estimators, recipes, then the front ends (command line, demo, plotting, the package
root). An estimator module never imports a recipe or the package root.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "inrr_sklearn"
LAYERS = [
    {
        "_version", "_utils", "exceptions", "_validation", "_scaling", "nn",
        "model_selection", "masks", "image",
    },
    {"training"},
    {"regularizers"},
    {"_base", "_torch_base", "_inr", "_dmf", "_softimpute", "_blend", "_inpaint"},
    {"recipes"},
    {"cli", "demo", "plotting", "__init__"},
]  # fmt: skip


def _layer(name):
    top = name.split(".")[0]
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield ".".join(parts), path


def _imports(path):
    """Every ``inrr_sklearn.<module>`` a file imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("inrr_sklearn."):
                found.add(node.module.removeprefix("inrr_sklearn."))
            elif node.module == "inrr_sklearn":
                found.add("__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("inrr_sklearn."):
                    found.add(alias.name.removeprefix("inrr_sklearn."))
    return found


def test_every_module_has_a_layer():
    for name, _ in _modules():
        _layer(name)  # raises StopIteration for a module in no layer


@pytest.mark.parametrize(("name", "path"), list(_modules()), ids=lambda v: str(v))
def test_imports_point_down(name, path):
    own = _layer(name)
    upward = {dep for dep in _imports(path) if _layer(dep) > own}
    assert not upward, f"{name} (layer {own}) imports from above: {sorted(upward)}"
