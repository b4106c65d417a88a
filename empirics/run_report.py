"""One self-contained HTML page joining theory's predictions and training's measurements for run folders.

`build_report(paths)` reads each run folder — an experiment run (`report.json`: claims, verdicts,
measured numbers, figures; see `empirics.experiments`), a training run (`config.json`,
`metrics.json`), or any folder with `config.json`/`metrics.json` and figures — and returns a
`RunReport` whose `html` embeds every figure as a data URI, so the page can be mailed or archived
as one file. For runs of theory's polynomial networks it adds the algebraic predictions
(`theory.bezout.bezout_report`: exact degree, Bezout number, expected dimension K − N and
predicted dimension K − r) beside the measurements.
"""
from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from landscape_toolkit.common.errors import RunNotFoundError
from landscape_toolkit.common.records import read_json_file
from landscape_toolkit.common.serialize import Serializable
from theory.bezout import bezout_report
from theory.networks import NetworkSpec

MAX_FIGURES_PER_RUN = 24
VERDICT_COLOURS = {"held": "#1a7f37", "not held": "#cf222e", "underpowered": "#9a6700", "inconclusive": "#9a6700"}


@dataclass(frozen=True)
class RunSummary(Serializable):
    """What the report shows of one run folder.

    path: the folder. kind: 'experiment', 'training' or 'other'. title: a heading.
    facts: (label, value) pairs: configuration and headline measurements.
    findings: (claim, paper section, quote, verdict, reason) per tested claim.
    predictions: (quantity, theory's value, measured value) rows, where theory predicts something.
    figures: (file name, caption) of the PNG figures found.
    """

    path: str
    kind: str
    title: str
    facts: tuple[tuple[str, str], ...]
    findings: tuple[tuple[str, str, str, str, str], ...]
    predictions: tuple[tuple[str, str, str], ...]
    figures: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RunReport(Serializable):
    """The joined report: one summary per run, the claim table over all runs, and the HTML page."""

    runs: tuple[RunSummary, ...]
    claims: tuple[tuple[str, str, str, str, str], ...]
    html: str

    def to_dict(self) -> dict:
        """Return runs and claims (the HTML is written to a file, not into JSON)."""
        return {"runs": [r.to_dict() for r in self.runs], "claims": [list(c) for c in self.claims]}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v) and len(v) <= 8:
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, (dict, list, tuple)):
        text = json.dumps(v)
        return text if len(text) <= 160 else text[:157] + "..."
    return str(v)


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


def summarize_run(path: str | Path) -> RunSummary:
    """Return the summary of one run folder (RunNotFoundError if it is not a folder with results)."""
    folder = Path(path)
    if not folder.is_dir():
        raise RunNotFoundError(f"run folder {folder} does not exist")
    if (folder / "report.json").is_file():
        rep = read_json_file(folder / "report.json", "experiment report")
        claims = {c["key"]: c for c in rep.get("claims", [])}
        findings = tuple((f["claim"], claims.get(f["claim"], {}).get("paper", "") + " " +
                          claims.get(f["claim"], {}).get("section", ""), claims.get(f["claim"], {}).get("quote", ""),
                          f["verdict"], f["reason"]) for f in rep.get("findings", []))
        facts = [("experiment", rep.get("name", "")), ("reference", rep.get("reference", "")),
                 ("scale", rep.get("scale", "")), ("seed", str(rep.get("seed", ""))),
                 ("wall time", f"{rep.get('seconds', 0):.1f} s")]
        facts += [(k, _fmt(v)) for k, v in list((rep.get("measured") or {}).items())[:30]]
        preds = tuple(tuple(map(str, row)) for row in (rep.get("measured") or {}).get("predictions", []))
        return RunSummary(str(folder), "experiment", rep.get("title", folder.name), tuple(facts), findings, preds,
                          _figures(folder, [tuple(f) for f in rep.get("figures", [])]))
    if not (folder / "config.json").is_file():
        raise RunNotFoundError(f"{folder} holds neither report.json nor config.json: not a run folder")
    config = read_json_file(folder / "config.json", "config")
    facts: list[tuple[str, str]] = []
    preds: tuple = ()
    kind = "other"
    if (folder / "metrics.json").is_file():
        metrics = read_json_file(folder / "metrics.json", "metrics")
        epochs = metrics.get("epochs") or []
        kind = "training"
        facts.append(("status", str(metrics.get("status", "?"))))
        if epochs:
            last = epochs[-1]
            facts.append(("epochs run", str(last.get("epoch", len(epochs) - 1))))
            for key in ("train_loss", "train_error", "test_loss", "test_error"):
                if last.get(key) is not None:
                    facts.append((f"final {key.replace('_', ' ')}", _fmt(last[key])))
    elif (folder / "result.json").is_file():  # a probe, comparison or saved command result (common.runs)
        result = read_json_file(folder / "result.json", "result")
        kind = "result"
        if isinstance(result, dict):
            facts += [(k, _fmt(v)) for k, v in result.items() if isinstance(v, (int, float, str, bool))][:20]
    # measurements first, then the configuration that produced them
    facts += [(f"config: {k}", _fmt(v)) for k, v in config.items() if v not in (None, "", [], {})][:40]
    model = config.get("model")
    if kind == "training" and isinstance(model, dict) and model.get("kind") == "theory":
        n = config.get("subset") or config.get("n_train")
        preds = _theory_predictions(model.get("network") or {}, n)
    return RunSummary(str(folder), kind, f"{kind} run {folder.name}", tuple(facts), (), preds, _figures(folder))


