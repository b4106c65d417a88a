"""Claims about `landscape_core.executor`: grids run on every backend, resume without redoing finished
tasks, and record failures and lost workers per task without stopping the others."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from landscape_core.errors import CheckpointError, ToolkitError
from landscape_core.executor import (DONE, FAILED, LOST, RESULT_FILE, STATUS_FILE, BackendError, ExecutorConfig,
                             GridSpecError, Task, grid_tasks, read_grid, run_grid, run_task, submit,
                             submitit_parameters)

SMOKE = "landscape_toolkit.grid_targets:bezout_figures"


def _smoke_expected(width: int) -> dict:
    """Independent values for the two-layer fc network (2, width, 1) with bias, P = z + z²/4, N = 4 points.

    K = 2w + w (hidden weights and biases) + w + 1 (output); the degree of each zero-error
    equation with P on the output is ℓ + ℓ² = 6 (Theory II §3.2, completed in the README), and the
    Bezout number of the N = 4 equations is 6^4 (K ≥ N here).
    """
    k = 2 * width + width + width + 1
    return {"n_params": k, "degree": 6, "bezout": 6**4}


def die(code: int) -> None:
    """A task that kills its own worker process, as an out-of-memory kill or a node failure would."""
    os._exit(code)


def touch_and_return(path: str, value: int) -> int:
    """A task that appends a line to `path` each time it runs (to count runs across processes)."""
    with open(path, "a") as fh:
        fh.write(f"{value}\n")
    return value


# ----------------------------------------------------------------------------------------------
# grid_tasks and Task


def test_grid_tasks_is_the_cartesian_product_with_stable_keys():
    tasks = grid_tasks(SMOKE, {"seed": [0, 1], "width": [2, 3, 4]}, {"layers": 2})
    assert [t.key for t in tasks] == ["seed=0,width=2", "seed=0,width=3", "seed=0,width=4",
                                      "seed=1,width=2", "seed=1,width=3", "seed=1,width=4"]
    assert tasks[4].kwargs == {"layers": 2, "seed": 1, "width": 3}
    assert grid_tasks(SMOKE, {"seed": [0, 1], "width": [2, 3, 4]}, {"layers": 2}) == tasks


@pytest.mark.parametrize("axes, fixed", [
    ({}, {}),                                  # no axis
    ({"seed": []}, {}),                        # an empty axis
    ({"seed": [0, 0]}, {}),                    # a repeated value would repeat a key
    ({"seed": [0]}, {"seed": 1}),              # an axis that is also fixed
    ({"not a name": [0]}, {}),                 # not an argument name
    ({"seed": [[0, 1]]}, {}),                  # a list is no key value
])
def test_grid_tasks_refuses_grids_without_distinct_keys(axes, fixed):
    with pytest.raises(GridSpecError):
        grid_tasks(SMOKE, axes, fixed)


def test_task_refuses_non_json_arguments_and_unsafe_keys():
    with pytest.raises(GridSpecError):
        Task(SMOKE, {"x": object()}, "a")
    for key in ("../escape", ".hidden", "_submitit", ""):
        with pytest.raises(GridSpecError):
            Task(SMOKE, {}, key)
    assert Task(SMOKE, {"widths": (2, 4)}, "a").kwargs == {"widths": [2, 4]}  # normalised through JSON


def test_submit_checks_every_task_signature_before_running_any(tmp_path):
    tasks = grid_tasks(SMOKE, {"seed": [0]}, {"width": 2, "colour": "red"})
    with pytest.raises(GridSpecError, match="colour"):
        submit(tasks, tmp_path, "g")
    missing = grid_tasks(SMOKE, {"seed": [0]})  # width is required
    with pytest.raises(GridSpecError, match="width"):
        submit(missing, tmp_path, "g")
    with pytest.raises(GridSpecError, match="cannot import"):
        submit(grid_tasks("landscape_toolkit.grid_targets:nothing", {"seed": [0]}), tmp_path, "g")
    assert not list((tmp_path / "g").glob("seed=*/status"))


# ----------------------------------------------------------------------------------------------
# Backends


def test_two_by_three_smoke_grid_through_submitit_local_writes_six_correct_results(tmp_path):
    """Claim: a 2 × 3 grid of Bezout tasks runs through submitit's local executor and writes six correct results."""
    tasks = grid_tasks(SMOKE, {"seed": [0, 1], "width": [2, 3, 4]})
    result = run_grid(tasks, tmp_path, "smoke", "submitit-local", ExecutorConfig(workers=2, timeout_min=5))
    assert (result.done, result.failed, result.lost, result.skipped) == (6, 0, 0, 0)
    folders = sorted(p.name for p in (tmp_path / "smoke").iterdir() if (p / RESULT_FILE).exists())
    assert folders == sorted(t.key for t in tasks)
    for task in tasks:
        doc = json.loads((tmp_path / "smoke" / task.key / RESULT_FILE).read_text())
        assert (tmp_path / "smoke" / task.key / STATUS_FILE).read_text().strip() == DONE
        expected = _smoke_expected(task.kwargs["width"])
        assert {k: doc["result"][k] for k in expected} == expected
        assert doc["result"]["seed"] == task.kwargs["seed"] and doc["wall_time"] > 0
    saved = json.loads((tmp_path / "smoke" / "results.json").read_text())
    assert [r["key"] for r in saved["records"]] == [t.key for t in tasks]


