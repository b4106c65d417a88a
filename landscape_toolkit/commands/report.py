"""`cli.py report --from RUN [--from RUN ...]`: one self-contained HTML page of predictions and measurements."""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._render import add_from_flag, add_json_flag, print_json


EXAMPLES = """examples:
  cli.py report --from runs/first --from runs/iib-langevin-smoke-seed0 -o report.html
  cli.py report --from runs/sweep/name=ii-basins,seed=0 --json         # a grid task's run folder
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser("report", help="write one self-contained HTML report for run folders",
                       description="Join run folders (experiments, training runs) into one HTML page with the "
                                   "theory's predictions, the measurements, the claim table and every figure embedded.",
                       epilog=EXAMPLES)
    add_from_flag(p, "a run folder (an experiment, a training run or a saved result); repeat for several",
                  repeat=True, required=True)
    p.add_argument("--output", "-o", default="report.html", metavar="FILE", help="HTML file to write")
    add_json_flag(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from landscape_core.records import atomic_write_text
    from empirics.run_report import build_report

    if not args.output.endswith((".html", ".htm")):
        from landscape_core.errors import InvalidSpecError
        raise InvalidSpecError(f"--output must name an .html file, got {args.output!r}")
    from landscape_core.runs import check_output_file

    check_output_file(args.output)
    rep = build_report(args.source)
    path = atomic_write_text(args.output, rep.html)
    if args.json:
        print_json({**rep.to_dict(), "output": str(path)})
        return 0
    verdicts = [c.get("verdict") for c in rep.claims]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
    print(f"report: {path} ({len(rep.runs)} runs, {len(rep.claims)} claims{': ' + counts if counts else ''})")
    return 0
