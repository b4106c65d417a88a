"""Claims checked: the atlas covers the stated product of architectures; every computed row of a small
atlas is proved complete by Macaulay2 over QQ and every point certified, matching the independent
instance and Bertini 2 where it runs; the table, JSON, CSV and figure are written; an interrupted atlas
resumes row by row (finished rows are read back, not recomputed); a row past its budget makes its
larger relatives "not attempted" with the reason; published rows are matched."""
from __future__ import annotations

import json
import os

import pytest

from theory import macaulay2
from theory.atlas import Architecture, AtlasConfig, AtlasRow, architectures, published, skip_reason

needs_m2 = pytest.mark.skipif(not macaulay2.available(), reason="Macaulay2 (M2) is not installed")

SMALL = AtlasConfig(max_hidden=1, max_width=1, max_io=2, activations=(), seed=0, bertini_max_paths=30)


def test_the_product_has_every_depth_width_and_dimension_once_in_order_of_size():
    cfg = AtlasConfig()
    archs = architectures(cfg)
    linear = [a for a in archs if a.family == "deep linear"]
    # H = 1, 2, 3 hidden layers of widths 1..3, inputs and outputs 1..3: 27 + 81 + 243
    assert len(linear) == 27 + 81 + 243 == len({a.key for a in linear})
    poly = [a for a in archs if a.family == "polynomial"]
    assert len(poly) == 3 * 2 * 3 * 1 * 3  # activations × inputs × widths × outputs × N
    sizes = [a.n_weights * a.points for a in archs]
    assert sizes == sorted(sizes)
    assert Architecture((2, 2, 2, 2)).n_weights == 12 and Architecture((1, 3, 3, 1)).n_weights == 15


def test_keys_are_folder_names():
    for a in architectures(AtlasConfig(max_hidden=1, max_width=2, max_io=1)):
        assert "/" not in a.key and " " not in a.key and not a.key.startswith((".", "_"))


def _row(widths, status="computed", proved=False, seconds=0.0, reason=""):
    a = Architecture(widths)
    return AtlasRow(a, status, a.n_weights, count=1, proved=proved, seconds=seconds, reason=reason)


def test_a_row_past_its_budget_skips_its_larger_relatives_with_the_reason():
    cfg = AtlasConfig(row_seconds=10)
    slow = _row((1, 2, 2, 1), proved=False, seconds=12.0)
    assert "ran past the per-row budget" in skip_reason(Architecture((1, 3, 2, 1)), [slow], cfg)
    assert skip_reason(Architecture((1, 3, 2, 2)), [slow], cfg) is not None
    # not a relative: other depth, or a smaller width somewhere
    assert skip_reason(Architecture((1, 2, 2)), [slow], cfg) is None
    assert skip_reason(Architecture((1, 1, 3, 1)), [slow], cfg) is None
    # a proved row, or an unproved one within budget, skips nothing
    assert skip_reason(Architecture((1, 3, 2, 1)), [_row((1, 2, 2, 1), proved=True, seconds=12.0)], cfg) is None
    assert skip_reason(Architecture((1, 3, 2, 1)), [_row((1, 2, 2, 1), seconds=3.0)], cfg) is None


def test_published_rows_name_their_source():
    assert published(Architecture((2, 2, 2))).count == 33
    assert "arXiv:1810.07716" in published(Architecture((2, 2, 2, 2))).source
    assert published(Architecture((1, 1, 1))) is None


@needs_m2
def test_a_small_atlas_is_proved_certified_written_and_resumes_row_by_row(tmp_path):
    from landscape_toolkit.atlas_runner import run_atlas

    atlas = run_atlas(SMALL, str(tmp_path), "atlas")
    rows = {r.architecture.key: r for r in atlas.rows}
    # one hidden unit, one data point: 4·n_y + 1 critical points for every n_0 (complete, by Macaulay2)
    for key, want in [("linear_1-1-1_N1", 5), ("linear_2-1-1_N1", 5), ("linear_1-1-2_N1", 9), ("linear_2-1-2_N1", 9)]:
        r = rows[key]
        assert r.status == "computed" and r.count == want and r.proof == "exact over QQ" and r.proved
        assert r.certified == want and r.independent_count == want
        assert r.peak_rss_mb is not None and r.peak_rss_mb < 8 * 1024
    folder = tmp_path / "atlas"
    for name in ("atlas.md", "atlas.json", "atlas.csv", "atlas.png", "config.json", "manifest.json"):
        assert (folder / name).stat().st_size > 0
    assert json.loads((folder / "atlas.json").read_text())["counts"]["exact_over_QQ"] == 4
    assert (folder / "atlas.csv").read_text().count("\n") == 1 + 4
    # n_0-independence is found as a conjecture, resting on the rows
    held = [c for c in atlas.conjectures if c.holds and c.variable == "n_0"]
    assert {c.statement for c in held} == {"count = 5 for every n_0", "count = 9 for every n_0"}

    # resume: drop one row's folder; the next run recomputes only that row
    kept = folder / "rows" / "linear_1-1-1_N1" / "result.json"
    stamp = kept.stat().st_mtime_ns
    gone = folder / "rows" / "linear_2-1-2_N1"
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    again = run_atlas(SMALL, str(tmp_path), "atlas", figure=False)
    assert kept.stat().st_mtime_ns == stamp
    assert (gone / "result.json").exists()
    assert [r.count for r in again.rows] == [r.count for r in atlas.rows]


@needs_m2
def test_the_command_prints_the_table_and_refuses_other_options_in_the_same_folder(tmp_path):
    import subprocess
    import sys

    base = [sys.executable, "cli.py", "atlas", "--max-hidden", "1", "--max-width", "1", "--max-io", "1",
            "--activations", "none", "--out", str(tmp_path), "--run", "a", "--no-progress"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(base, capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| fc 1-1-1, z | 2 | 1 | 5 |" in done.stdout and "exact over QQ" in done.stdout
    other = subprocess.run(base + ["--seed", "1"], capture_output=True, text=True, cwd=root, timeout=120)
    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1


@needs_m2
def test_the_grid_target_returns_one_row_as_json():
    from landscape_toolkit.grid_targets import TARGETS, atlas_row

    assert TARGETS["atlas-row"].path.endswith(":atlas_row")
    row = atlas_row([1, 1, 1], "z", 1, {"seed": 2, "bertini_max_paths": 0})
    json.dumps(row)
    assert row["count"] == 5 and row["proof"] == "exact over QQ" and row["seed"] == 2


def test_an_unproved_count_is_printed_as_a_lower_bound():
    """A count that is not proved complete is never presented as the answer: the table writes it '≥ n'."""
    from dataclasses import replace

    from landscape_toolkit.atlas_runner import markdown_table

    row = replace(_row((2, 2, 1)), count=290, proof="not proved", reason="Macaulay2 did not finish")
    done = replace(_row((2, 2, 2)), count=33, proved=True, proof="exact over QQ")
    lines = markdown_table([row, done]).splitlines()
    assert "| ≥ 290 |" in lines[2] and "| 33 |" in lines[3] and "≥ 33" not in lines[3]