def test_local_pool_gives_the_same_results_as_submitit_local(tmp_path):
    tasks = grid_tasks(SMOKE, {"seed": [0, 3], "width": [2, 3]})
    a = run_grid(tasks, tmp_path, "pool", "local", ExecutorConfig(workers=2))
    b = run_grid(tasks, tmp_path, "submitit", "submitit-local", ExecutorConfig(workers=2, timeout_min=5))
    assert a.done == b.done == 4
    assert [(r.key, r.result) for r in a.records] == [(r.key, r.result) for r in b.records]


def test_slurm_options_reach_the_sbatch_file(tmp_path, monkeypatch):
    """Partition, time, GPUs, cores, memory and array parallelism end up as #SBATCH lines."""
    from submitit.slurm import slurm

    from landscape_core.executor import _submitit_executor

    local = submitit_parameters("submitit-local", ExecutorConfig(partition="gpu"))
    assert "slurm_partition" not in local and local["gpus_per_node"] == 0
    # SlurmExecutor refuses to start where srun is missing; pretend it is there, submit nothing
    monkeypatch.setattr(slurm.SlurmExecutor, "affinity", staticmethod(lambda: 1))
    options = ExecutorConfig(workers=8, timeout_min=30, partition="gpu", gpus=1, cpus_per_task=4, mem_gb=16)
    executor = _submitit_executor("slurm", tmp_path, options)
    params = executor._executor.parameters
    text = slurm._make_sbatch_string(command="true", folder=str(tmp_path), map_count=20, **params)
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=30", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --mem=16GB", "#SBATCH --array=0-19%8"):
        assert line in text, line


def test_slurm_backend_without_a_cluster_is_one_toolkit_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no srun, whatever the machine has
    with pytest.raises(BackendError, match="slurm"):
        submit(grid_tasks(SMOKE, {"seed": [0]}, {"width": 2}), tmp_path, "g", "slurm")


# ----------------------------------------------------------------------------------------------
# Resume, failures and lost workers


def _prewrite_done(grid_dir: Path, task: Task, marker: str) -> None:
    folder = grid_dir / task.key
    folder.mkdir(parents=True)
    (folder / RESULT_FILE).write_text(json.dumps({"key": task.key, "wall_time": 0.0, "result": {"marker": marker}}))
    (folder / STATUS_FILE).write_text(DONE + "\n")


def test_rerun_skips_finished_tasks_and_redoes_interrupted_ones(tmp_path):
    """A killed grid resumes: 3 tasks finished before (marked), 1 interrupted mid-run (status running)."""
    tasks = grid_tasks(SMOKE, {"seed": [0, 1], "width": [2, 3, 4]})
    grid_dir = tmp_path / "g"
    for task in tasks[:3]:
        _prewrite_done(grid_dir, task, marker="finished earlier")
    interrupted = grid_dir / tasks[3].key
    interrupted.mkdir()
    (interrupted / STATUS_FILE).write_text("running\n")
    mtimes = {t.key: (grid_dir / t.key / RESULT_FILE).stat().st_mtime_ns for t in tasks[:3]}

    result = run_grid(tasks, tmp_path, "g", "submitit-local", ExecutorConfig(workers=2, timeout_min=5))
    assert (result.done, result.skipped, result.failed, result.lost) == (6, 3, 0, 0)
    for task in tasks[:3]:  # never re-run: the marker survives and the file was not rewritten
        assert result.record(task.key).result == {"marker": "finished earlier"}
        assert result.record(task.key).skipped
        assert (grid_dir / task.key / RESULT_FILE).stat().st_mtime_ns == mtimes[task.key]
    for task in tasks[3:]:
        assert result.record(task.key).result["n_params"] == _smoke_expected(task.kwargs["width"])["n_params"]


