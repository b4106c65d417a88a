"""`report.md` for an experiment run: claim, protocol, deviations, numbers, verdicts, figures."""
from __future__ import annotations

import json

import numpy as np
from pathlib import Path

from landscape_core.records import atomic_write_text
from empirics.experiments import ExperimentReport


def render_markdown(rep: ExperimentReport) -> str:
    """Return the Markdown text of `rep`, in the order a reader checks a claim."""
    lines = [f"# {rep.title}", "", f"*{rep.reference}* — experiment `{rep.name}`, scale `{rep.scale}`, "
             f"seed {rep.seed}, {rep.seconds:.1f} s", "", "## Claims and verdicts", ""]
    verdicts = {f.claim: f for f in rep.findings}
    for c in rep.claims:
        f = verdicts.get(c.key)
        head = f"**{f.verdict.upper()}**" if f else "**not tested**"
        lines.append(f"- {head} — {c.paper} {c.section}: “{c.quote}”")
        if f:
            lines.append(f"  - {f.reason}")
    lines += _verdict_table(rep)
    lines += ["", "## Protocol run", ""] + [f"{i}. {step}" for i, step in enumerate(rep.protocol, 1)]
    lines += ["", "## Deviations from the paper", ""]
    lines += [f"- {d}" for d in rep.deviations] or ["- none"]
    lines += ["", "## Measured", "", "```json", json.dumps(rep.to_dict()["measured"], indent=2), "```", ""]
    if rep.figures:
        lines += ["## Figures", ""]
        for file, caption in rep.figures:
            lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def _num(x) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.3g}"


def _premise_cell(f) -> str:
    if f.premise is None:
        return "–"
    vals = ", ".join(_num(x) for x in (f.premise_value or []))
    return f"{f.premise}: {vals}" if vals else f.premise


def _verdict_table(rep: ExperimentReport) -> list[str]:
    """Return the per-claim statistics table: verdict, estimate, 95 % interval, replicates, premise values,
    δ, power at δ and rule@version, then the family the claims were corrected over."""
    rows = [f for f in rep.findings if f.rule is not None]
    if not rows:
        return []
    out = ["", "| claim | verdict | estimate | 95 % interval | Holm interval (claims of several tests) | replicates "
           "| premise (value per replicate) | δ | power at δ | rule |", "|---|---|---|---|---|---|---|---|---|---|"]
    for f in rows:
        lo, hi = f.interval if f.interval is not None else (None, None)
        holm = "–" if f.interval_holm is None else f"[{_num(f.interval_holm[0])}, {_num(f.interval_holm[1])}]"
        delta = f"{f.delta:g}" if f.delta is not None else (f"band ±{f.margin:g}" if f.margin is not None else "–")
        power = "–" if f.power is None or not np.isfinite(f.power) else f"{f.power:.0%}"
        out.append(f"| {f.claim} | {f.verdict} | {_num(f.estimate)} | [{_num(lo)}, {_num(hi)}] | {holm} | "
                   f"{f.replicates} | {_premise_cell(f)} | {delta} | {power} | {f.rule} |")
    n = sum(1 for f in rows if f.verdict != "not testable here")
    out += ["", f"The {n} judged claims of this report are one family: each verdict is taken after Holm's "
            "correction across them (the reasons above give the adjusted p-values)."]
    return out


def write_report(rep: ExperimentReport, folder: str | Path) -> Path:
    """Write `report.md` and `report.json` into the run folder and return the Markdown path."""
    folder = Path(folder)
    atomic_write_text(folder / "report.json", json.dumps(rep.to_dict(), indent=2) + "\n")
    return atomic_write_text(folder / "report.md", render_markdown(rep))
