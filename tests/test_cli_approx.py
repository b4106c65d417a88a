"""Claims about `cli.py approx`: ℓ(ε) per scheme and the figure."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_approx_reports_minimal_degrees_and_saves_figure(tmp_path):
    png = tmp_path / "approx.png"
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "approx", "--epsilon", "0.05", "--json",
                          "--degree", "2,4", "--plot", str(png)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["degree_for_epsilon"]["minimax"] == 4  # errors 1/16 at ℓ=2 and 0.0338 at ℓ=4
    assert png.stat().st_size > 10_000


def test_approx_rejects_nonpositive_epsilon():
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "approx", "--epsilon", "-1"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1


def _approx(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "approx", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_approx_table_is_exact_at_high_degree():
    """The tabulated Chebyshev errors at ℓ = 48, 64, 128 are the independent 0.0061, 0.0046, 0.0023 (they
    were 1.08e+01, 1.07e+07 and 2.4e+30 from the monomial form), and every scheme's error keeps falling."""
    res = _approx("--degree", "24,48,64,128", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    cheb = doc["sup_error"]["chebyshev"]
    assert [round(e, 4) for e in cheb[1:]] == [0.0061, 0.0046, 0.0023]
    for errors in doc["sup_error"].values():
        assert all(a > b for a, b in zip(errors, errors[1:])) and errors[-1] < 0.003


@pytest.mark.slow
def test_approx_epsilon_1e3_finds_each_degree():
    """ε = 10⁻³ is reached by every scheme below the default --max-degree: ℓ = 298, 318, 142."""
    res = _approx("--epsilon", "1e-3", "--degree", "2", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["degree_for_epsilon"] == {"chebyshev": 298, "legendre": 318, "minimax": 142}
    assert all(e <= 1e-3 for e in doc["error_at_that_degree"].values())


def test_approx_unreached_epsilon_is_one_line_naming_max_degree():
    res = _approx("--epsilon", "1e-3", "--max-degree", "60")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "not reached below --max-degree 60" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("args", [["--radius", "1e308"], ["--plot", "a.txt"], ["--plot", "noext"],
                                  ["--degree", "3"], ["--degree", "402"], ["--max-degree", "1000"]])
def test_approx_bad_input_is_one_line_exit_2_and_writes_nothing(args, tmp_path):
    res = _approx(*args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_cap_agrees_with_the_library():
    from landscape_toolkit.commands.approx import MAX_DEGREE as CLI_MAX
    from theory.network.activations import MAX_DEGREE

    assert CLI_MAX == MAX_DEGREE


def test_out_saves_the_result_with_its_options_and_refuses_other_options_before_work(tmp_path):
    """Claim: `approx --out ROOT --run NAME` writes result.json, config.json and manifest.json; other options into the same
    folder are refused in one line without overwriting it."""
    import json
    import subprocess
    import sys

    out = tmp_path / "apx"
    first = subprocess.run([sys.executable, "cli.py", "approx", "--degree", "2,4", "--out", str(tmp_path), "--run", "apx"],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert {p.name for p in out.iterdir()} >= {"result.json", "config.json", "manifest.json"}
    saved = json.loads((out / "result.json").read_text())
    assert saved["degrees"] == [2, 4] and set(saved["sup_error"]) == {"chebyshev", "legendre", "minimax"}
    other = subprocess.run([sys.executable, "cli.py", "approx", "--degree", "2,8", "--out", str(tmp_path), "--run", "apx"],
                           capture_output=True, text=True)
    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1
    assert json.loads((out / "result.json").read_text()) == saved
