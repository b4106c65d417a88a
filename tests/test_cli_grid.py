"""Claims about `cli.py grid`: a grid end to end, resumed on a second run, and one-line errors (exit 2)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "grid", *args, "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT)


def test_grid_runs_every_task_locally_and_a_second_run_skips_them(tmp_path):
    args = ["bezout", "--axis", "seed=0,1", "--axis", "width=2,3", "--set", "points=3", "--executor", "local",
            "--workers", "2", "--run", "g", "--out", str(tmp_path), "--json"]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert (doc["done"], doc["failed"], doc["skipped"]) == (4, 0, 0)
    by_key = {r["key"]: r for r in doc["records"]}
    # K = 4w + 1 for the (2, w, 1) network; N = 3 equations of degree 6 give 6^3
    assert by_key["seed=1,width=3"]["result"]["n_params"] == 13
    assert by_key["seed=1,width=3"]["result"]["bezout"] == 6**3
    assert sorted(p.name for p in (tmp_path / "g").glob("seed=*")) == sorted(by_key)
    second = cli(*args)
    assert second.returncode == 0 and json.loads(second.stdout)["skipped"] == 4


def test_grid_table_reports_a_failed_task_and_exits_1(tmp_path):
    res = cli("bezout", "--axis", "width=0,2", "--set", "seed=0", "--run", "g", "--out", str(tmp_path), "--workers", "1")
    assert res.returncode == 1
    assert "failed" in res.stdout and "InvalidSpecError" in res.stdout and "1 done" in res.stdout


def test_bad_axis_spec_is_one_line_and_exit_2(tmp_path):
    for bad in (["--axis", "seed"], ["--axis", "seed="], ["--axis", "2x=1"]):
        res = cli("bezout", *bad, "--run", "g", "--out", str(tmp_path))
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, (bad, res.stderr)
        assert "--axis" in res.stderr


def test_unknown_target_argument_and_repeated_axis_are_one_line_and_exit_2(tmp_path):
    for args in (["--axis", "seed=0", "--set", "width=2", "--set", "colour=red"],
                 ["--axis", "seed=0", "--axis", "seed=1", "--set", "width=2"]):
        res = cli("bezout", *args, "--run", "g", "--out", str(tmp_path))
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not list((tmp_path / "g").glob("seed=*/status"))  # refused before anything ran
