#!/usr/bin/env python3
"""Benchmark: the toolkit's default route, PHCpack's blackbox solver and Bertini 2 on the same systems, one run.

For katsura-7/8, cyclic-6/7, noon-4 and Mehta (2,2,2) (the critical system of the deep linear
network fc 2-2-2 on one point with a generic penalty): the distinct regular solutions each engine
finds and its wall time, and the ratios toolkit / blackbox and toolkit / Bertini. The toolkit's
default route is `solve --start auto` (the start system with the fewest paths) for the classical
systems and per-stratum monodromy with Macaulay2's exact counts (`critical`'s default) for Mehta
(2,2,2); its time includes the Krawczyk certification of every solution. The blackbox is
`phcpy.solver.solve` in a worker process (`benchmarks/homotopy.py`); Bertini 2 is `bertini.solve`
(total degree, adaptive precision by default) through `theory.homotopy.bertini`, certification off. The
load average is printed beside the figures (the machine may be shared).

Usage: .venv/bin/python benchmarks/engines.py [--quick] [--bertini-precision adaptive|double] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from homotopy import blackbox  # noqa: E402  (benchmarks/homotopy.py: the blackbox solver, timed)

from theory.homotopy import bertini, phcpack as phc  # noqa: E402
from theory.polynomials.catalog import cyclic, katsura, mehta_critical, noon  # noqa: E402
from theory.polynomials.system import from_strings  # noqa: E402
from theory.homotopy.solve import solve  # noqa: E402
from theory.homotopy.tracker import TrackConfig  # noqa: E402


def systems(quick: bool) -> list[tuple[str, object]]:
    out = [("noon-4", from_strings(noon(4), label="noon-4")),
           ("katsura-7", from_strings(katsura(7), label="katsura-7")),
           ("cyclic-6", from_strings(cyclic(6), label="cyclic-6")),
           ("mehta-222", mehta_critical(2, 2))]
    if not quick:
        out += [("katsura-8", from_strings(katsura(8), label="katsura-8")),
                ("cyclic-7", from_strings(cyclic(7), label="cyclic-7"))]
    return out


def toolkit(name: str, system) -> dict:
    """Return the toolkit's default route on `system`: found, certified, seconds, route."""
    t0 = time.perf_counter()
    if name == "mehta-222":
        from theory.network.activations import parse
        from theory.counting.stratified_count import critical_monodromy
        from theory.network.spec import NetworkSpec
        spec = NetworkSpec.fully_connected(2, 2, 2, parse("z"), output_dim=2, bias=False, output_activation=False)
        m = critical_monodromy(spec, 1, seed=0)
        return {"route": "strata monodromy + M2", "found": m.n_isolated,
                "certified": m.certification.n_distinct if m.certification else None,
                "seconds": time.perf_counter() - t0, "proof": m.returncode.value}
    r = solve(system, start="auto", options=TrackConfig(seed=1))
    return {"route": f"auto ({r.start_system})", "found": r.n_solutions, "certified": r.n_certified,
            "seconds": time.perf_counter() - t0, "proof": "complete" if r.bkk_complete else "not proved"}


def bertini_row(system, mptype: str) -> dict:
    if not bertini.available():
        return {"found": None, "seconds": None, "paths": None, "note": "bertini2 not installed"}
    t0 = time.perf_counter()
    r = bertini.solve_bertini(system, seed=1, mptype=mptype, certify=False, mixed_volume=False)
    return {"found": r.n_solutions, "seconds": time.perf_counter() - t0, "paths": r.n_paths,
            "failed": r.outcomes["failed"], "note": ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="noon-4, katsura-7, cyclic-6, Mehta (2,2,2) only")
    ap.add_argument("--bertini-precision", choices=bertini.MPTYPES, default="adaptive")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the measurements as JSON")
    args = ap.parse_args()
    phc.load()
    rows = []
    load0 = os.getloadavg()
    for name, system in systems(args.quick):
        bb = blackbox(list(system.polys))
        ours = toolkit(name, system)
        bert = bertini_row(system, args.bertini_precision)
        rows.append({"system": name, "toolkit": ours, "blackbox": bb, "bertini": bert})
        print(f"{name}: toolkit {ours['found']} in {ours['seconds']:.2f} s; blackbox {bb['found_t1']} "
              f"(+{bb['found_t0']} at t = 0) in {bb['seconds']:.2f} s; bertini {bert['found']} in "
              f"{bert['seconds'] if bert['seconds'] is None else round(bert['seconds'], 2)} s", file=sys.stderr)
    load1 = os.getloadavg()
    print(f"{phc.version()}; bertini2 {'installed' if bertini.available() else 'absent'} "
          f"({args.bertini_precision} precision); {os.cpu_count()} cores; load average before "
          f"{load0[0]:.2f}, after {load1[0]:.2f}")
    print(f"\n{'system':<10} {'toolkit route':<24} {'found':>6} {'cert':>5} {'s':>7} | {'blackbox':>9} {'s':>7} | "
          f"{'bertini':>8} {'s':>7} | {'ours/bb':>7} {'ours/bertini':>12}")
    for r in rows:
        o, b, t = r["toolkit"], r["blackbox"], r["bertini"]
        ratio_b = "—" if not t["seconds"] else f"{o['seconds'] / t['seconds']:.2f}"
        print(f"{r['system']:<10} {o['route']:<24} {o['found']:>6} {str(o['certified']):>5} {o['seconds']:>7.2f} | "
              f"{str(b['found_t1']) + '+' + str(b['found_t0']):>9} {b['seconds']:>7.2f} | {str(t['found']):>8} "
              f"{(t['seconds'] or 0):>7.2f} | {o['seconds'] / b['seconds']:>7.2f} {ratio_b:>12}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"load": [load0, load1], "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
