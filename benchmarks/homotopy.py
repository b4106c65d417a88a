#!/usr/bin/env python3
"""Benchmark: our routes (start systems, strata monodromy) beside PHCpack's blackbox solver, in the same run.

For each system: every route's paths, distinct regular solutions found, Krawczyk-certified ones,
wall time, and the blackbox solver's wall time and solutions (`phcpy.solver.solve`, run in a
worker process like our tracking, one task). The blackbox reports the solutions it reaches from
stable mixed cells with t = 0 (they are genuine solutions with zero coordinates, not stalled
paths); they are counted separately and shown as "found (+ t = 0)". Ratio = our wall / blackbox
wall. Then path tracking with 1 and 2 workers: the whole solve and the parallel (tracking) part.

Usage: .venv/bin/python benchmarks/homotopy.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from theory.homotopy import phcpack as phc  # noqa: E402
from theory.polynomials.catalog import cyclic, katsura, mehta_critical, noon  # noqa: E402
from theory.homotopy.path_result import cluster  # noqa: E402
from theory.polynomials.system import from_strings  # noqa: E402
from theory.homotopy.solve import solve  # noqa: E402
from theory.homotopy.tracker import TrackConfig  # noqa: E402


def blackbox(polys: list[str]) -> dict:
    """Return the blackbox solver's distinct regular finite solutions at t = 1 and at t = 0, and its wall time."""
    t0 = time.perf_counter()
    sols = phc.blackbox_solve(polys)
    dt = time.perf_counter() - t0
    names = phc.symbols(polys)
    at1, at0 = [], []
    for s in sols:
        e = phc.parse_solution(s, names)
        if not (np.all(np.isfinite(e.x)) and e.rco > 1e-8 and max(abs(v) for v in e.x) < 1e8):
            continue
        if abs(e.t.real - 1) < 1e-9:
            at1.append(e.x)
        elif abs(e.t) < 1e-9:
            at0.append(e.x)
    n1 = len(cluster(at1, 1e-6)) if at1 else 0
    n_all = len(cluster(at1 + at0, 1e-6)) if at1 + at0 else 0
    return {"found_t1": n1, "found_t0": n_all - n1, "seconds": dt, "reported": len(sols)}


def _row(name: str, route: str, paths: int, found: int, certified, seconds: float, bb: dict) -> dict:
    return {"system": name, "route": route, "paths": paths, "found": found, "certified": certified,
            "seconds": seconds, "blackbox_seconds": bb["seconds"], "blackbox_found": bb["found_t1"],
            "blackbox_found_t0": bb["found_t0"], "ratio": seconds / bb["seconds"]}


def systems(quick: bool) -> list[tuple[str, object]]:
    out = [("cyclic-5", from_strings(cyclic(5), label="cyclic-5")),
           ("katsura-6", from_strings(katsura(6), label="katsura-6")),
           ("noon-4", from_strings(noon(4), label="noon-4")),
           ("mehta-222", mehta_critical(2, 2))]
    if not quick:
        out += [("cyclic-6", from_strings(cyclic(6), label="cyclic-6")),
                ("katsura-7", from_strings(katsura(7), label="katsura-7"))]
    return out


def compare(quick: bool, workers: int | None) -> list[dict]:
    """Return one row per (system, route)."""
    rows = []
    for name, system in systems(quick):
        bb = blackbox(list(system.polys))
        routes = ["auto", "polyhedral"] if quick else ["auto", "polyhedral", "total_degree"]
        if name == "mehta-222":
            routes = ["strata"] + (["polyhedral"] if not quick else [])
        for route in routes:
            if route == "strata":
                rows.append(_strata_row(name, bb, workers))
                continue
            t0 = time.perf_counter()
            r = solve(system, start=route, options=TrackConfig(seed=1, workers=workers))
            rows.append(_row(name, f"{route} ({r.start_system})" if route == "auto" else route, r.n_paths,
                             r.n_solutions, r.n_certified, time.perf_counter() - t0, bb))
            rows[-1]["completeness"] = r.completeness
    return rows


def _strata_row(name: str, bb: dict, workers: int | None) -> dict:
    """Mehta (2,2,2) by the default `critical` route: per-stratum monodromy with exact Macaulay2 counts."""
    from theory.network.activations import parse
    from theory.counting.stratified_count import StrataConfig, critical_monodromy
    from theory.network.spec import NetworkSpec

    spec = NetworkSpec.fully_connected(2, 2, 2, parse("z"), output_dim=2, bias=False, output_activation=False)
    t0 = time.perf_counter()
    m = critical_monodromy(spec, 1, seed=0, config=StrataConfig(options=TrackConfig(seed=0, workers=workers)))
    paths = sum(c.monodromy.paths_tracked for c in m.components if c.monodromy) + len(m.solutions)
    row = _row(name, "strata monodromy", paths, m.n_isolated,
               m.certification.n_distinct if m.certification else None, time.perf_counter() - t0, bb)
    row["completeness"] = m.completeness
    return row


def worker_speedup(quick: bool) -> list[dict]:
    """Return the whole solve's and the tracking part's wall time with 1 and 2 workers."""
    name, polys = ("katsura-6", katsura(6)) if quick else ("katsura-7", katsura(7))
    system = from_strings(polys, label=name)
    out = []
    for w in (1, 2):
        t0 = time.perf_counter()
        r = solve(system, start="total_degree", options=TrackConfig(seed=1, workers=w), certify=False)
        out.append({"system": name, "workers": w, "paths": r.n_paths, "found": r.n_solutions,
                    "seconds": time.perf_counter() - t0, "tracking_seconds": r.n_paths / r.paths_per_second})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the smaller systems and fewer routes")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the measurements as JSON")
    args = ap.parse_args()
    phc.load()
    out = {"phcpack": phc.version(), "cores": os.cpu_count(), "rows": compare(args.quick, args.workers),
           "workers": worker_speedup(args.quick)}
    print(f"{out['phcpack']}; {out['cores']} cores; blackbox = phcpy.solver.solve in a worker, one task")
    print(f"\n{'system':<10} {'route':<26} {'paths':>6} {'found':>6} {'cert':>5} {'wall s':>7} {'bb s':>7} "
          f"{'bb found (+t=0)':>16} {'ratio':>6}")
    for r in out["rows"]:
        bbf = f"{r['blackbox_found']} (+{r['blackbox_found_t0']})"
        print(f"{r['system']:<10} {r['route']:<26} {r['paths']:>6} {r['found']:>6} {str(r['certified']):>5} "
              f"{r['seconds']:>7.2f} {r['blackbox_seconds']:>7.2f} {bbf:>16} {r['ratio']:>6.2f}")
    w1, w2 = out["workers"]
    print(f"\n{w1['system']} total degree, {w1['paths']} paths: 1 worker {w1['seconds']:.2f} s "
          f"(tracking {w1['tracking_seconds']:.2f} s), 2 workers {w2['seconds']:.2f} s (tracking "
          f"{w2['tracking_seconds']:.2f} s): speedup {w1['seconds'] / w2['seconds']:.2f}x whole, "
          f"{w1['tracking_seconds'] / w2['tracking_seconds']:.2f}x tracking")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