def test_run_task_counts_one_run_across_repeated_grids(tmp_path):
    log = tmp_path / "runs.log"
    tasks = grid_tasks("tests.test_executor:touch_and_return", {"value": [1, 2, 3]}, {"path": str(log)})
    first = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=2))
    second = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=2))
    assert first.done == second.done == 3 and second.skipped == 3
    assert sorted(log.read_text().split()) == ["1", "2", "3"]  # each task ran exactly once


def test_a_raising_task_is_recorded_failed_in_one_line_and_the_others_finish(tmp_path):
    # width 0 is refused by NetworkSpec (InvalidSpecError) inside the worker
    tasks = grid_tasks(SMOKE, {"seed": [0], "width": [2, 0, 3]})
    result = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=2))
    bad = result.record("seed=0,width=0")
    assert (result.done, result.failed, result.lost) == (2, 1, 0)
    assert bad.status == FAILED and bad.error.startswith("InvalidSpecError: widths must be positive")
    assert "\n" not in bad.error and bad.wall_time is not None
    assert "Traceback" in (tmp_path / "g" / bad.key / "traceback.txt").read_text()
    # a re-run retries the failed task only (it fails again: the argument is still wrong)
    again = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=2))
    assert (again.skipped, again.failed) == (2, 1)


def test_a_killed_worker_loses_only_its_task_and_the_next_run_redoes_it(tmp_path):
    tasks = [Task("tests.test_executor:die", {"code": 3}, "dies")] + list(
        grid_tasks(SMOKE, {"seed": [0], "width": [2, 3, 4]}))
    # one worker, the dying task first: the pool breaks before any other task has started
    result = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=1))
    assert result.record("dies").status == LOST and "BrokenProcessPool" in result.record("dies").error
    assert (result.done, result.lost) == (3, 1)
    again = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=1))
    assert (again.skipped, again.lost) == (3, 1)  # only the lost task ran again


def test_a_folder_holding_another_task_is_refused(tmp_path):
    run_grid(grid_tasks(SMOKE, {"seed": [0]}, {"width": 2}), tmp_path, "g", "local", ExecutorConfig(workers=1))
    with pytest.raises(CheckpointError):
        submit(grid_tasks(SMOKE, {"seed": [0]}, {"width": 3}), tmp_path, "g")


def test_read_grid_rebuilds_the_table_from_the_folders(tmp_path):
    tasks = grid_tasks(SMOKE, {"seed": [0]}, {"width": 2})
    ran = run_grid(tasks, tmp_path, "g", "local", ExecutorConfig(workers=1))
    read = read_grid(tmp_path, "g")
    assert [(r.key, r.status, r.result) for r in read.records] == [(r.key, r.status, r.result) for r in ran.records]
    with pytest.raises(ToolkitError):
        read_grid(tmp_path, "missing")


def test_run_task_in_process_records_done_then_skips(tmp_path):
    task = Task(SMOKE, {"width": 2, "seed": 0}, "one")
    assert run_task(task, str(tmp_path)) == DONE
    before = (tmp_path / "one" / RESULT_FILE).stat().st_mtime_ns
    assert run_task(task, str(tmp_path)) == DONE
    assert (tmp_path / "one" / RESULT_FILE).stat().st_mtime_ns == before


@pytest.mark.slow
def test_two_by_three_grid_of_smoke_experiments_through_submitit_local_resumes_without_redoing(tmp_path):
    """Claim (issue 12): experiment × seed, 2 × 3, at smoke scale, runs through submitit's local executor;
    every task writes the experiment's report, and a re-run redoes nothing."""
    tasks = grid_tasks("landscape_toolkit.grid_targets:experiment_run",
                       {"name": ["iib-langevin", "ii-basins"], "seed": [0, 1, 2]}, {"scale": "smoke", "device": "cpu"})
    first = run_grid(tasks, tmp_path, "experiments", "submitit-local", ExecutorConfig(workers=2, timeout_min=20))
    assert first.done == 6, [r.error for r in first.records if r.error]
    for task in tasks:
        report = tmp_path / "experiments" / task.key / "run" / "report.md"
        assert report.is_file() and task.kwargs["name"] in report.read_text()
        assert first.record(task.key).result["name"] == task.kwargs["name"]
    again = run_grid(tasks, tmp_path, "experiments", "submitit-local", ExecutorConfig(workers=2, timeout_min=20))
    assert all(r.skipped for r in again.records)
