"""Claims about the layering: `theory/` is pure mathematics and never loads torch (STYLE point 2)."""
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import theory

ROOT = Path(__file__).resolve().parent.parent


def _theory_modules() -> list[str]:
    return sorted(f"theory.{m.name}" for m in pkgutil.iter_modules(theory.__path__))


def test_the_theory_package_has_modules_to_check():
    """Discovery finds the modules by name, so the import test below cannot pass on an empty list."""
    names = _theory_modules()
    assert {"theory.networks", "theory.systems", "theory.bezout"} <= set(names)


def test_importing_every_theory_module_never_loads_torch():
    """In a fresh interpreter, importing all of `theory` leaves torch out of sys.modules."""
    names = _theory_modules()
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps({'torch': 'torch' in sys.modules,\n"
            "                  'loaded': sorted(n for n in sys.modules if n.startswith('theory.'))}))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(names) <= set(result["loaded"])
    assert result["torch"] is False
