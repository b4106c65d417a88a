"""Claims about the layering (STYLE point 2): each layer imports only the layers below it.

Bottom to top, one layer per package: `landscape_core` (errors, records, seeds, runs, no
mathematics) → `theory` (pure mathematics, never torch) → `empirics` (PyTorch) →
`empirics.experiments` (the papers' experiments) → `landscape_toolkit` (the command line: `cli`,
`commands`, `grid_targets`, `atlas_runner`). The static check reads every import statement in every
file, function-local ones included, so a lazy import cannot hide an upward dependency; the dynamic
check imports every module in a fresh interpreter.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("landscape_core", "theory", "empirics", "landscape_toolkit")

# (package, layer); the longest matching prefix decides.
LAYERS = {
    "landscape_core": 0,
    "theory": 1,
    "empirics": 2,
    "empirics.experiments": 3,
    "landscape_toolkit": 4,
}


def _layer(module: str) -> int | None:
    """Return the layer of `module` (a dotted name), or None for third-party modules."""
    best = None
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else LAYERS[best]


def _modules() -> dict[str, Path]:
    """Return every module of the project's packages by dotted name."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Return (imported module, line) for every import statement in the file, at any depth."""
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((base, node.lineno))
            # `from pkg import submodule` imports the submodule too
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_discovery_finds_every_layer():
    """The module list covers every layer, so the checks below cannot pass on an empty list."""
    layers = {_layer(m) for m in _modules()}
    assert layers == {0, 1, 2, 3, 4}


def test_every_layer_is_a_whole_package():
    """Layers are drawn by package: every entry of LAYERS is a package folder, so no package is split across two layers."""
    assert all((ROOT / prefix.replace(".", "/") / "__init__.py").is_file() for prefix in LAYERS)
    assert set(PACKAGES) <= set(LAYERS)


def test_no_module_imports_a_higher_layer():
    """Every import, function-local ones included, points to the same layer or a lower one."""
    modules = _modules()
    upward = []
    for module, path in modules.items():
        own = _layer(module)
        for target, line in _imports(module, path):
            layer = _layer(target)
            if layer is not None and target.split(".")[0] in PACKAGES and layer > own:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not upward, "\n".join(upward)


def test_theory_never_imports_torch_even_lazily():
    """`theory/` is pure mathematics: no import of torch anywhere in its files."""
    offenders = [f"{path.relative_to(ROOT)}:{line}" for module, path in _modules().items() if _layer(module) == 1
                 for target, line in _imports(module, path) if target.split(".")[0] == "torch"]
    assert not offenders


@pytest.mark.parametrize("bottom", ["landscape_core", "theory"])
def test_importing_a_lower_layer_in_a_fresh_interpreter_loads_nothing_above_it(bottom):
    """Importing every module of a layer (and what it needs) never loads torch or a higher layer."""
    names = sorted(m for m in _modules() if m == bottom or m.startswith(bottom + "."))
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(names) <= set(loaded)
    assert "torch" not in loaded
    own = _layer(bottom)
    # The packages enclosing a loaded module of this layer or below (theory for theory.homotopy.solve)
    # load with it by Python's rules; they must import nothing of the project.
    low = [x for x in loaded if x.split(".")[0] in PACKAGES and (_layer(x) or 0) <= own]
    enclosing = [m for m in loaded if any(x.startswith(m + ".") for x in low)]
    modules = _modules()
    assert not [t for m in enclosing for t, _ in _imports(m, modules[m]) if t.split(".")[0] in PACKAGES]
    above = [m for m in loaded if m.split(".")[0] in PACKAGES and (_layer(m) or 0) > own and m not in enclosing]
    assert not above


def test_every_module_imports_in_a_fresh_interpreter():
    """All modules of all layers import together (no import circle, no missing name)."""
    names = sorted(_modules())
    code = ("import importlib\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
