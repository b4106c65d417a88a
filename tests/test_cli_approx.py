"""Claims about `cli.py approx`: ℓ(ε) per scheme and the figure."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_approx_reports_minimal_degrees_and_saves_figure(tmp_path):
    png = tmp_path / "approx.png"
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "approx", "--epsilon", "0.05", "--json",
                          "--degrees", "2", "4", "--plot", str(png)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["degree_for_epsilon"]["minimax"] == 4  # errors 1/16 at ℓ=2 and 0.0338 at ℓ=4
    assert png.stat().st_size > 10_000


def test_approx_rejects_nonpositive_epsilon():
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "approx", "--epsilon", "-1"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
