"""Benchmark: certified degrees and bounds without expansion, against sympy expansion of one equation.

Run: .venv/bin/python benchmarks/bezout.py [--full]
Prints wall times and the ratio (expansion time / certified-degree time) for networks where sympy can
still expand one zero-error equation; --full adds a 2-layer width-3 degree-4 case (slow).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from theory.network.activations import relu_legendre  # noqa: E402
from theory.bounds.bezout import bezout_report  # noqa: E402
from theory.network.data import random_data  # noqa: E402
from theory.bounds.degrees import measured_zero_error_degrees  # noqa: E402
from theory.network.spec import NetworkSpec  # noqa: E402
from theory.network.equations import ZeroErrorSystem  # noqa: E402


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="include a slow 2-layer width-3 degree-4 expansion")
    args = parser.parse_args()
    cases = [(2, 2, 2), (3, 2, 2), (2, 2, 4)] + ([(2, 3, 4)] if args.full else [])
    print(f"{'network':<28} {'terms':>8} {'sympy expand':>13} {'certified degree':>17} {'ratio':>8}")
    for layers, width, degree in cases:
        act = relu_legendre(degree)
        spec = NetworkSpec.fully_connected(2, width, layers, act)
        data = random_data(spec, 1, 0)
        system = ZeroErrorSystem(spec, data)
        t_exp, polys = timed(lambda: system.polynomials(max_terms=10**9))
        t_deg, measured = timed(lambda: measured_zero_error_degrees(spec, data.X, data.Y, seed=0), repeat=3)
        assert measured[0].total == max(sum(m) for m in polys[0].monoms())
        name = f"{layers} layers, width {width}, ℓ={act.degree}"
        print(f"{name:<28} {len(polys[0]):>8,} {t_exp:>12.3f}s {t_deg * 1e3:>15.2f}ms {t_exp / t_deg:>8.0f}")
    t, r = timed(lambda: bezout_report(NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4)), 8, seed=0), repeat=3)
    print(f"\nbezout --layers 3 --degree 4 --points 8 (degree {r.degree}, K={r.n_params}): full report in {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
