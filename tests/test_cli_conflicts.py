"""A flag the command would ignore, or two that contradict each other, is one line on stderr with exit code 2
naming the flags, before any work; so is a device this machine lacks. A command that fails leaves nothing that
refuses its corrected retry, and `-o` never replaces a run folder's own files (`commands._parser`,
`common.runs.discard_on_failure`, `common.runs.check_output_file`)."""
import json
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent


def run_cli(argv, capsys):
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


# (argv, words the one-line error must contain)
CONFLICTS = [
    (["solve", str(ROOT / "examples/cyclic5.phc"), "--width", "3"], ["--width", "solve FILE"]),
    (["solve", str(ROOT / "examples/cyclic5.phc"), "--monodromy"], ["--monodromy"]),
    (["solve", str(ROOT / "examples/cyclic5.phc"), "--points", "4"], ["--points"]),
    (["solve", "--variables", "x,y"], ["--variables", "FILE"]),
    (["solve", "--paths"], ["--paths", "--json"]),
    (["solve", "--output", "sols.json"], ["--output", "--export-solutions"]),
    (["solve", "--max-seconds", "5"], ["--max-seconds", "--monodromy"]),
    (["solve", "--monodromy", "--start", "total-degree", "--targets", "planted"], ["--start", "--monodromy"]),
    (["bezout", "--arch", "tree", "--width", "5"], ["--width", "--arch fc"]),
    (["bezout", "--units", "3"], ["--units", "--arch tree"]),
    (["bezout", "--activation", "z^2", "--degree", "6"], ["--activation", "--degree"]),
    (["bezout", "--activation", "z^2", "--approx", "minimax"], ["--activation", "--approx"]),
    (["dimension", "--data", "points.csv", "--targets", "planted"], ["--data", "--targets"]),
    (["bezout", "--data", "points.csv", "--points", "3"], ["--data", "--points"]),
    (["bezout", "--system", "critical"], ["--system", "--export"]),
    (["bezout", "--max-paths", "10"], ["--max-paths", "--verify"]),
    (["experiment", "iib-langevin", "--dataset", "cifar10"], ["iib-langevin", "--dataset"]),
    (["experiment", "--list", "--scale", "cpu"], ["--scale"]),
    (["experiment", "iib-langevin", "--device", "tpu"], ["device", "tpu"]),
    (["train", "--device", "tpu"], ["device", "tpu"]),
    (["train", "--sgdl-noise", "0.01"], ["--sgdl-noise", "sgdl"]),
    (["train", "--rmsprop-alpha", "0.9"], ["--rmsprop-alpha", "rmsprop"]),
    (["train", "--points", "100"], ["--points", "regression"]),
    (["train", "--optimizer", "gd", "--batch-size", "10"], ["--batch-size"]),
    (["train", "--degree", "4"], ["--degree", "polynomial network"]),
    (["train", "--download"], ["--download", "cifar10"]),
    (["train", "--unperturbed", "2"], ["--unperturbed", "--perturb"]),
    (["paths", "--relu", "--layer-widths", "2,3,2"], ["--layer-widths", "--relu"]),
    (["valleys", "--no-experiment", "--restarts", "3"], ["--restarts", "--no-experiment"]),
    (["compare", "--lr", "0.1"], ["--lr", "gd"]),
    (["probe", "perturb", "--demo", "--epoch", "3"], ["--epoch", "--demo"]),
    (["grid", "bezout", "--axis", "width=2", "--set", "seed=0", "--run", "g", "--slurm-time", "5"],
     ["--slurm-time", "--executor"]),
    (["grid", "bezout", "--axis", "nonsense=1,2", "--set", "seed=0", "--run", "g"], ["nonsense", "width, seed"]),
    (["grid", "bezout", "--axis", "width=a,2", "--set", "seed=0", "--run", "g"], ["width='a'", "int"]),
    (["approx", "--degre", "4"], ["--degre"]),  # abbreviations are never taken for another flag
]


@pytest.mark.parametrize("argv,words", CONFLICTS, ids=lambda a: " ".join(a) if isinstance(a, list) and a and
                         isinstance(a[0], str) and not a[0].startswith("-") else None)
def test_ignored_or_contradictory_flags_are_one_line_errors(argv, words, capsys, tmp_path, monkeypatch):
    """Claim: each command line above is refused with exit 2 and one line naming the conflict; nothing is written."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not list(tmp_path.iterdir())  # refused before any work: no run folder, no file


def test_cuda_on_a_machine_without_it_is_refused_before_work(capsys, tmp_path, monkeypatch):
    """Claim: --device cuda where CUDA is absent is one line naming the device, before any run folder exists."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.chdir(tmp_path)
    for argv in (["train", "--device", "cuda", "--run", "r"], ["probe", "hessian", "--demo", "--device", "cuda:0"],
                 ["experiment", "iib-langevin", "--device", "cuda"]):
        code, _, err = run_cli(argv, capsys)
        assert code == 2 and "cuda" in err and "not available" in err, err
    assert not (tmp_path / "runs").exists()


