"""`cli.py report`: one self-contained HTML page, rendered in headless Chromium and checked by eye-like tests."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from empirics.experiments import Claim, ExperimentReport, Finding
from empirics.run_report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MAGENTA = (1.0, 0.0, 1.0)


def _figure(path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.fill_between([0, 1], [0, 0], [1, 1], color=MAGENTA)  # a colour nothing else on the page uses
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _runs(tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    _figure(exp / "mds.png")
    rep = ExperimentReport(
        name="demo", title="Demo experiment", reference="Theory II §4.2", scale="smoke", seed=0,
        protocol=("train",), deviations=("tiny",),
        claims=(Claim("flat", "Theory II", "§4.2", "the minima are degenerate"),
                Claim("basin", "Theory II", "§5", "one basin")),
        findings=(Finding("flat", "held", "null-space radius 3.2 vs random 0.4"),
                  Finding("basin", "not held", "a wall of height 0.3 between the two minima")),
        measured={"predictions": [["K − rank J", "1,234", "1,230"]], "radius": 3.2},
        figures=(("mds.png", "MDS of the trajectories"),), seconds=1.0)
    (exp / "report.json").write_text(json.dumps(rep.to_dict()))
    train = tmp_path / "train"
    train.mkdir()
    (train / "config.json").write_text(json.dumps({"dataset": "fashion-mnist", "model": "paper-cnn", "epochs": 2}))
    (train / "metrics.json").write_text(json.dumps({"status": "finished", "epochs": [
        {"epoch": 0, "train_loss": [2.3], "train_error": [0.9]}, {"epoch": 2, "train_loss": [0.1], "train_error": [0.02]}]}))
    return [exp, train]


def test_report_joins_claims_predictions_and_embeds_figures(tmp_path):
    """Claim: the page holds every claim with its verdict, the prediction rows, and each figure as a data URI."""
    rep = build_report(_runs(tmp_path))
    assert [c[4] for c in rep.claims] == ["held", "not held"]
    assert "the minima are degenerate" in rep.html and "K − rank J" in rep.html
    assert rep.html.count("data:image/png;base64,") == 1
    assert "src='http" not in rep.html and "href='http" not in rep.html  # self-contained
    assert "final train error" in rep.html


def test_cli_report_bad_runs_are_one_line_errors(tmp_path):
    """Claim: a missing run folder or a non-HTML output is one line on stderr with exit 2."""
    for args in (["report", "--from", str(tmp_path / "missing")],
                 ["report", "--from", str(tmp_path), "-o", str(tmp_path / "r.txt")]):
        out = subprocess.run([sys.executable, "cli.py", *args], capture_output=True, text=True)
        assert out.returncode == 2, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (setup.sh installs it)")
def test_report_renders_in_headless_chromium_with_its_content(tmp_path):
    """Claim: Chromium renders the page: the DOM has the claims and verdicts, and the screenshot shows the
    verdict badges' colours and the embedded figure's pixels."""
    from matplotlib.image import imread

    page = tmp_path / "report.html"
    froms = [arg for run in _runs(tmp_path) for arg in ("--from", str(run))]
    out = subprocess.run([sys.executable, "cli.py", "report", *froms, "-o", str(page)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "Demo experiment" in dom and "the minima are degenerate" in dom and "not held" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    img = imread(shot)[..., :3]
    assert img.std() > 0.05  # not a blank page

    def share(rgb, tol=0.08):
        return float(np.all(np.abs(img - np.array(rgb)) < tol, axis=-1).mean())

    assert share((0x1a / 255, 0x7f / 255, 0x37 / 255)) > 1e-5   # the green 'held' badge
    assert share((0xcf / 255, 0x22 / 255, 0x2e / 255)) > 1e-5   # the red 'not held' badge
    assert share(MAGENTA) > 1e-3                                 # the embedded figure
