"""The atlas as a resumable grid: rows run through the executor seam, then the table, JSON, CSV and figure.

`run_atlas` runs `theory.atlas.atlas_row` for every architecture of `theory.atlas.architectures`
through `common.executor.run_grid` (local pool, submitit, or Slurm), each row in its own folder
`<run>/rows/<key>/`, so an interrupted atlas resumes row by row. Rows go in waves of equal size
(K·N), smallest first: after each wave, the architectures above a row that ran past its budget
are marked "not attempted" with that reason (`theory.atlas.skip_reason`) instead of being run.
At the end the run folder holds atlas.json (every row, the conjectures, totals), atlas.csv,
atlas.md (the table), atlas-summary.md (one cell for all n_0) and atlas.png (counts against
weights), beside config.json and manifest.json.
"""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Sequence

from landscape_toolkit.common.executor import ExecutorOptions, Task, run_grid
from landscape_toolkit.common.progress import Progress, report
from landscape_toolkit.common.records import atomic_write_text
from landscape_toolkit.common.runs import open_run
from theory.atlas import (Architecture, Atlas, AtlasConfig, AtlasRow, Published, architectures, skip_reason, tally)
from theory.atlas_patterns import conjectures

ROW_TARGET = "landscape_toolkit.grid_targets:atlas_row"
ROWS_GRID = "rows"


def row_from_dict(d: dict) -> AtlasRow:
    """Return the AtlasRow whose `to_dict` is `d` (as a grid task's result.json holds it)."""
    d = dict(d)
    arch = d.pop("architecture")
    pub = d.pop("published", None)
    return AtlasRow(Architecture(tuple(arch["widths"]), arch["activation"], arch["points"]),
                    published=None if pub is None else Published(**pub), **d)


def _task(arch: Architecture, cfg: AtlasConfig) -> Task:
    return Task(ROW_TARGET, {"widths": list(arch.widths), "activation": arch.activation, "points": arch.points,
                             "config": cfg.to_dict()}, arch.key)


def _failed(arch: Architecture, cfg: AtlasConfig, error: str | None) -> AtlasRow:
    return AtlasRow(arch, "failed", arch.n_weights, seed=cfg.seed, reason=error or "the task did not finish")


def run_rows(cfg: AtlasConfig, folder: Path, backend: str = "local", options: ExecutorOptions | None = None,
             only: Sequence[str] = (), progress: Progress | None = None) -> list[AtlasRow]:
    """Return one AtlasRow per architecture (in `architectures` order), running the unfinished rows in waves."""
    archs = [a for a in architectures(cfg) if not only or any(s in a.key for s in only)]
    rows: dict[str, AtlasRow] = {}
    waves: dict[int, list[Architecture]] = {}
    for a in archs:
        waves.setdefault(a.n_weights * a.points, []).append(a)
    done = 0
    for size in sorted(waves):
        todo = []
        for a in waves[size]:
            why = skip_reason(a, list(rows.values()), cfg)
            if why is not None:
                rows[a.key] = AtlasRow(a, "not attempted", a.n_weights, seed=cfg.seed, reason=why)
                done += 1
            else:
                todo.append(a)
        if todo:
            result = run_grid([_task(a, cfg) for a in todo], folder, ROWS_GRID, backend, options)
            for a in todo:
                rec = result.record(a.key)
                rows[a.key] = row_from_dict(rec.result) if rec.status == "done" else _failed(a, cfg, rec.error)
        done += len(todo)
        report(progress, done, len(archs))
    return [rows[a.key] for a in archs]


def markdown_table(rows: Sequence[AtlasRow]) -> str:
    """Return the atlas as a markdown table (one line per row)."""
    head = ("| network | K | N | count | real | proof | certified (double + Arb) | independent instance | "
            "Bertini 2 | published | time s | memory MiB | note |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        a = r.architecture
        if r.status != "computed":
            lines.append(f"| fc {'-'.join(map(str, a.widths))}, {a.activation} | {r.n_weights} | {a.points} | — | — | "
                         f"{r.status} | — | — | — | {_pub(r)} | — | — | {r.reason} |")
            continue
        cert = "—" if r.certified is None else f"{r.certified} ({r.certified_double} + {r.certified_arb})"
        indep = "—" if r.independent_count is None else str(r.independent_count)
        bert = r.bertini_note if r.bertini_count is None else f"{r.bertini_count} ({r.bertini_note})"
        mem = "—" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}"
        count = f"≥ {r.count}" if r.proof == "not proved" else str(r.count)  # an unproved count is a lower bound
        note = "new" if r.new else ("matches" if r.matches_published else
                                    "below the published count (not proved)" if r.proof == "not proved" else "DIFFERS")
        lines.append(f"| fc {'-'.join(map(str, a.widths))}, {a.activation} | {r.n_weights} | {a.points} | {count} | "
                     f"{r.real} | {r.proof} | {cert} | {indep} | {bert} | {_pub(r)} | {r.seconds:.1f} | {mem} | "
                     f"{note}{'' if r.proved or not r.reason else '; ' + r.reason[:160]} |")
    return "\n".join(lines) + "\n"