def test_a_failed_command_leaves_nothing_that_refuses_its_correction(capsys, tmp_path):
    """Claim: `paths` with impossible widths fails, and the corrected command then runs under the same run name
    (before, the failed run's config.json refused it)."""
    code, _, err = run_cli(["paths", "--layer-widths", "3,2,2", "--out", tmp_path, "--run", "p", "--grid", "11"],
                           capsys)
    assert code == 2, err
    assert not (tmp_path / "p").exists()
    code, out, err = run_cli(["paths", "--layer-widths", "3,4,2", "--out", tmp_path, "--run", "p", "--grid", "11"],
                             capsys)
    assert code == 0, err
    assert (tmp_path / "p" / "result.json").is_file()


def test_a_probe_of_a_missing_epoch_leaves_nothing_behind(capsys, tmp_path):
    """Claim: `probe perturb --epoch 99` fails, and the same probe of an existing epoch then runs in that folder."""
    code, _, err = run_cli(["train", "--dataset", "digits", "--model", "mlp", "--widths", "8", "--epochs", "1",
                            "--out", tmp_path, "--run", "t", "--no-progress"], capsys)
    assert code == 0, err
    probe = ["probe", "perturb", "--from", tmp_path / "t", "--alphas", "0.1", "--draws", "1", "--out", tmp_path,
             "--run", "pp", "--no-progress"]
    code, _, err = run_cli(probe + ["--epoch", "99"], capsys)
    assert code == 2 and "99" in err, err
    assert not (tmp_path / "pp").exists()
    code, _, err = run_cli(probe + ["--epoch", "1"], capsys)
    assert code == 0, err


def test_interrupted_training_hints_resume_only_with_a_checkpoint(capsys, tmp_path, monkeypatch):
    """Claim: Ctrl-C before the first checkpoint removes the folder and says to start again (no --resume hint);
    Ctrl-C after it keeps the folder and prints the --resume command, which then continues the run."""
    import empirics.train as T

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    base = ["train", "--dataset", "digits", "--model", "mlp", "--widths", "8", "--epochs", "2", "--out", tmp_path,
            "--no-progress"]
    monkeypatch.setattr(T, "load_dataset", interrupted)
    code, _, err = run_cli(base + ["--run", "early"], capsys)
    assert code == 130 and "--resume" not in err and "again" in err, err
    assert not (tmp_path / "early").exists()
    monkeypatch.undo()
    monkeypatch.setattr(T, "_run_epochs", interrupted)
    code, _, err = run_cli(base + ["--run", "late"], capsys)
    assert code == 130 and "--resume" in err and (tmp_path / "late" / "checkpoint.pt").is_file(), err
    monkeypatch.undo()
    code, _, err = run_cli(["train", "--run", "late", "--out", tmp_path, "--resume", "--no-progress"], capsys)
    assert code == 0, err


def test_output_never_replaces_a_run_folders_own_files(capsys, tmp_path):
    """Claim: `bezout --export phc -o RUN/config.json` is refused and config.json is unchanged; a new file beside
    the run's files is written."""
    code, _, err = run_cli(["approx", "--degree", "2", "--out", tmp_path, "--run", "a"], capsys)
    assert code == 0, err
    config = (tmp_path / "a" / "config.json").read_text()
    for target in ("config.json", "result.json", "manifest.json"):
        code, _, err = run_cli(["bezout", "--layers", "2", "--points", "2", "--export", "phc", "-o",
                                tmp_path / "a" / target], capsys)
        assert code == 2 and "run folder" in err, err
    assert (tmp_path / "a" / "config.json").read_text() == config
    code, _, err = run_cli(["report", "--from", tmp_path / "a", "-o", tmp_path / "a" / "result.html"], capsys)
    assert code == 0, err  # a new file may sit beside the run's files
    code, _, err = run_cli(["approx", "--plot", tmp_path / "a" / "manifest.json"], capsys)
    assert code == 2 and "run folder" in err, err
    assert json.loads((tmp_path / "a" / "config.json").read_text())["degree"] == [2]


def test_a_run_killed_before_any_work_does_not_refuse_the_next_command(capsys, tmp_path):
    """Claim: a folder holding only what a killed run wrote first (config.json, manifest.json, .lock: SIGKILL and
    SIGTERM run no handler) is cleared by the next command, whatever its options; a folder with a result is not."""
    killed = tmp_path / "p"
    killed.mkdir()
    (killed / "config.json").write_text(json.dumps({"command": "paths", "widths": [9, 9, 9]}))
    (killed / "manifest.json").write_text("{}")
    (killed / ".lock").write_text("process 1")
    code, _, err = run_cli(["paths", "--layer-widths", "3,4,2", "--grid", "11", "--out", tmp_path, "--run", "p",
                            "--no-progress"], capsys)
    assert code == 0, err
    assert json.loads((killed / "config.json").read_text())["widths"] == [3, 4, 2]
    code, _, err = run_cli(["paths", "--layer-widths", "2,3,2", "--grid", "11", "--out", tmp_path, "--run", "p",
                            "--no-progress"], capsys)
    assert code == 2 and "another configuration" in err  # a finished run is kept and protected
