"""The package's layers, as a tested invariant.

skmix is built in layers; imports point down only (``../DESIGN.md``)::

    estimators and public modules   gaussian, coin, nig, composite, ...
    _base                            BaseMixture (the scikit-learn face)
    _engine                          the EM loop, multi-start, threads
    families                         one stateless family per distribution
    _kernels                         numba kernels (arrays in, arrays out)
    _config, datasets                neutral: constants, embedded data

``ALLOWED`` says which layers a layer may import; every other edge is a
breach. Across modules, no private name (``_name``) is imported, and across
layers no private module (``skmix.families._base``, ``skmix._kernels._math``)
is: a layer's public face is what its package and its public modules export.
The test walks the source with ``ast`` (nothing is imported), so it also
sees imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skmix"

#: Layer of each top-level module or subpackage of skmix; a name missing here
#: is an estimator-level (public) module.
LAYERS = {
    "_config": "neutral",
    "datasets": "neutral",
    "_kernels": "kernels",
    "families": "families",
    "_engine": "engine",
    "_base": "base",
    "_validation": "base",
    "_summary": "base",
    "_dask": "base",
    "_warnings": "base",
}
ESTIMATORS = "estimators"

#: Which layers each layer may import (its own always included).
ALLOWED = {
    "neutral": {"neutral"},
    "kernels": {"neutral", "kernels"},
    "families": {"neutral", "kernels", "families"},
    "engine": {"neutral", "kernels", "families", "engine"},
    "base": {"neutral", "families", "engine", "base"},
    ESTIMATORS: {"neutral", "families", "base", ESTIMATORS},
}

#: Package roots whose leading underscore marks the layer, not a private
#: module: crossing into them is the point of a layer below.
LAYER_ROOTS = {"_config", "_kernels", "_engine", "_base", "_validation"}


def layer_of(module: str) -> str:
    """Layer of a dotted module name inside skmix (``skmix.families.gaussian``)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS.get(top, ESTIMATORS)


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(importer: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute module name of a (possibly relative) import in ``importer``."""
    if level == 0:
        return target or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(path: Path, source: str | None = None):
    """``(line, imported module, imported name or None)`` of every skmix import
    in the module at ``path`` (whose text is ``source`` if given)."""
    importer = module_name(path)
    is_package = path.name == "__init__.py"
    source = path.read_text() if source is None else source
    tree = ast.parse(source, filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "skmix":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            module = resolve(importer, is_package, node.level, node.module)
            if module.split(".")[0] != "skmix":
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if (PACKAGE.parent / submodule.replace(".", "/")).with_suffix(
                    ".py"
                ).exists() or (PACKAGE.parent / submodule.replace(".", "/")).is_dir():
                    # ``from pkg import module``: the module is what is imported.
                    yield node.lineno, submodule, None
                else:
                    yield node.lineno, module, alias.name


def private_parts(module: str) -> list[str]:
    """Components of a module path that mark it private (the layer roots, the
    top-level modules named in ``LAYER_ROOTS``, excepted)."""
    parts = module.split(".")[1:]
    return [
        part
        for depth, part in enumerate(parts)
        if part.startswith("_")
        and not part.startswith("__")
        and not (depth == 0 and part in LAYER_ROOTS)
    ]


def breaches_of(path: Path, source: str | None = None) -> list[str]:
    importer = module_name(path)
    layer = layer_of(importer)
    found = []
    for line, module, name in imports_of(path, source):
        where = f"{importer}:{line} imports {module}" + (f".{name}" if name else "")
        target_layer = layer_of(module)
        if target_layer not in ALLOWED[layer]:
            found.append(f"{where}: layer {layer!r} may not import {target_layer!r}")
            continue
        if name and name.startswith("_") and not name.startswith("__"):
            found.append(f"{where}: a private name of another module")
        if target_layer != layer and private_parts(module):
            found.append(f"{where}: a private module of another layer")
    return found


def all_breaches() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found.extend(breaches_of(path))
    return found


def test_imports_respect_layers():
    breaches = all_breaches()
    assert not breaches, "Layer breaches:\n" + "\n".join(breaches)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from .._engine import fit_multistart\n", "may not import 'engine'"),
        ("from .gaussian import _symmetrise_upper\n", "a private name"),
        ("from .._kernels._math import LABELS\n", "a private module"),
        ("from ..gaussian import GaussianMixtureEM\n", "may not import 'estimators'"),
        ("def f():\n    from .. import _engine\n", "may not import 'engine'"),
    ],
)
def test_the_layer_test_sees_a_breach(source, expected):
    """Each kind of breach, written into a family module, is reported."""
    found = breaches_of(PACKAGE / "families" / "layer_probe.py", source)
    assert any(expected in breach for breach in found), found