def _cell(rows: Sequence[AtlasRow]) -> str:
    """Return one summary cell for the rows of one (architecture but n_0): the count if all n_0 agree."""
    if not rows:
        return ""
    done = [r for r in rows if r.status == "computed" and r.count is not None]
    if not done:
        return "not attempted" if all(r.status == "not attempted" for r in rows) else rows[0].status
    counts = sorted({r.count for r in done})
    mark = "" if all(r.proof.startswith("exact over QQ") for r in done) else (
        " (ZZ/p)" if all(r.proof != "not proved" for r in done) else " (lower bound)")
    text = str(counts[0]) if len(counts) == 1 else "/".join(str(r.count) for r in done) + " (by n_0)"
    pub = [r for r in done if r.published is not None]
    if pub:
        settled = [r for r in pub if r.proof != "not proved"]  # an unproved count is a lower bound, not a verdict
        verdict = ("not reached here]" if not settled else "matched]" if all(r.matches_published for r in settled)
                   else "DIFFERS]")
        text += f" [{pub[0].published.count} published, {verdict}"
    missing = len(rows) - len(done)
    return text + mark + (f" ({missing} of {len(rows)} n_0 not done)" if missing else "")


def summary_table(rows: Sequence[AtlasRow]) -> str:
    """Return the atlas condensed: deep linear counts by hidden widths × n_y (one cell for all n_0),
    polynomial counts by activation and widths × N; each cell's worst time in seconds beside it."""
    lines = ["| deep linear, hidden widths | n_y = 1 | n_y = 2 | n_y = 3 | n_0 | slowest row s |", "|---|---|---|---|---|---|"]
    lin = [r for r in rows if r.architecture.family == "deep linear"]
    for hidden in sorted({r.architecture.widths[1:-1] for r in lin}, key=lambda h: (len(h), h)):
        fam = [r for r in lin if r.architecture.widths[1:-1] == hidden]
        cells = [_cell([r for r in fam if r.architecture.widths[-1] == ny]) for ny in (1, 2, 3)]
        n0 = sorted({r.architecture.widths[0] for r in fam})
        slow = max((r.seconds for r in fam if r.status == "computed"), default=0.0)
        lines.append(f"| {', '.join(map(str, hidden))} | {' | '.join(cells)} | {n0[0]}–{n0[-1]} | {slow:.0f} |")
    poly = [r for r in rows if r.architecture.family != "deep linear"]
    if poly:
        lines += ["", "| one hidden layer, P, fc n_0-h-n_y | N = 1 | N = 2 | N = 3 | slowest row s |", "|---|---|---|---|---|"]
        for act, widths in sorted({(r.architecture.activation, r.architecture.widths) for r in poly}):
            fam = [r for r in poly if (r.architecture.activation, r.architecture.widths) == (act, widths)]
            cells = [_cell([r for r in fam if r.architecture.points == n]) for n in (1, 2, 3)]
            slow = max((r.seconds for r in fam if r.status == "computed"), default=0.0)
            lines.append(f"| {act}, {'-'.join(map(str, widths))} | {' | '.join(cells)} | {slow:.0f} |")
    return "\n".join(lines) + "\n"


def _pub(r: AtlasRow) -> str:
    if r.published is None:
        return "—"
    return f"{r.published.count} ({r.published.source}{'' if r.published.checked else ', as cited'})"


CSV_FIELDS = ("key", "widths", "activation", "points", "n_weights", "status", "count", "real", "proof", "proved",
              "certified", "certified_double", "certified_arb", "independent_count", "bertini_count",
              "published_count", "matches_published", "seconds", "peak_rss_mb", "returncode", "reason")


def csv_text(rows: Sequence[AtlasRow]) -> str:
    """Return the atlas as CSV, one line per row (CSV_FIELDS)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_FIELDS)
    for r in rows:
        a = r.architecture
        w.writerow([a.key, "-".join(map(str, a.widths)), a.activation, a.points, r.n_weights, r.status, r.count,
                    r.real, r.proof, r.proved, r.certified, r.certified_double, r.certified_arb, r.independent_count,
                    r.bertini_count, None if r.published is None else r.published.count, r.matches_published,
                    f"{r.seconds:.2f}", None if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}", r.returncode,
                    r.reason])
    return buf.getvalue()


def run_atlas(cfg: AtlasConfig, root: str, name: str, backend: str = "local", options: ExecutorOptions | None = None,
              only: Sequence[str] = (), progress: Progress | None = None, figure: bool = True) -> Atlas:
    """Return the Atlas of `cfg`, computed (or resumed) in the run folder `root/name` and written there.

    Files: config.json, manifest.json, rows/<key>/ (one grid task per row), atlas.json, atlas.csv,
    atlas.md and atlas.png (`theory.atlas_plots.atlas_figure`).
    """
    t0 = time.perf_counter()
    with open_run(root, name, {"atlas": cfg, "only": list(only)}, cfg.seed, extra={"command": "atlas"}) as run:
        rows = run_rows(cfg, run.path, backend, options, only, progress)
        atlas = Atlas(cfg, tuple(rows), conjectures(rows), time.perf_counter() - t0, tally(rows))
        run.write_json("atlas.json", atlas)
        run.write_result(atlas)
        atomic_write_text(run.file("atlas.csv"), csv_text(rows))
        atomic_write_text(run.file("atlas.md"), markdown_table(rows))
        atomic_write_text(run.file("atlas-summary.md"), summary_table(rows))
        if figure:
            from theory.atlas_plots import atlas_figure
            atlas_figure(rows, run.file("atlas.png"))
    return atlas
