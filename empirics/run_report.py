"""One self-contained HTML page joining theory's predictions and training's measurements for run folders.

`build_report(paths)` reads each run folder — an experiment run (`report.json`: claims, verdicts,
measured numbers, figures; see `empirics.experiments`), a training run (`config.json`,
`metrics.json`, `data.json`), a grid (`grid.json` and its task folders), or any folder with
`config.json`/`result.json` and figures — and returns a `RunReport` whose `html` embeds every
figure as a data URI, so the page can be mailed or archived as one file. For runs of theory's
polynomial networks it adds the algebraic predictions (`theory.bounds.bezout.bezout_report`: exact
degree, expected dimension K − N and predicted dimension K − r) beside the measurements.

The page reads like a paper's results section: the claims table gives, per claim, the verdict and
every number the verdict record holds (estimate, interval, replicates, premise, margin, power, ...:
whatever fields a report.json carries, in a fixed order for the known ones, so old and new records
display alike); measurements are tables (records as rows, long series as inline sparklines), never
JSON text; a run's configuration shows the handful of fields that decide it, the rest behind a
disclosure; figures take the page's full width.
"""
from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from landscape_core.errors import RunNotFoundError
from landscape_core.records import read_json_file
from landscape_core.serialize import Serializable
from theory.bounds.bezout import bezout_report
from theory.network.spec import NetworkSpec

MAX_FIGURES_PER_RUN = 24
VERDICT_COLOURS = {"held": "#1a7f37", "not held": "#cf222e", "underpowered": "#9a6700", "by construction": "#8250df",
                   "not testable here": "#57606a"}
# Verdict-record fields shown in the claims table, in this order when present; any other scalar field a
# record carries follows them. 'reason' and 'measured' are shown in the run's own findings table.
FINDING_ORDER = ("verdict", "estimate", "interval", "interval_holm", "replicates", "premise", "premise_value",
                 "delta", "margin", "power", "rule")
FINDING_HIDDEN = ("claim", "reason", "measured", "detail", "judged")  # the reason already holds the detail
# The configuration fields that decide a training run; the others are behind a disclosure.
TRAINING_KEYS = ("dataset", "model", "optimizer", "lr", "batch_size", "epochs", "trajectories", "seed",
                 "random_labels", "init_from", "perturb", "sgdl_noise")
MAX_COLUMNS = 10  # a record table with more columns shows the rest behind a disclosure per row
SERIES_INLINE = 12  # a list of numbers up to this long is written out; a longer one is drawn as a sparkline


@dataclass(frozen=True)
class RunSummary(Serializable):
    """What the report shows of one run folder.

    path: the folder. kind: 'experiment', 'training', 'grid', 'result' or 'other'. title: a heading.
    facts: (label, value) pairs: the headline measurements, scalars only.
    config: (label, value) pairs of the fields that decide the run; config_rest: the others.
    findings: one record per tested claim (dict: claim, paper, quote, verdict and the verdict record's
        fields), as the experiment's report.json holds them.
    predictions: rows (quantity, theory's value, measured value) where theory predicts something.
    measurements: (name, JSON value) of the run's other measured numbers, rendered as tables.
    figures: (file name, caption) of the PNG figures found.
    """

    path: str
    kind: str
    title: str
    facts: tuple[tuple[str, str], ...]
    config: tuple[tuple[str, str], ...]
    config_rest: tuple[tuple[str, str], ...]
    findings: tuple[dict, ...]
    predictions: tuple[tuple[str, ...], ...]
    measurements: tuple[tuple[str, Any], ...]
    figures: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RunReport(Serializable):
    """The joined report: one summary per run, the claim table over all runs (one record each), and the HTML."""

    runs: tuple[RunSummary, ...]
    claims: tuple[dict, ...]
    html: str

    def to_dict(self) -> dict:
        """Return runs and claims (the HTML is written to a file, not into JSON)."""
        return {"runs": [r.to_dict() for r in self.runs], "claims": [dict(c) for c in self.claims]}


# ----------------------------------------------------------------------------------------------
# Values as text


