"""Every command meets bad input with one line on stderr and exit code 2: no traceback, no hang, no file
replaced or left half-written (the CLI's error boundary, `cli.main`)."""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent


def run_cli(argv, capsys):
    """Return (exit code, stdout, stderr) of `cli.main(argv)` run in this process."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, err):
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_ARGS = [
    ["bezout", "--seed", "-1"],
    ["solve", "--seed", "-1"],
    ["compare", "--seed", "-1"],
    ["paths", "--seed", "-1"],
    ["dss", "--seed", "-1"],
    ["bezout", "--activation", "1/0"],
    ["bezout", "--activation", "z^1000000"],
    ["bezout", "--layers", "0"],
    ["approx", "--radius", "1e308"],
    ["approx", "--radius", "nan"],
    ["solve", "--width", "100", "--points", "301"],
    ["train", "--run", "../../escape", "--epochs", "0"],
    ["experiment", "no-such-experiment"],
]


@pytest.mark.parametrize("argv", BAD_ARGS, ids=lambda a: " ".join(a))
def test_bad_arguments_are_one_line_errors(argv, capsys, tmp_path, monkeypatch):
    """Claim: each bad argument above gives exactly one line on stderr and exit code 2."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err)


@pytest.mark.parametrize("content", [b"\x00\xff\xfe binary", "x \u2212 1;\n".encode(), b"x - 1.5e+400;\n",
                                     b"x^2 + ;\n", b""], ids=["binary", "unicode-minus", "overflow", "syntax", "empty"])
def test_bad_system_files_are_one_line_errors(content, capsys, tmp_path):
    """Claim: undecodable, non-ASCII, overflowing, unparsable or empty system files never reach PHCpack's parser."""
    f = write_bytes(tmp_path / "sys.phc", content)
    code, _, err = run_cli(["solve", f], capsys)
    assert_one_line_error(code, err)


@pytest.mark.parametrize("content", [b"\x00\xff\xfe", b"1,2,3\n1/0,2,3\n", b"{\"X\": [[1]]"],
                         ids=["binary", "zero-denominator", "truncated-json"])
def test_bad_data_files_are_one_line_errors(content, capsys, tmp_path):
    """Claim: a bad --data file is one line naming the problem, for bezout and solve alike."""
    f = write_bytes(tmp_path / ("d.json" if content.startswith(b"{") else "d.csv"), content)
    for cmd in ("bezout", "dimension"):
        code, _, err = run_cli([cmd, "--data", f], capsys)
        assert_one_line_error(code, err)


def test_writes_never_replace_special_files_or_directories(capsys, tmp_path):
    """Claim: --output to a directory, a FIFO or a missing folder is refused and leaves the target as it was."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (tmp_path, fifo, tmp_path / "missing" / "x.phc"):
        code, _, err = run_cli(["bezout", "--layers", "2", "--points", "2", "--export", "phc", "--output", target],
                               capsys)
        assert_one_line_error(code, err)
    assert fifo.is_fifo() and not (tmp_path / "missing").exists()


def test_a_full_disk_leaves_no_partial_file(capsys, tmp_path, monkeypatch):
    """Claim: when the disk fills mid-write, the old file stays whole and no temporary file is left."""
    target = tmp_path / "sys.phc"
    target.write_text("old\n")

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = run_cli(["bezout", "--layers", "2", "--points", "2", "--export", "phc", "--output", target], capsys)
    assert_one_line_error(code, err)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sys.phc"]


def test_json_with_export_to_stdout_is_valid_json(capsys):
    """Claim: `bezout --json --export phc` without --output prints one valid JSON document."""
    import json

    code, out, err = run_cli(["bezout", "--layers", "2", "--points", "2", "--json", "--export", "phc"], capsys)
    assert code == 0, err
    json.loads(out)


def test_plot_with_an_unknown_extension_is_refused(capsys, tmp_path):
    """Claim: --plot a.txt is one line (matplotlib cannot write .txt), and no file appears."""
    code, _, err = run_cli(["approx", "--plot", tmp_path / "a.txt"], capsys)
    assert_one_line_error(code, err)
    assert not (tmp_path / "a.txt").exists()


def test_corrupt_run_files_are_one_line_errors(capsys, tmp_path):
    """Claim: a run folder whose config.json or metrics.json is corrupt is named in one line."""
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.json").write_text("{not json")
    (run / "metrics.json").write_text("\x00")
    for argv in (["train", "--run", "r", "--out", tmp_path, "--resume"], ["mds", "--from", run],
                 ["probe", "perturb", "--from", run], ["report", "--from", run]):
        code, _, err = run_cli(argv, capsys)
        assert_one_line_error(code, err)


def test_resume_of_a_missing_run_is_an_error(capsys, tmp_path):
    """Claim: --resume on a misspelt run never trains from scratch."""
    code, _, err = run_cli(["train", "--run", "no-such-run", "--out", tmp_path, "--resume"], capsys)
    assert_one_line_error(code, err)
    assert not (tmp_path / "no-such-run").exists()


def test_ctrl_c_inside_phcpack_is_one_line():
    """Claim: an interrupt while PHCpack tracks paths ends the command with one line, not a hang."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "cli.py", "solve", "--activation", "z + z^2/4 + z^3/8", "--input-dim", "2",
                             "--width", "2", "--no-output-activation", "--points", "9", "--start", "total-degree",
                             "--max-paths", "300000", "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the command ignored Ctrl-C inside PHCpack")
    assert proc.returncode in (2, 130), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_reader_that_closes_the_pipe_ends_the_command_quietly():
    """Claim: `cli.py … | head -1` stops like a Unix tool: no error line, no traceback, exit 0 or 141 (SIGPIPE)."""
    proc = subprocess.Popen([sys.executable, "cli.py", "bezout", "--layers", "3", "--degree", "4", "--points", "8"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) in (0, 141)
    assert err == ""


def test_the_console_script_names_itself_in_its_errors():
    """Claim: the installed `landscape-toolkit` reports errors under its own name, in one line with exit code 2."""
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'landscape-toolkit'; "
                           "from landscape_toolkit.cli import main; sys.exit(main(['bezout', '--points', '0']))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("landscape-toolkit bezout: error:") and len(proc.stderr.strip().splitlines()) == 1
