"""Benchmark: Krawczyk certification of all d^n zeros of a dense system with known zeros; disks vs mpmath iv.

Run: .venv/bin/python benchmarks/certify.py
The system g(x) = f(A⁻¹x), f_i(u) = Π_{k=1..d}(u_i − k), has the zeros x = A·u, u ∈ {1..d}ⁿ, and dense
expanded terms. Prints the wall time of `certify` per case, and the time of one interval evaluation of
f and Df over one box in numpy disk arithmetic against mpmath's `iv` (rectangular complex intervals).
"""
from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from theory.counting.certify import _compile, _evaluate, certify, terms_from_sympy  # noqa: E402


def case(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, size=(n, n)) + 4 * np.eye(n, dtype=int)
    x = sp.symbols(f"x0:{n}")
    u = sp.Matrix(a).inv() * sp.Matrix(x)
    polys = [sp.expand(sp.prod(u[i] - k for k in range(1, d + 1))) for i in range(n)]
    zeros = np.array([a @ np.array(p, float) for p in itertools.product(range(1, d + 1), repeat=n)], complex)
    zeros *= 1 + 1e-12 * rng.normal(size=zeros.shape)
    return terms_from_sympy(polys, x), zeros, polys, x


def mpmath_iv_eval(polys, gens, centre, r):
    from mpmath import iv
    box = {g: iv.mpc(iv.mpf([c.real - r, c.real + r]), iv.mpf([c.imag - r, c.imag + r])) for g, c in zip(gens, centre)}
    fns = [sp.lambdify(gens, p, modules=[{"__builtins__": None}, "mpmath"]) for p in polys]
    jac = [sp.lambdify(gens, sp.diff(p, g), "mpmath") for p in polys for g in gens]
    t0 = time.perf_counter()
    for fn in fns + jac:
        fn(*[box[g] for g in gens])
    return time.perf_counter() - t0


def main() -> None:
    print(f"{'n':>3} {'d':>3} {'zeros':>6} {'terms':>6} {'certified':>10} {'distinct':>9} {'real':>5} {'certify s':>10}"
          f" {'1 box disks s':>14} {'1 box mpmath iv s':>18}")
    for n, d in [(2, 3), (3, 3), (4, 3), (5, 2), (6, 2), (8, 2)]:
        terms, zeros, polys, gens = case(n, d)
        t0 = time.perf_counter()
        result = certify(terms, zeros)
        t_cert = time.perf_counter() - t0
        system = _compile(terms)
        t0 = time.perf_counter()
        for _ in range(10):
            _evaluate(system.f, zeros[:1], np.full((1, n), 1e-8))
            _evaluate(system.df, zeros[:1], np.full((1, n), 1e-8))
        t_disk = (time.perf_counter() - t0) / 10
        t_iv = mpmath_iv_eval(polys, gens, zeros[0], 1e-8)
        n_terms = sum(c.size for c in terms.coefficients)
        print(f"{n:>3} {d:>3} {len(zeros):>6} {n_terms:>6} {result.n_certified:>10} {result.n_distinct:>9}"
              f" {result.n_real:>5} {t_cert:>10.3f} {t_disk:>14.5f} {t_iv:>18.5f}")


if __name__ == "__main__":
    main()