def number(v: Any) -> str:
    """Return a scalar as a reader writes it: floats to 4 significant digits, integers with thousands separators."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        return f"{v:.4g}"
    if v is None:
        return "—"
    text = str(v)
    return f"{int(text):,}" if text.isdigit() and len(text) > 6 else text  # seeds recorded as strings


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _is_numbers(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)


def _interval(v: Any) -> str | None:
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return f"[{number(float(v[0]))}, {number(float(v[1]))}]"
    return None


def plain(v: Any) -> str:
    """Return a short value as plain text (scalars, intervals, short lists, a model spec); '' when it is not short."""
    if _is_scalar(v):
        return number(v)
    if _interval(v) is not None:
        return _interval(v)
    if isinstance(v, list) and len(v) <= SERIES_INLINE and all(_is_scalar(x) for x in v):
        return ", ".join(number(x) for x in v)
    if isinstance(v, dict) and "kind" in v and "widths" in v:  # a ModelSpec
        parts = [v["kind"]] + ([",".join(map(str, v["widths"]))] if v.get("widths") else [])
        return " ".join(parts + [str(v[k]) for k in ("activation",) if v.get(k)])
    return ""


def _sparkline(values: list) -> str:
    """Return an inline SVG line of the series with its first, last, min and max written beside it."""
    xs = [float(x) for x in values if isinstance(x, (int, float)) and math.isfinite(float(x))]
    if len(xs) < 2:
        return html.escape(", ".join(number(x) for x in values))
    lo, hi = min(xs), max(xs)
    span = (hi - lo) or 1.0
    pts = " ".join(f"{120 * i / (len(xs) - 1):.1f},{18 - 16 * (x - lo) / span:.1f}" for i, x in enumerate(xs))
    return (f"<svg class='spark' width='120' height='20' viewBox='0 0 120 20'><polyline fill='none' "
            f"stroke='#0969da' stroke-width='1.2' points='{pts}'/></svg> "
            f"<span class='note'>{len(values)} values, {number(xs[0])} → {number(xs[-1])} "
            f"(min {number(lo)}, max {number(hi)})</span>")


def render_value(v: Any, depth: int = 0) -> str:
    """Return any JSON value as HTML: text, a sparkline, a key–value table or a table of records — never JSON text."""
    text = plain(v)
    if text:
        return html.escape(text)
    if _is_numbers(v):
        return _sparkline(v)
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return _records(v, depth)
    if isinstance(v, list):
        if depth >= 3:
            return f"<span class='note'>{len(v)} items</span>"
        return "<ol class='items'>" + "".join(f"<li>{render_value(x, depth + 1)}</li>" for x in v) + "</ol>"
    if isinstance(v, dict):
        if v and all(isinstance(x, list) and x and all(isinstance(r, dict) for r in x) for x in v.values()):
            return "".join(f"<p class='caption'>{html.escape(str(k))}</p>{_records(x, depth)}" for k, x in v.items())
        if v and all(isinstance(x, dict) for x in v.values()) and depth < 3:
            return _records([{"": k, **x} for k, x in v.items()], depth)
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{render_value(x, depth + 1)}</td></tr>"
                       for k, x in v.items())
        return f"<table class='kv'>{rows}</table>"
    return html.escape(str(v))


def _records(rows: list[dict], depth: int) -> str:
    """Return a list of records as one table: the union of their keys as columns, nested values rendered inside."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    shown, rest = keys[:MAX_COLUMNS], keys[MAX_COLUMNS:]
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in shown) + ("<th>more</th>" if rest else "")
    body = []
    for r in rows:
        cells = "".join(f"<td>{render_value(r.get(k), depth + 1)}</td>" for k in shown)
        if rest:
            more = {k: r[k] for k in rest if k in r}
            cells += f"<td><details><summary>{len(more)} fields</summary>{render_value(more, depth + 1)}</details></td>"
        body.append(f"<tr>{cells}</tr>")
    return (f"<div class='scroll'><table class='records'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


# ----------------------------------------------------------------------------------------------
# Reading run folders


def _figures(folder: Path, listed: list[tuple[str, str]] | None = None) -> tuple[tuple[str, str], ...]:
    if listed:
        return tuple((f, c) for f, c in listed if (folder / f).is_file())[:MAX_FIGURES_PER_RUN]
    return tuple((p.name, p.stem.replace("_", " ")) for p in sorted(folder.glob("*.png")))[:MAX_FIGURES_PER_RUN]


def _theory_predictions(network: dict, n_points: int | None) -> tuple[tuple[str, str, str], ...]:
    """Return theory's predictions for a polynomial network trained on N points (empty if not applicable)."""
    if not network or not n_points:
        return ()
    spec = NetworkSpec.from_dict(network)
    if spec.n_params > 4000 or n_points > 1000:
        return (("theory", "not computed for this size", "—"),)
    rep = bezout_report(spec, n_points, seed=0)
    rows = [("weights K", str(rep.n_params), "—"), ("equations N·n_d", str(rep.n_equations), "—"),
            ("degree per equation (exact)", str(rep.degree), "—"),
            ("expected dimension K − N (paper)", str(rep.expected_dimension), "—")]
    if rep.predicted_dimension is not None:
        rows.append(("predicted dimension K − r (generic rank r)", str(rep.predicted_dimension), "—"))
    return tuple(rows)


def _prediction_rows(value: Any) -> tuple[tuple[str, ...], ...]:
    """Return an experiment's 'predictions' as rows of cells, whatever shape it was recorded in."""
    if isinstance(value, dict):
        value = [value]
    rows = []
    for row in value or []:
        if isinstance(row, dict):
            rows.append((str(row.get("quantity", row.get("name", ""))), plain(row.get("theory", row.get("predicted"))),
                         plain(row.get("measured", row.get("value")))))
        elif isinstance(row, (list, tuple)):
            rows.append(tuple(plain(c) or str(c) for c in row))
        else:
            rows.append((str(row), "", ""))  # a sentence: one row, never one character per cell
    return tuple(rows)


def _config_split(config: dict, keys: tuple[str, ...] | None) -> tuple[tuple, tuple]:
    """Return (the deciding fields, the others) of a config, as (label, text) pairs; unset fields left out."""
    items = [(k, v) for k, v in config.items() if v not in (None, "", [], {})]
    if keys is None:  # unknown kind: the short scalar fields decide, the rest is detail
        main = [(k, plain(v)) for k, v in items if plain(v)][:8]
    else:
        main = [(k, plain(v) or "…") for k, v in items if k in keys]
    taken = {k for k, _ in main}
    rest = [(k, plain(v)) for k, v in items if k not in taken and plain(v)]
    return tuple(main), tuple(rest)


def _finding_records(rep: dict) -> tuple[dict, ...]:
    claims = {c["key"]: c for c in rep.get("claims", [])}
    out = []
    for f in rep.get("findings", []):
        c = claims.get(f.get("claim"), {})
        out.append({"claim": f.get("claim", ""), "paper": f"{c.get('paper', '')} {c.get('section', '')}".strip(),
                    "quote": c.get("quote", ""), **{k: v for k, v in f.items() if k != "claim"}})
    return tuple(out)


def _experiment(folder: Path, rep: dict) -> RunSummary:
    measured = dict(rep.get("measured") or {})
    raw = measured.get("predictions")
    predictions: tuple = ()
    if isinstance(raw, list) and all(isinstance(r, (list, tuple, str)) for r in raw):
        predictions = _prediction_rows(measured.pop("predictions"))  # rows (quantity, theory, measured) or sentences
    # other shapes (a toy model's numbers per landscape kind, ...) are measurements like the rest: tables
    facts = [(k, plain(v)) for k, v in measured.items() if _is_scalar(v)]
    structured = tuple((k, v) for k, v in measured.items() if not _is_scalar(v))
    config = (("experiment", rep.get("name", "")), ("reference", rep.get("reference", "")),
              ("scale", rep.get("scale", "")), ("seed", number(rep.get("seed"))),
              ("wall time", f"{rep.get('seconds', 0):.1f} s"))
    rest = tuple((f"deviation {i + 1}", d) for i, d in enumerate(rep.get("deviations", [])))
    return RunSummary(str(folder), "experiment", rep.get("title", folder.name), tuple(facts), config, rest,
                      _finding_records(rep), predictions, structured,
                      _figures(folder, [tuple(f) for f in rep.get("figures", [])]))


def _training(folder: Path, config: dict) -> RunSummary:
    metrics = read_json_file(folder / "metrics.json", "metrics")
    epochs = metrics.get("epochs") or []
    facts = [("status", str(metrics.get("status", "?")))]
    data = read_json_file(folder / "data.json", "data") if (folder / "data.json").is_file() else {}
    if data:  # the sizes the run had, not the regression defaults its config also records
        facts.append(("data", f"{data.get('n_train', '?'):,} training / {data.get('n_test', '?'):,} test examples"
                      if isinstance(data.get("n_train"), int) else "?"))
    if epochs:
        last = epochs[-1]
        facts.append(("epochs run", str(last.get("epoch", len(epochs) - 1))))
        for key in ("train_loss", "train_error", "test_loss", "test_error"):
            if last.get(key) is not None:
                facts.append((f"final {key.replace('_', ' ')}", plain(last[key])))
    series = {key: [e.get(key)[0] if isinstance(e.get(key), list) else e.get(key) for e in epochs]
              for key in ("train_loss", "train_error", "test_loss", "test_error")
              if epochs and all(e.get(key) is not None for e in epochs)}
    regression = config.get("dataset") == "regression"
    # fields of another data set or optimizer, and options left off, do not describe this run
    idle = {"n_train", "n_test", "noise", "teacher"} if not regression else set()
    if config.get("optimizer") != "sgdl":
        idle |= {"sgdl_noise", "sgdl_decay"}
    if config.get("optimizer") != "rmsprop":
        idle |= {"rmsprop_alpha", "rmsprop_eps"}
    shown = {k: v for k, v in config.items()
             if k not in idle and not (k in ("random_labels", "perturb") and not v)}
    main, rest = _config_split(shown, TRAINING_KEYS)
    preds: tuple = ()
    model = config.get("model")
    if isinstance(model, dict) and model.get("kind") == "theory":
        n = config.get("subset") or (data.get("n_train") if data else config.get("n_train"))
        preds = _theory_predictions(model.get("network") or {}, n)
    measurements = (("trajectory 0 per evaluated epoch", series),) if series else ()
    return RunSummary(str(folder), "training", f"training run {folder.name}", tuple(facts), main, rest, (), preds,
                      measurements, _figures(folder))


def _grid(folder: Path) -> tuple[RunSummary, ...]:
    """Return the grid's own summary (one row per task) followed by the summaries of its tasks' run folders."""
    grid = read_json_file(folder / "grid.json", "grid")
    results = read_json_file(folder / "results.json", "grid results") if (folder / "results.json").is_file() else {}
    records = results.get("records") if isinstance(results, dict) else None
    rows, tasks = [], []
    for rec in records or []:
        key = rec.get("key", "")
        sub = folder / key / "run"
        verdicts = ""
        if (sub / "report.json").is_file():
            summary = summarize_run(sub)
            tasks.append(replace(summary, title=f"{key}: {summary.title}"))
            counts: dict[str, int] = {}
            for f in summary.findings:
                counts[f.get("verdict", "?")] = counts.get(f.get("verdict", "?"), 0) + 1
            verdicts = ", ".join(f"{n} {v}" for v, n in counts.items())
        rows.append({"task": key, "status": rec.get("status", "?"), "verdicts": verdicts or "—",
                     "error": rec.get("error") or ""})
    target = next((t.get("function") for t in grid.get("tasks", []) if isinstance(t, dict)), "?")
    facts = (("target", str(target).rpartition(":")[2]), ("backend", str(grid.get("backend", "?"))),
             ("tasks", str(len(rows))))
    own = RunSummary(str(folder), "grid", f"grid {folder.name}", facts, (), (), (), (), (("tasks", rows),), ())
    return (own, *tasks)


def summarize_run(path: str | Path) -> RunSummary:
    """Return the summary of one run folder (RunNotFoundError if it is not a folder with results)."""
    folder = Path(path)
    if not folder.is_dir():
        raise RunNotFoundError(f"run folder {folder} does not exist")
    if (folder / "report.json").is_file():
        return _experiment(folder, read_json_file(folder / "report.json", "experiment report"))
    if not (folder / "config.json").is_file():
        raise RunNotFoundError(f"{folder} holds neither report.json nor config.json: not a run folder")
    config = read_json_file(folder / "config.json", "config")
    config = config if isinstance(config, dict) else {"config": config}
    if (folder / "metrics.json").is_file():
        return _training(folder, config)
    facts: tuple = ()
    measurements: tuple = ()
    kind = "other"
    if (folder / "result.json").is_file():  # a probe, comparison or saved command result (common.runs)
        result = read_json_file(folder / "result.json", "result")
        kind = "result"
        if isinstance(result, dict):
            facts = tuple((k, plain(v)) for k, v in result.items() if _is_scalar(v))[:20]
            measurements = tuple((k, v) for k, v in result.items() if not _is_scalar(v))
        else:
            measurements = (("result", result),)
    main, rest = _config_split(config, None)
    return RunSummary(str(folder), kind, f"{kind} run {folder.name}", facts, main, rest, (), (), measurements,
                      _figures(folder))


def expand(paths: list[str | Path]) -> tuple[RunSummary, ...]:
    """Return the summaries of the given folders, a grid folder contributing its own and its tasks'."""
    out: list[RunSummary] = []
    for p in paths:
        folder = Path(p)
        if (folder / "grid.json").is_file():
            out += _grid(folder)
        else:
            out.append(summarize_run(folder))
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# HTML


def _table(rows, headers, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(v: str) -> str:
    colour = VERDICT_COLOURS.get(v, "#57606a")
    return f'<span class="verdict" style="background:{colour}">{html.escape(v)}</span>'


def _finding_columns(records: tuple[dict, ...]) -> list[str]:
    """Return the verdict-record fields to show as columns: the known ones in order, then any other scalar field."""
    present = {k for r in records for k, v in r.items() if k not in FINDING_HIDDEN and v not in (None, "", [])
               and (plain(v) or _interval(v))}
    known = [k for k in FINDING_ORDER if k in present]
    other = sorted(present - set(known) - {"run", "paper", "quote"})
    return known + other


def _cell(key: str, v: Any) -> str:
    if key == "verdict":
        return _verdict(str(v))
    return html.escape(plain(v)) if plain(v) else "—"


QUOTE_CHARS = 110  # a claim's quote in the table is cut here, the whole of it in a disclosure


def _quote(text: str) -> str:
    """Return a claim's quote for the table: whole when short, else its start with the rest behind a disclosure."""
    if len(text) <= QUOTE_CHARS:
        return f"<q>{html.escape(text)}</q>"
    cut = text[:QUOTE_CHARS].rsplit(" ", 1)[0]
    return f"<details><summary><q>{html.escape(cut)} …</q></summary><q>{html.escape(text)}</q></details>"


def claims_table(records: tuple[dict, ...]) -> str:
    """Return the claims table: run, claim, paper, quote, then the verdict record's fields (known ones first)."""
    cols = _finding_columns(records)
    rows = [[html.escape(r.get("run", "")), html.escape(r.get("claim", "")), html.escape(r.get("paper", "")),
             _quote(r.get("quote", ""))] + [_cell(k, r.get(k)) for k in cols] for r in records]
    return _table(rows, ["run", "claim", "paper", "quote"] + [k.replace("_", " ") for k in cols], "claims")


STYLE = """
body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328;
line-height:1.5;font-size:16px}
h1,h2,h3{font-family:system-ui,sans-serif}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:14px;font-family:system-ui,sans-serif}
td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
table.claims,table.records{width:100%}table.kv th{width:35%;font-weight:normal;color:#57606a}
q{font-style:italic;color:#57606a}table.claims td:nth-child(4){min-width:13em}table.claims td:nth-child(-n+2){min-width:8em;overflow-wrap:normal;word-break:normal}table.claims td{overflow-wrap:anywhere}table.claims{font-size:13px}.note,.caption{font-size:13px;color:#57606a}.caption{margin:.4em 0 0}
.verdict{color:#fff;border-radius:4px;padding:1px 6px;font-weight:600;white-space:nowrap}
figure{display:block;margin:1.2em 0;width:100%}figure img{width:100%;height:auto;border:1px solid #d0d7de}
figcaption{font-size:14px;color:#57606a;font-family:system-ui,sans-serif}svg.spark{vertical-align:middle}
div.scroll{overflow-x:auto;max-width:100%}details{margin:.3em 0}summary{cursor:pointer;color:#0969da}ol.items{margin:0;padding-left:1.2em}
"""


def render_html(runs: tuple[RunSummary, ...], claims: tuple[dict, ...]) -> str:
    """Return the self-contained HTML page (figures as base64 data URIs, no external resources)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>Loss-landscape report</title><style>{STYLE}</style></head><body>",
             "<h1>Loss-landscape report</h1>",
             "<p>Theory: T. Poggio &amp; Q. Liao, <i>Theory II: Landscape of the Empirical Risk in Deep Learning</i>, "
             "arXiv:1703.09833; C. Zhang et al., <i>Theory of Deep Learning IIb: Optimization Properties of SGD</i>, "
             f"CBMM Memo No. 072. Runs: {len(runs)}.</p>",
             "<h2>Claims and verdicts</h2>"]
    if claims:
        parts.append("<p class='note'>Each verdict is decided by its rule from the estimate and its 95 % interval "
                     "over independent replicates; the run's findings give the reason in words.</p>")
        parts.append(claims_table(claims))
    else:
        parts.append("<p>No experiment among these runs tests a claim.</p>")
    for run in runs:
        folder = Path(run.path)
        parts.append(f"<h2>{e(run.title)}</h2><p class='note'><code>{e(run.path)}</code> ({e(run.kind)})</p>")
        if run.facts:
            parts.append("<h3>Measurements</h3>" + _table([(e(k), e(v)) for k, v in run.facts], ("quantity", "value"),
                                                         "kv"))
        if run.predictions:
            parts.append("<h3>Predictions beside measurements</h3>")
            width = max(len(r) for r in run.predictions)
            headers = ("quantity", "theory", "measured") if width == 3 else tuple(f"column {i + 1}" for i in range(width))
            parts.append(_table([tuple(e(c) for c in row) + ("",) * (width - len(row)) for row in run.predictions],
                                headers))
        if run.findings:
            parts.append("<h3>Findings</h3>")
            parts.append(_table([(e(f.get("claim", "")), e(f.get("paper", "")), _verdict(str(f.get("verdict", ""))),
                                  e(str(f.get("reason", "")))) for f in run.findings],
                                ("claim", "paper", "verdict", "reason")))
        for name, value in run.measurements:
            parts.append(f"<h3>{e(name)}</h3>{render_value(value)}")
        if run.config or run.config_rest:
            parts.append("<h3>Configuration</h3>")
            if run.config:
                parts.append(_table([(e(k), e(v)) for k, v in run.config], ("field", "value"), "kv"))
            if run.config_rest:
                parts.append(f"<details><summary>{len(run.config_rest)} more fields</summary>"
                             + _table([(e(k), e(v)) for k, v in run.config_rest], ("field", "value"), "kv")
                             + "</details>")
        for file, caption in run.figures:
            data = base64.b64encode((folder / file).read_bytes()).decode("ascii")
            parts.append(f"<figure><img alt='{e(caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def build_report(paths: list[str | Path]) -> RunReport:
    """Return the joined report of the given run folders (a grid folder brings its tasks)."""
    runs = expand(paths)
    claims = tuple({"run": Path(r.path).name if r.kind != "experiment" or Path(r.path).name != "run"
                    else Path(r.path).parent.name, **f} for r in runs for f in r.findings)
    return RunReport(runs, claims, render_html(runs, claims))
