#!/usr/bin/env python3
"""Benchmark: our path tracking (PHCpack trackers + independent endpoint checks) against PHCpack's blackbox solver.

For each system: paths per second and wall time of `theory.solve.solve` (total degree and,
for networks, multihomogeneous) and of `phcpy.solver.solve` (verbose, C-level stdout discarded),
the solutions each finds, and the time ratio. Then the time to solve each network instance used
in the tests, and monodromy beside total degree where both run.

Usage: .venv/bin/python benchmarks/homotopy.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from theory import phc  # noqa: E402
from theory.catalog import cyclic, katsura  # noqa: E402
from theory.polysystem import from_strings, network_system  # noqa: E402
from theory.solve import solve  # noqa: E402
from theory.tracker import TrackOptions  # noqa: E402


def blackbox(polys: list[str]) -> tuple[int, float]:
    """Return (regular finite solutions, seconds) of PHCpack's blackbox solver."""
    t0 = time.perf_counter()
    sols = phc.blackbox_solve(polys)
    dt = time.perf_counter() - t0
    names = phc.symbols(polys)
    n = 0
    for s in sols:
        e = phc.parse_solution(s, names)
        if e.rco > 1e-8 and abs(e.t.real - 1) < 1e-9 and max(abs(v) for v in e.x) < 1e8:
            n += 1
    return n, dt


def classical(quick: bool) -> list[dict]:
    systems = [("cyclic-5", cyclic(5)), ("katsura-6", katsura(6))]
    if not quick:
        systems += [("cyclic-6", cyclic(6)), ("katsura-7", katsura(7))]
    rows = []
    for name, polys in systems:
        s = from_strings(polys, label=name)
        n_bb, t_bb = blackbox(polys)
        for start in ("total_degree", "polyhedral"):
            ours = solve(s, start=start, options=TrackOptions(seed=1))
            rows.append({"system": name, "start": start, "paths": ours.n_paths, "ours_solutions": ours.n_solutions,
                         "ours_seconds": ours.seconds, "ours_paths_per_s": ours.paths_per_second,
                         "ours_failed": ours.outcomes["failed"],
                         "blackbox_solutions": n_bb, "blackbox_seconds": t_bb,
                         "ratio_ours_over_blackbox": ours.seconds / t_bb})
    return rows


def networks(quick: bool) -> list[dict]:
    from theory.activations import parse
    from theory.networks import NetworkSpec
    from theory.data import planted_data
    from theory.systems import ZeroErrorSystem

    cubic = parse("z + z^2/4 + z^3/8")
    cases = [("fc 1-1-1 cubic, linear out, N=4", NetworkSpec.fully_connected(1, 1, 2, cubic, output_activation=False))]
    if not quick:
        cases.append(("fc 2-1-1 cubic, no bias, linear out, N=3",
                      NetworkSpec.fully_connected(2, 1, 2, cubic, bias=False, output_activation=False)))
    rows = []
    for name, spec in cases:
        data, _ = planted_data(spec, spec.n_params, 0)
        system = network_system(ZeroErrorSystem(spec, data))
        row = {"network": name, "K": spec.n_params}
        for start in ("total_degree", "multihomogeneous"):
            r = solve(system, start=start, options=TrackOptions(seed=0))
            row[start] = {"paths": r.n_paths, "solutions": r.n_solutions, "real": r.n_real,
                          "failed": r.outcomes["failed"], "seconds": r.seconds, "paths_per_s": r.paths_per_second}
            row["mixed_volume"] = r.mixed_volume
        n_bb, t_bb = blackbox(list(system.polys))
        row["blackbox"] = {"solutions": n_bb, "seconds": t_bb}
        from theory.monodromy import square_monodromy
        m = square_monodromy(spec, seed=0, stop_after=5)
        row["monodromy"] = {"solutions": m.n_solutions, "paths": m.paths_tracked, "seconds": m.seconds}
        rows.append(row)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the smallest systems")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the measurements as JSON")
    args = ap.parse_args()
    phc.load()
    out = {"phcpack": phc.version(), "classical": classical(args.quick), "networks": networks(args.quick)}
    print(f"{out['phcpack']}; our tracker = PHCpack's trackers + numpy endpoint checks; blackbox = phcpy.solver.solve")
    print(f"\n{'system':<12} {'start':<13} {'paths':>6} {'ours sols':>9} {'ours s':>8} {'paths/s':>8} {'bb sols':>8} "
          f"{'bb s':>8} {'ours/bb':>8}")
    for r in out["classical"]:
        print(f"{r['system']:<12} {r['start']:<13} {r['paths']:>6} {r['ours_solutions']:>9} {r['ours_seconds']:>8.2f} "
              f"{r['ours_paths_per_s']:>8.0f} {r['blackbox_solutions']:>8} {r['blackbox_seconds']:>8.2f} "
              f"{r['ratio_ours_over_blackbox']:>8.2f}")
    print(f"\n{'network':<40} {'K':>2} {'start':<17} {'paths':>6} {'sols':>5} {'real':>4} {'fail':>4} {'s':>7} {'paths/s':>8}")
    for r in out["networks"]:
        for start in ("total_degree", "multihomogeneous"):
            d = r[start]
            print(f"{r['network']:<40} {r['K']:>2} {start:<17} {d['paths']:>6} {d['solutions']:>5} {d['real']:>4} "
                  f"{d['failed']:>4} {d['seconds']:>7.2f} {d['paths_per_s']:>8.0f}")
        bb, m = r["blackbox"], r["monodromy"]
        print(f"{'':<40} {'':>2} {'phc blackbox':<17} {'':>6} {bb['solutions']:>5} {'':>4} {'':>4} {bb['seconds']:>7.2f}")
        print(f"{'':<40} {'':>2} {'monodromy':<17} {m['paths']:>6} {m['solutions']:>5} {'':>4} {'':>4} {m['seconds']:>7.2f}"
              f"   (mixed volume {r['mixed_volume']})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
