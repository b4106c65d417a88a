"""The README's tour runs as written (benchmarks/tour.py reads it from README.md): every step exits 0 and prints
what the README says it shows. The default run calls each line's `cli.main` in this process, shrinks the two
training-sized steps (fewer images, fewer directions) and leaves the experiment and grid steps, the report that joins them, the small atlas and the SVW system (whose
numbers tests/test_solve.py checks) to the slow run, which takes every line verbatim at its default sizes
(`pytest -m slow tests/test_readme_tour.py`; a few minutes). benchmarks/tour.py prints each step's time."""
import pytest

from benchmarks.tour import prepare, run_step, tour_commands

# What each step prints when it did its work (checked against its standard output).
EXPECT = {
    "bezout": "exact 84 (certified)",
    "approx": "ℓ(ε=0.01)",
    "solve examples/cyclic5.phc": "complete: 70 regular solutions",
    "solve examples/systems/svw.phc": "dimension 2: degree 2; dimension 1: degree 6",
    "critical": "33",
    "dimension": "degree (witness points)  : 17 (complete",
    "atlas": "published rows : 1 of 1 matched",
    "experiment --list": "ii-basins",
    "experiment ii-basins": "report: runs/ii-basins-smoke-seed0/report.md",
    "train": "train error",
    "probe radius": "radius (mean ± std)",
    "grid": "2 tasks: 2 done",
    "report": "report: report.html",
}
# Steps that need the experiment runs (minutes at smoke scale), the SVW system (tests/test_solve.py checks
# its numbers) and the small atlas (tests/test_atlas.py runs a smaller one): run verbatim in the slow test only.
SLOW = ("experiment ii-basins", "grid", "report", "solve examples/systems/svw.phc", "atlas")
# Laptop sizes shrunk further for the default run (the later flag wins).
SMALLER = {"train": ["--train-examples", "300", "--test-examples", "100"],
           "probe radius": ["--examples", "100", "--directions", "2"]}


def _key(argv):
    line = " ".join(argv)
    return max((k for k in EXPECT if line.startswith(k)), key=len)


def test_the_readme_tour_is_found_and_every_step_is_checked():
    steps = tour_commands()
    assert len(steps) == len(EXPECT) == 13
    assert [_key(s) for s in steps] == list(EXPECT)


def _in_process(argv, capsys):
    """Run `cli.main(argv)` here (the default run: no interpreter start per step) and return its step record."""
    import cli

    code = cli.main(list(argv))
    out = capsys.readouterr()
    return {"command": " ".join(argv), "code": code, "stdout": out.out, "stderr": out.err}


def _run(tmp_path, small: bool, capsys=None, monkeypatch=None):
    folder = prepare(tmp_path)
    if small:
        monkeypatch.chdir(folder)
    for argv in tour_commands():
        key = _key(argv)
        if small and key.startswith(SLOW):
            continue
        argv = argv + (SMALLER.get(key, []) if small else [])
        step = _in_process(argv, capsys) if small else run_step(argv, folder)
        assert step["code"] == 0, (step["command"], step["stderr"][-2000:])
        assert EXPECT[key] in step["stdout"], (step["command"], step["stdout"][-2000:])
        assert "Traceback" not in step["stderr"]


def test_the_readme_tour_runs_at_small_size(tmp_path, capsys, monkeypatch):
    """Claim: the README's tour steps run as written (training and probing on fewer images) and print their results."""
    _run(tmp_path, small=True, capsys=capsys, monkeypatch=monkeypatch)


@pytest.mark.slow
def test_the_readme_tour_runs_verbatim(tmp_path):
    """Claim: every line of the README's tour runs verbatim, each in a fresh interpreter as a user types it, at its
    default sizes, and prints its result."""
    _run(tmp_path, small=False)
