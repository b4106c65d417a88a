"""`cli.py bezout`: exact degrees, Bezout-type bounds and dimensions of the zero-error system."""
from __future__ import annotations

import argparse
import sys

from landscape_toolkit.commands._network import add_network_args, data_from_args, spec_from_args
from landscape_toolkit.commands._parser import refuse_unless
from landscape_toolkit.commands._render import (add_json_flag, add_run_flags, add_size_flag, big, check_out, check_size,
                                                key_values, positive_int, print_json, save_result)


EXAMPLES = """examples:
  cli.py bezout --layers 3 --degree 4 --points 8          # the paper's ℓ^d, ℓ^{Nd}, K − N beside the exact numbers
  cli.py bezout --activation 'z + z^2/4' --width 3 --points 5 --verify   # and the measured dimension and degree
  cli.py bezout --layers 2 --points 3 --export m2 -o system.m2           # the zero-error system for Macaulay2
  cli.py bezout --arch tree --layers 2 --units 2 --shared --points 4     # the binary tree of Theory II Fig. 2
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bezout` subcommand."""
    p = sub.add_parser(
        "bezout", help="exact degrees, Bezout bounds and expected/predicted dimension (Theory II §3.2)",
        description="Build a polynomial-activation network, form its zero-error system on N seeded "
                    "random data points, and print the paper's numbers (ℓ^d, ℓ^{Nd}, K − N) beside the "
                    "exact ones: certified equation degrees, Bezout and multihomogeneous Bezout numbers, "
                    "the generic Jacobian rank r and the predicted dimension K − r. No expansion is done.",
        epilog=EXAMPLES)
    add_network_args(p)
    add_run_flags(p, optional=True)
    add_json_flag(p)
    add_size_flag(p)
    p.add_argument("--export", choices=("phc", "m2", "json"), default=None,
                   help="also write the system: PHCpack input (float coefficients), Macaulay2 or JSON (exact)")
    p.add_argument("--system", choices=("zero", "critical"), default="zero",
                   help="which system --export writes: zero-error (eq. 5) or critical points (eq. 8) (default zero)")
    p.add_argument("--expanded", action="store_true",
                   help="export expanded polynomials (refused when the guaranteed term bound is too large); "
                        "default: expanded when small, nested formulas otherwise")
    p.add_argument("--verify", action="store_true",
                   help="also measure the zero-error set by homotopy continuation (PHCpack): its dimension "
                        "and degree (witness points) beside the bounds; small networks only")
    p.add_argument("--max-paths", type=positive_int, default=20_000,
                   help="path budget for --verify; larger homotopies are refused with one line (default 20,000)")
    p.add_argument("--output", "-o", default=None, metavar="FILE",
                   help="file for --export (default: print to stdout after the report)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the report (and the export)."""
    from landscape_core.records import atomic_write_text, check_writable_target
    from landscape_core.runs import check_output_file
    from theory.bounds.bezout import bezout_needs, bezout_report
    from theory.polynomials.export import to_json, to_macaulay2, to_phc
    from theory.network.equations import CriticalSystem, ZeroErrorSystem

    refuse_unless(args, ["system", "expanded", "output"], args.export is not None, "with --export")
    refuse_unless(args, ["max_paths"], args.verify, "with --verify")
    check_out(args)
    if args.output:  # refuse an unwritable --output, or one inside a run folder's own files, before any work
        check_output_file(args.output)
        check_writable_target(args.output)
    spec = spec_from_args(args)
    check_size(args, bezout_needs(spec, args.points))
    data = data_from_args(spec, args)
    report = bezout_report(spec, data.n_points, seed=args.seed, data=data)
    verification = None
    if args.verify:
        from landscape_core.errors import InvalidSpecError
        from theory.counting.dimension import verify_bezout

        if args.data or args.targets != "random":
            raise InvalidSpecError("--verify measures the seeded random instance: drop --data and --targets")
        verification = verify_bezout(spec, args.points, seed=args.seed, max_paths=args.max_paths)
    export_text = None
    if args.export:
        system = ZeroErrorSystem(spec, data) if args.system == "zero" else CriticalSystem(spec, data)
        writer = {"phc": to_phc, "m2": to_macaulay2, "json": to_json}[args.export]
        export_text = writer(system, expanded=True if args.expanded else None)
        if args.output:
            atomic_write_text(args.output, export_text)
    doc = report.to_dict()
    if verification is not None:
        doc["verification"] = verification.to_dict()
    saved = save_result(args, doc)
    if args.json:
        if export_text is not None and not args.output:  # one JSON document: the export goes inside it
            doc["export"] = {"format": args.export, "system": args.system, "text": export_text}
        print_json(doc)
    else:
        print(render(report, spec.describe()))
        if verification is not None:
            print("\n" + render_verification(verification))
        if args.output:
            print(f"\nexported {args.system} system ({args.export}) to {args.output}")
        if saved:
            print(f"\nsaved: {saved}")
    if export_text is not None and not args.output and not args.json:
        sys.stdout.write("\n" + export_text)
    return 0


def render(r, description: str) -> str:
    """Return the report as text: the paper's value beside the exact one."""
    l, d, n = r.activation_degree, r.depth, r.n_points
    jac = r.jacobian
    rows = [
        ("network", description),
        ("weights K", r.n_params),
        ("data points N", f"{n} ({r.n_equations} equations)"),
        ("K / N", f"{r.overparametrization:.3g}"),
        ("degree per equation", f"paper ℓ^d = {l}^{d} = {r.paper_degree};  exact {r.degree}"
                                f" ({'certified' if r.degrees_exact else 'upper bound; measured lower'})"),
        ("degree per layer", ", ".join(f"layer {i + 1}: {g} in {s} weights"
                                       for i, (g, s) in enumerate(zip(r.group_degrees, r.group_sizes)))),
        ("Bezout number", f"paper ℓ^(Nd) = {big(r.paper_bezout)};  exact Π deg = {big(r.bezout)}"),
        ("multihomogeneous Bezout", big(r.multihomogeneous_bezout) if r.multihomogeneous_bezout is not None
         else "not computed (too many groups/variables)"),
        ("witness-degree bound", big(r.witness_bound)),
        ("real zeros (Smale-Shub)", f"paper ℓ^(Nd/2) ≈ {big(r.paper_real_estimate)};  √Bezout ≈ {big(r.real_estimate)}"),
        ("critical system (eq. 8)", "not computed" if r.critical_bezout is None else
            f"Bezout {big(r.critical_bezout)};  multihomogeneous "
                                    f"{big(r.critical_multihomogeneous_bezout) if r.critical_multihomogeneous_bezout is not None else 'n/a'}"),
        ("expected dimension K−N", r.expected_dimension),
        ("Jacobian rank r", _rank_line(jac)),
        ("predicted dimension K−r", "not computed" if r.predicted_dimension is None else
            f"{r.predicted_dimension}" + (" (proved for generic weights: certified full row rank)"
                                          if jac is not None and jac.exact else "")),
        ("equations dependent", "unknown" if r.dependent is None else
            ("YES: generic targets have no zero-error solution" + (f" ({r.repeated_inputs} repeated inputs in the data)"
                                                                   if r.repeated_inputs else ""))
            if r.dependent else "no"),
        ("seed", r.seed),
    ]
    text = key_values(rows)
    if r.notes:
        text += "\n\nnotes:\n" + "\n".join(f"  - {note}" for note in r.notes)
    return text


def _rank_line(jac) -> str:
    """Return the certified rank (lower bound mod p, exact at full row rank) beside the numerical estimate."""
    if jac is None:
        return "not computed"
    if jac.rank is None:
        numerical = ("numerical estimate not computed ("
                     + ("float64 overflow" if "overflow" in jac.numerical_rule else "over the SVD budget") + ")")
    else:
        gap = "inf" if jac.gap == float("inf") else f"{jac.gap:.3g}"
        numerical = f"{jac.rank} numerical estimate (tol {jac.tolerance:.2e}, gap σ_r/σ_r+1 = {gap})"
    if jac.modular_rank is None:
        certified = "certified lower bound not computed (over the elimination budget)"
    else:
        certified = (f"{jac.modular_rank} certified lower bound (mod p = {jac.p:,}"
                     f"{'; = rows: exact' if jac.exact else ''})")
    return f"{numerical}; {certified}"


def render_verification(v) -> str:
    """Return the homotopy measurement beside the bounds."""
    return "measured by homotopy continuation (PHCpack):\n" + key_values([
        ("dimension", f"{v.measured_dimension} ({'confirmed by the Jacobian rank at every witness point' if v.confirmed else 'NOT confirmed at every witness point'})"),
        ("degree (witness points)", v.measured_degree),
        ("within every bound", "yes" if v.within_bounds else "NO"),
        ("mixed volume (sliced)", "n/a" if v.mixed_volume is None else big(v.mixed_volume)),
        ("paths", f"{v.n_paths} tracked, {v.failed_paths} failed"),
        ("time", f"{v.seconds:.2f} s"),
    ])