def _table(rows, headers) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(v: str) -> str:
    colour = VERDICT_COLOURS.get(v, "#57606a")
    return f'<span class="verdict" style="background:{colour}">{html.escape(v)}</span>'


def render_html(runs: tuple[RunSummary, ...], claims: tuple[tuple[str, str, str, str, str], ...]) -> str:
    """Return the self-contained HTML page (figures as base64 data URIs, no external resources)."""
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>Loss-landscape report</title><style>",
             "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1f2328;line-height:1.45}",
             "table{border-collapse:collapse;margin:.6em 0 1.4em;width:100%}td,th{border:1px solid #d0d7de;"
             "padding:4px 8px;text-align:left;vertical-align:top;font-size:14px}th{background:#f6f8fa}",
             ".verdict{color:#fff;border-radius:4px;padding:1px 6px;font-weight:600;white-space:nowrap}",
             "figure{display:inline-block;margin:.5em;max-width:48%}figure img{max-width:100%;border:1px solid #d0d7de}",
             "figcaption{font-size:13px;color:#57606a}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em}",
             "</style></head><body>",
             "<h1>Loss-landscape report</h1>",
             "<p>Theory: T. Poggio &amp; Q. Liao, <i>Theory II: Landscape of the Empirical Risk in Deep Learning</i>, "
             "arXiv:1703.09833; C. Zhang et al., <i>Theory of Deep Learning IIb: Optimization Properties of SGD</i>, "
             f"CBMM Memo No. 072. Runs: {len(runs)}.</p>",
             "<h2>Claims and verdicts</h2>"]
    if claims:
        parts.append(_table([(e(r), e(c), e(s), f"“{e(q)}”", _verdict(v)) for r, c, s, q, v in claims],
                            ("run", "claim", "paper", "quote", "verdict")))
    else:
        parts.append("<p>No experiment among these runs tests a claim.</p>")
    for run in runs:
        folder = Path(run.path)
        parts.append(f"<h2>{e(run.title)}</h2><p><code>{e(run.path)}</code> ({e(run.kind)})</p>")
        if run.predictions:
            parts.append("<h3>Predictions beside measurements</h3>")
            parts.append(_table([tuple(e(c) for c in row) for row in run.predictions],
                                ("quantity", "theory", "measured")))
        if run.findings:
            parts.append("<h3>Findings</h3>")
            parts.append(_table([(e(k), e(sec), _verdict(v), e(reason)) for k, sec, _, v, reason in run.findings],
                                ("claim", "paper", "verdict", "measured")))
        parts.append("<h3>Configuration and measurements</h3>")
        parts.append(_table([(e(k), e(v)) for k, v in run.facts], ("quantity", "value")))
        for file, caption in run.figures:
            data = base64.b64encode((folder / file).read_bytes()).decode("ascii")
            parts.append(f"<figure><img alt='{e(caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{e(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def build_report(paths: list[str | Path]) -> RunReport:
    """Return the joined report of the given run folders."""
    runs = tuple(summarize_run(p) for p in paths)
    claims = tuple((Path(r.path).name, k, sec, quote, v) for r in runs for k, sec, quote, v, _ in r.findings)
    return RunReport(runs, claims, render_html(runs, claims))
