"""Benchmark: python-flint (FLINT/Arb) against the toolkit's own code, for the two jobs it could take over.

Run: .venv/bin/python benchmarks/flint_compare.py
Prints wall times on one core (BLAS limited to one thread):
  1. rank mod p = 2^31 − 1 of the networks' modular Jacobians (`theory.bounds.jacobian.modular_jacobian_fast`):
     `theory.bounds.rank.rank_mod_p_fast` (blocked elimination, float64 BLAS on 16-bit limbs) against
     `flint.nmod_mat(...).rank()` (conversion from numpy included), both exact;
  2. Krawczyk certification of critical points (`theory.counting.certify.certify`, vectorised numpy interval
     arithmetic with outward rounding) against the same Krawczyk test written with Arb balls
     (`flint.acb`, `flint.acb_mat`): K(X) = x̃ − Y f(x̃) + (I − Y·Df(X))(X − x̃) ⊂ int X.
Both sides must agree on every rank and every certificate; the script says so.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import flint  # noqa: E402
except ImportError:
    sys.exit("flint_compare.py: python-flint is not installed: .venv/bin/pip install '.[bench]'")

from theory.network.activations import linear, parse  # noqa: E402
from theory.counting.certify import certify, terms_from_sympy  # noqa: E402
from theory.counting.stratified_count import StrataConfig, critical_monodromy  # noqa: E402
from theory.network.data import random_data  # noqa: E402
from theory.counting.genericity import generic_penalty  # noqa: E402
from theory.bounds.jacobian import modular_jacobian_fast  # noqa: E402
from theory.network.spec import NetworkSpec  # noqa: E402
from theory.bounds.rank import FAST_PRIME, rank_mod_p_fast  # noqa: E402
from theory.network.equations import CriticalSystem  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def flint_matrix(J: np.ndarray, p: int):
    """Return J as FLINT's nmod_mat (the conversion from numpy, timed apart from the rank)."""
    rows, cols = J.shape
    return flint.nmod_mat(rows, cols, J.ravel().tolist(), p)


RANK_CASES = [  # (layers, degree, width, points): the last is `bezout --layers 5 --degree 4 --width 57 --points 1000`
    (2, 2, 8, 30), (3, 3, 20, 200), (4, 4, 40, 600), (5, 4, 57, 1000)]


def rank_rows() -> list[tuple]:
    out = []
    for layers, degree, width, points in RANK_CASES:
        act = parse("z + " + " + ".join(f"z^{k}/{2 ** k}" for k in range(2, degree + 1)))
        spec = NetworkSpec.fully_connected(1, width, layers, act, output_activation=False)
        X = random_data(spec, points, 0).X
        J = modular_jacobian_fast(spec, X, 0, FAST_PRIME)
        t_own, r_own = timed(lambda: rank_mod_p_fast(J, FAST_PRIME))
        t_conv, M = timed(lambda: flint_matrix(J, FAST_PRIME))
        t_fl, r_fl = timed(M.rank)
        out.append((f"{layers}x{width} deg {degree}, N {points}", J.shape, r_own, r_fl, t_own, t_fl, t_conv))
    return out


def _acb_terms(terms):
    """Return per equation a list of (acb coefficient ball, exponent tuple)."""
    eqs = []
    for c, e, r in zip(terms.coefficients, terms.exponents, terms.coefficient_radii):
        eqs.append([(flint.acb(flint.arb(float(ci.real), float(ri)), flint.arb(float(ci.imag), float(ri))),
                     tuple(int(v) for v in ei)) for ci, ei, ri in zip(c, e, r)])
    return eqs


def _mono(x, e):
    out = flint.acb(1)
    for xi, k in zip(x, e):
        if k:
            out *= xi ** k
    return out


def _eval(eqs, x):
    return [sum((c * _mono(x, e) for c, e in eq), flint.acb(0)) for eq in eqs]


def _jac(eqs, x):
    n = len(x)
    J = []
    for eq in eqs:
        row = []
        for j in range(n):
            s = flint.acb(0)
            for c, e in eq:
                if e[j]:
                    d = list(e)
                    d[j] -= 1
                    s += c * e[j] * _mono(x, d)
            row.append(s)
        J.append(row)
    return J


def krawczyk_acb(eqs, xt: np.ndarray, factors=(4.0, 16.0, 64.0)) -> bool:
    """Return whether some box ⟨x̃, ρ·c⟩ is proved to hold exactly one zero (Krawczyk with Arb balls)."""
    n = len(xt)
    pt = [flint.acb(complex(v)) for v in xt]
    Jd = np.array([[complex(v.mid()) for v in row] for row in _jac(eqs, pt)])
    Y = np.linalg.inv(Jd)
    Ya = flint.acb_mat([[flint.acb(complex(v)) for v in row] for row in Y])
    f = flint.acb_mat([[v] for v in _eval(eqs, pt)])
    Yf = Ya * f
    rho = max(float(abs(Yf[i, 0]).upper()) for i in range(n))
    for c in factors:
        r = max(rho * c, 1e-300)
        box = [flint.acb(flint.arb(float(v.real), r), flint.arb(float(v.imag), r)) for v in xt]
        J = flint.acb_mat(_jac(eqs, box))
        M = flint.acb_mat(n, n, [flint.acb(int(i == j)) for i in range(n) for j in range(n)]) - Ya * J
        d = flint.acb_mat([[flint.acb(flint.arb(0, r), flint.arb(0, r))] for _ in range(n)])
        K = M * d - Yf  # K(X) − x̃
        if all(float(abs(K[i, 0]).upper()) < r for i in range(n)):
            return True
    return False


def certify_rows() -> list[tuple]:
    out = []
    for widths in [(3, 1, 3), (2, 2, 2), (3, 2, 3)]:
        spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
        m = critical_monodromy(spec, 1, seed=0, config=StrataConfig(certify=False))
        sols = m.solution_array()
        polys = CriticalSystem(spec, random_data(spec, 1, 0), generic_penalty(spec.n_params, 0)).polynomials()
        terms = terms_from_sympy([p.as_expr() for p in polys], list(polys[0].ring.symbols))
        t_own, res = timed(lambda: certify(terms, sols))
        eqs = _acb_terms(terms)
        t_fl, oks = timed(lambda: [krawczyk_acb(eqs, x) for x in sols])
        out.append((f"deep linear {widths}", len(sols), res.n_certified, sum(oks), t_own, t_fl))
    return out


def main() -> None:
    from importlib.metadata import version
    print(f"python-flint {version('python-flint')}")
    print("\n1. rank mod 2^31 - 1 of modular Jacobians (s, one core)")
    print(f"{'network':28} {'shape':>14} {'rank own':>9} {'rank flint':>10} {'own s':>8} {'flint s':>8} "
          f"{'+convert s':>10}")
    for name, shape, r1, r2, t1, t2, t3 in rank_rows():
        print(f"{name:28} {str(shape):>14} {r1:>9} {r2:>10} {t1:>8.3f} {t2:>8.3f} {t3:>10.3f}"
              + ("" if r1 == r2 else "  DISAGREE"))
    print("\n2. Krawczyk certification of all critical points (s, one core)")
    print(f"{'system':28} {'points':>7} {'own ok':>7} {'acb ok':>7} {'own s':>8} {'acb s':>8}")
    for name, n, c1, c2, t1, t2 in certify_rows():
        print(f"{name:28} {n:>7} {c1:>7} {c2:>7} {t1:>8.3f} {t2:>8.3f}" + ("" if c1 == c2 else "  DISAGREE"))


if __name__ == "__main__":
    main()
