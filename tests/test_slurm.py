"""Claims about `grid --executor slurm` on a real Slurm cluster (`scripts/slurm-local.sh start` makes one).

A job array runs every task and gathers the same results as the local pool; a task that raises is
recorded failed with its one-line error; a task whose job is cancelled (`scancel`) or killed for
its memory is recorded lost with Slurm's reason, and the re-run redoes that task only; a controller
that cannot be reached and a job Slurm rejects are one line with exit code 2; and nothing of
submitit's sacct polling reaches the user on a cluster without accounting. Skipped, with the
reason, where no cluster answers `sinfo`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from landscape_core.executor import (DONE, LOST, ExecutorConfig, Task, gather, grid_tasks, run_grid,
                                               slurm_states, submit)

ROOT = Path(__file__).resolve().parent.parent
BEZOUT = "landscape_toolkit.grid_targets:bezout_figures"


def _cluster_state() -> str | None:
    """Return the state of the first node sinfo lists (idle, mixed, ...), or None without a cluster."""
    if shutil.which("sinfo") is None:
        return None
    try:
        out = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    state = out.stdout.split()[0] if out.returncode == 0 and out.stdout.split() else None
    unusable = ("down", "drain", "fail", "unknown", "not_responding", "power", "future", "inval")
    return state if state and not state.rstrip("*~#$@").startswith(unusable) else None


pytestmark = pytest.mark.skipif(_cluster_state() is None,
                                reason="no Slurm cluster answers sinfo with a usable node "
                                       "(as root: bash scripts/slurm-local.sh start)")
FAST = ExecutorConfig(timeout_min=5, poll_s=0.3)


def hold_until_released(task_dir: str, release: str) -> str:
    """A task that records its Slurm job id, then waits (up to 2 minutes) until the file `release` exists."""
    array = os.environ.get("SLURM_ARRAY_JOB_ID")
    job = f"{array}_{os.environ['SLURM_ARRAY_TASK_ID']}" if array else os.environ["SLURM_JOB_ID"]
    Path(task_dir, "slurm_job").write_text(job)
    deadline = time.time() + 120
    while not Path(release).exists() and time.time() < deadline:
        time.sleep(0.1)
    return job


def hold_memory(megabytes: int, seconds: float) -> int:
    """A task that keeps `megabytes` of touched memory for `seconds` (a worker over its memory limit)."""
    block = bytearray(megabytes * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(seconds)
    return len(block)


def grid_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "grid", *args, "--no-progress"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


def test_a_job_array_runs_every_task_reports_the_raising_one_and_matches_the_local_pool(tmp_path):
    """Claim: on Slurm, width × seed Bezout tasks all finish with the local pool's results, width 0 fails
    with its one-line error, and stderr stays empty (no sacct warning on a cluster without accounting)."""
    common = ["bezout", "--axis", "width=2,3,0", "--axis", "seed=0,1", "--set", "points=3", "--out", str(tmp_path),
              "--json"]
    slurm = grid_cli(*common, "--executor", "slurm", "--run", "on-slurm")
    assert slurm.returncode == 1, slurm.stderr  # 1: a task failed
    assert slurm.stderr == ""
    doc = json.loads(slurm.stdout)
    assert (doc["backend"], doc["done"], doc["failed"], doc["lost"]) == ("slurm", 4, 2, 0)
    for rec in doc["records"]:
        if rec["kwargs"]["width"] == 0:
            assert rec["status"] == "failed" and rec["error"].startswith("InvalidSpecError: widths must be positive")
    local = json.loads(grid_cli(*common, "--executor", "local", "--run", "on-pool").stdout)
    assert [(r["key"], r["status"], r["result"], r["error"]) for r in doc["records"]] == \
        [(r["key"], r["status"], r["result"], r["error"]) for r in local["records"]]
    # K = 4w + 1 for the (2, w, 1) network, N = 3 equations of degree 6 (as tests/test_cli_grid.py)
    assert {r["key"]: r["result"]["n_params"] for r in doc["records"] if r["status"] == DONE} == \
        {"width=2,seed=0": 9, "width=2,seed=1": 9, "width=3,seed=0": 13, "width=3,seed=1": 13}
    assert list((tmp_path / "on-slurm" / "_submitit").glob("*_log.out"))  # the jobs ran through sbatch


def test_a_cancelled_task_is_lost_and_the_rerun_redoes_only_it(tmp_path):
    """Claim: `scancel` of one running array task loses that task alone (with Slurm's state as the reason);
    the re-run skips the finished tasks and completes it."""
    release = tmp_path / "release"
    tasks = [Task("tests.test_slurm:hold_until_released", {"release": str(release)}, "held")] + \
        list(grid_tasks(BEZOUT, {"seed": [0, 1]}, {"width": 2, "points": 3}))
    sub = submit(tasks, tmp_path, "g", "slurm", FAST)
    marker = tmp_path / "g" / "held" / "slurm_job"
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    job = marker.read_text()
    assert slurm_states([job]).get(job) == "RUNNING"
    subprocess.run(["scancel", job], check=True, timeout=30)
    first = gather(sub)
    held = first.record("held")
    assert (first.done, first.lost) == (2, 1) and held.status == LOST
    assert held.error.startswith(f"Slurm job {job} ended CANCELLED before its task finished"), held.error
    release.touch()
    again = run_grid(tasks, tmp_path, "g", "slurm", FAST)
    assert (again.done, again.skipped, again.lost) == (3, 2, 0)
    assert again.record("held").result not in (None, job)  # it ran again, in another job
    assert not again.record("held").skipped and all(again.record(t.key).skipped for t in tasks[1:])


def test_a_task_over_its_memory_limit_is_lost_with_slurms_reason(tmp_path):
    """Claim: a worker that exceeds --slurm-mem is killed by Slurm and its task reported lost in one line
    naming the memory limit; the task beside it finishes."""
    tasks = [Task("tests.test_slurm:hold_memory", {"megabytes": 400, "seconds": 6}, "greedy"),
             Task(BEZOUT, {"width": 2, "seed": 0, "points": 3}, "modest")]
    result = run_grid(tasks, tmp_path, "g", "slurm", ExecutorConfig(timeout_min=5, poll_s=0.3, mem_gb=0.2))
    greedy = result.record("greedy")
    assert result.record("modest").status == DONE
    assert greedy.status == LOST and "memory" in greedy.error.lower() and "\n" not in greedy.error, greedy.error


def test_an_unreachable_controller_is_one_line_and_exit_2(tmp_path):
    """Claim: with no controller listening, `grid --executor slurm` prints one error line (sbatch's reason), exit 2."""
    conf = Path("/etc/slurm/slurm.conf").read_text().splitlines()
    bad = [ln for ln in conf if not ln.startswith(("SlurmctldPort", "MessageTimeout"))]
    (tmp_path / "slurm.conf").write_text("\n".join(bad + ["SlurmctldPort=6999", "MessageTimeout=2"]) + "\n")
    env = dict(os.environ, SLURM_CONF=str(tmp_path / "slurm.conf"))
    res = grid_cli("bezout", "--axis", "width=2,3", "--set", "seed=0", "--executor", "slurm", "--run", "g",
                   "--out", str(tmp_path), env=env)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "Unable to contact slurm controller" in res.stderr and "Traceback" not in res.stderr


def test_a_job_slurm_rejects_is_one_line_and_exit_2(tmp_path):
    """Claim: a partition the cluster lacks and memory no node has are refused by sbatch: one line each, exit 2."""
    for flags, reason in ((["--slurm-partition", "no-such-partition"], "Invalid partition name"),
                          (["--slurm-mem", "100000"], "Requested node configuration is not available")):
        res = grid_cli("bezout", "--axis", "width=2,3", "--set", "seed=0", "--executor", "slurm", "--run", "g",
                       "--out", str(tmp_path), *flags)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert reason in res.stderr, res.stderr
