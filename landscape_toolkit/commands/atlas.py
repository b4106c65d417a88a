"""`cli.py atlas`: the table of critical-point counts over a product of architectures, every row proved or labelled."""
from __future__ import annotations

import argparse

from landscape_toolkit.commands._render import (add_json_flag, add_progress_flag, add_run_flags, comma_list,
                                                nonnegative_int, positive_float, positive_int, print_json,
                                                progress_bar, key_values, table)
from landscape_core.executor import BACKENDS

EXAMPLES = """examples:
  cli.py atlas --run atlas                                  # the whole product (about 2 h on 2 cores)
  cli.py atlas --max-hidden 1 --max-width 2 --max-io 2 --activations none --run small
  cli.py atlas --only linear_2-2-2 --run mehta              # rows whose key contains the text
  cli.py atlas --run atlas --executor slurm --workers 16    # the same rows on Slurm

Running the same command again resumes: finished rows are read back, the others run.
"""


def _activation_list(text: str) -> tuple[str, ...]:
    if text.strip().lower() == "none":
        return ()
    return tuple(a.strip() for a in text.split(";") if a.strip())


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `atlas` subcommand."""
    from theory.counting.atlas import AtlasConfig

    d = AtlasConfig()
    p = sub.add_parser(
        "atlas", help="critical-point counts over a product of architectures, each proved or labelled",
        description="Count the isolated complex critical points of the penalised square loss (generic λ and targets) "
                    "for every deep linear network with up to --max-hidden hidden layers of widths up to --max-width "
                    "and input/output dimensions up to --max-io on one data point, and every one-hidden-layer network "
                    "with a polynomial activation on up to --max-points points. Each row: count, real count, its proof "
                    "(Macaulay2's exact per-stratum counts over QQ; past --m2-seconds the counts over ZZ/p, labelled "
                    "evidence), Krawczyk certificates (double precision, then Arb balls), the count at an independent "
                    "instance, a Bertini 2 cross-check where a total-degree solve is small, time and memory. Writes "
                    "atlas.md, atlas.json, atlas.csv and atlas.png into the run folder; rows run through the grid "
                    "executor (local or Slurm) and a re-run resumes row by row. Closed forms that families of rows "
                    "follow are printed as conjectures, with the rows they rest on.",
        epilog=EXAMPLES)
    g = p.add_argument_group("architectures")
    g.add_argument("--max-hidden", type=positive_int, default=d.max_hidden, help="deep linear: hidden layers 1..H")
    g.add_argument("--max-width", type=positive_int, default=d.max_width, help="hidden widths 1..W")
    g.add_argument("--max-io", type=positive_int, default=d.max_io, help="deep linear: input and output dimensions 1..D")
    g.add_argument("--activations", type=_activation_list, default=d.activations, metavar="'P1; P2; ...'",
                   help="polynomial activations of the one-hidden-layer rows, separated by ';' (default "
                        f"'{'; '.join(d.activations)}'; 'none' for deep linear rows only)")
    g.add_argument("--poly-max-input", type=positive_int, default=d.poly_max_input,
                   help="polynomial rows: input dimensions 1..D")
    g.add_argument("--poly-max-output", type=positive_int, default=d.poly_max_output,
                   help="polynomial rows: output dimensions 1..D")
    g.add_argument("--max-points", type=positive_int, default=d.max_points, help="polynomial rows: N = 1..N points")
    g.add_argument("--only", type=comma_list(str), default=(), metavar="TEXT,...",
                   help="only rows whose key (e.g. linear_1-3-3_N1, z2_1-2-1_N2) contains one of these texts")
    b = p.add_argument_group("budgets and checks")
    b.add_argument("--seed", type=nonnegative_int, default=d.seed, help="seed of data, penalty and paths")
    b.add_argument("--row-seconds", type=positive_float, default=d.row_seconds,
                   help="monodromy wall budget per row; rows above one that ran past it unproved are not attempted")
    b.add_argument("--m2-seconds", type=positive_float, default=d.m2_seconds,
                   help="Macaulay2 budget over QQ per row (a proof); past it the counts are taken over ZZ/p")
    b.add_argument("--m2-fallback-seconds", type=positive_float, default=d.m2_fallback_seconds,
                   help="Macaulay2 budget over ZZ/p per row (evidence, not proof)")
    b.add_argument("--bertini-max-paths", type=nonnegative_int, default=d.bertini_max_paths,
                   help="Bertini 2 cross-check where its total-degree homotopy has at most this many paths (0: never)")
    b.add_argument("--no-certify", action="store_true", help="skip the Krawczyk certificates")
    e = p.add_argument_group("execution")
    e.add_argument("--executor", choices=BACKENDS, default="local",
                   help="local process pool (default), submitit's local executor, or Slurm through submitit")
    e.add_argument("--workers", type=positive_int, default=None, help="rows at once (default: the number of cores)")
    e.add_argument("--slurm-partition", default=None, help="slurm: partition")
    e.add_argument("--slurm-time", type=positive_int, default=60, metavar="MIN", help="submitit: minutes per row")
    e.add_argument("--slurm-mem", type=positive_float, default=8.0, metavar="GB", help="slurm: memory per row")
    e.add_argument("--no-figure", action="store_true", help="do not draw atlas.png")
    add_run_flags(p, default="atlas")
    add_json_flag(p)
    add_progress_flag(p)
    p.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace):
    """Return the AtlasConfig the flags describe."""
    from theory.counting.atlas import AtlasConfig

    return AtlasConfig(max_hidden=args.max_hidden, max_width=args.max_width, max_io=args.max_io,
                       activations=tuple(args.activations), poly_max_input=args.poly_max_input,
                       poly_max_output=args.poly_max_output, max_points=args.max_points, seed=args.seed,
                       row_seconds=args.row_seconds, m2_seconds=args.m2_seconds,
                       m2_fallback_seconds=args.m2_fallback_seconds, bertini_max_paths=args.bertini_max_paths,
                       certify=not args.no_certify)


def render(atlas) -> str:
    """Return the atlas as text: the table, the totals and the conjectures."""
    from landscape_toolkit.atlas_runner import markdown_table

    c = atlas.counts
    lines = [markdown_table(atlas.rows), key_values([
        ("rows", f"{c['rows']}: {c['computed']} computed, {c['not_attempted']} not attempted, {c['failed']} failed"),
        ("proofs", f"{c['exact_over_QQ']} exact over QQ, {c['evidence_over_ZZ_p']} evidence over ZZ/p, "
                   f"{c['not_proved']} not proved"),
        ("certified", f"{c['all_certified']} rows with every point certified"),
        ("published rows", f"{c['published_matched']} of {c['published']} matched"),
        ("time", f"{atlas.seconds:.0f} s this invocation")])]
    held = [k for k in atlas.conjectures if k.holds]
    if held:
        lines.append("\nconjectures (closed forms fitted on two rows and checked on the others; measurements, "
                     "not theorems):")
        lines.append(table([[k.family, k.statement, ", ".join(k.rests_on), ", ".join(k.checked_on)
                             + (" (evidence: " + ", ".join(k.evidence_rows) + ")" if k.evidence_rows else "")]
                            for k in held], ["family", "conjecture", "fitted on", "checked on"]))
    refuted = [k for k in atlas.conjectures if k.refuted_by]
    if refuted:
        lines.append("\nrefuted: " + "; ".join(f"{k.family}: {k.statement}" for k in refuted))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the atlas and print its table, totals and conjectures."""
    from landscape_toolkit.atlas_runner import run_atlas
    from landscape_core.executor import ExecutorConfig

    cfg = config_from_args(args)
    options = ExecutorConfig(workers=args.workers, timeout_min=args.slurm_time, partition=args.slurm_partition,
                              mem_gb=args.slurm_mem)
    name = args.run or "atlas"
    with progress_bar(args, "atlas rows") as progress:
        atlas = run_atlas(cfg, args.out, name, args.executor, options, tuple(args.only), progress,
                          figure=not args.no_figure)
    if args.json:
        print_json(atlas)
    else:
        print(render(atlas))
        print(f"\nsaved: {args.out}/{name}/atlas.md, atlas.json, atlas.csv" + ("" if args.no_figure else ", atlas.png"))
    return 0
