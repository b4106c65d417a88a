"""Krawczyk certificates in arbitrary-precision ball arithmetic (Arb, through python-flint), for zeros
that the double-precision test (`theory.counting.certify`) cannot certify.

In binary64 the Krawczyk test K(X) = x̃ − Y f(x̃) + (I − Y·Df(X))(X − x̃) ⊂ int X fails at
ill-conditioned zeros: x̃ is only accurate to about cond(Df)·u·‖x‖, so the box must be at least that
large, and then ‖(I − Y·Df(X))‖ ≈ ‖Y‖·‖D²f‖·r ≈ cond²·u exceeds 1 once cond ≳ 10⁸. At p bits the
same argument gives cond²·2⁻ᵖ, so raising p certifies every regular zero eventually. Here, at
p = 128, 256, 512 bits in turn: Newton's method refines x̃ with f and Df evaluated in Arb balls
(exact rational coefficients, so the certificate is for the exact system); Y is the midpoint
inverse of Df(x̃); X is the box of half-width r = 8·‖Y f(x̃)‖ around x̃ (each coordinate a square
in C, real and imaginary radius r); K(X) is evaluated in ball arithmetic, and K(X) ⊂ int X proves
exactly one zero in X, a regular one (Krawczyk 1969; Rump 1983; Breiding, Rose, Timme 2020,
arXiv:2011.05000, Thm 3.2). Arb's balls are rigorous by construction (Johansson, "Arb: efficient
arbitrary-precision midpoint-radius interval arithmetic", IEEE Trans. Computers 66, 2017).

Real zeros: for real coefficients a box centred at Re x̃ is its own complex conjugate, so the zero
it holds is real. Distinctness and reality of the whole set are decided by `theory.counting.certify.combine`
from the enclosures, in the same way as for double-precision certificates.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from landscape_core.errors import SolverError
from landscape_core.serialize import Serializable

PRECISIONS = (128, 256, 512)  # bits tried in turn
BOX_FACTOR = 8  # box half-width as a multiple of the Newton step bound ‖Y f(x̃)‖
NEWTON_STEPS = 12
METHOD = "Krawczyk operator in Arb ball arithmetic (python-flint), exact rational coefficients"
INSTALL_HINT = "pip install python-flint"


def _flint():
    try:
        import flint
    except ImportError:
        raise SolverError(f"high-precision certification needs python-flint: {INSTALL_HINT}") from None
    return flint


@dataclass(frozen=True)
class BallCertificate(Serializable):
    """The high-precision certificate of one approximate zero.

    Fields:
        index: position of the approximation in the input.
        certified: K(X) ⊂ int X was proved at some precision.
        precision: the working precision in bits of the certificate (0 when not certified).
        centre: x̃ rounded to complex128 (the exact centre has `precision` bits).
        radius: half-width r of the box X (0.0 when not certified), an upper bound as a float.
        enclosure_centre: midpoint of K(X) rounded to complex128.
        enclosure_radius: an upper bound on max_k |K(X)_k − enclosure_centre_k| (inf when not certified),
            including the rounding of the midpoint to complex128.
        real: True: certified real (real-centred box); False: K(X) excludes the real axis in some
            coordinate; None: not decided.
        reason: why it is, or is not, certified.
    """

    index: int
    certified: bool
    precision: int
    centre: tuple[complex, ...]
    radius: float
    enclosure_centre: tuple[complex, ...]
    enclosure_radius: float
    real: bool | None
    reason: str


class _ExactSystem:
    """A square polynomial system with exact rational coefficients, evaluated (with its Jacobian) in Arb balls."""

    def __init__(self, polys: Sequence[Sequence[tuple[tuple[int, ...], Fraction]]], n: int) -> None:
        self.n = n
        self.f = [list(p) for p in polys]
        self.df = [[self._diff(p, j) for j in range(n)] for p in self.f]
        self.max_exp = max((e for p in self.f for m, _ in p for e in m), default=1)

    @staticmethod
    def _diff(poly, j: int):
        out = []
        for m, c in poly:
            if m[j]:
                d = list(m)
                d[j] -= 1
                out.append((tuple(d), c * m[j]))
        return out

    def _terms(self, prec: int):
        # coefficients as acb balls at this precision (exact rationals: radius 0 or one ulp of prec)
        flint = _flint()
        with _precision(prec):
            conv = lambda c: flint.acb(flint.arb(flint.fmpq(c.numerator, c.denominator)))  # noqa: E731
            f = [[(m, conv(c)) for m, c in p] for p in self.f]
            df = [[[(m, conv(c)) for m, c in q] for q in row] for row in self.df]
        return f, df

    def compiled(self, prec: int):
        key = ("terms", prec)
        if not hasattr(self, "_cache"):
            self._cache = {}
        if key not in self._cache:
            self._cache[key] = self._terms(prec)
        return self._cache[key]

    def evaluate(self, x: list, prec: int, jacobian: bool = True):
        """Return (f(x), Df(x)) as lists of acb balls, x a list of acb."""
        flint = _flint()
        f_terms, df_terms = self.compiled(prec)
        with _precision(prec):
            one = flint.acb(1)
            powers = []
            for xj in x:
                row = [one]
                for _ in range(self.max_exp):
                    row.append(row[-1] * xj)
                powers.append(row)

            def value(terms):
                total = flint.acb(0)
                for m, c in terms:
                    t = c
                    for j, e in enumerate(m):
                        if e:
                            t = t * powers[j][e]
                    total += t
                return total

            fx = [value(p) for p in f_terms]
            J = [[value(q) for q in row] for row in df_terms] if jacobian else None
        return fx, J


class _precision:
    """Set python-flint's working precision (bits) inside a block."""

    def __init__(self, bits: int) -> None:
        self.bits = bits

    def __enter__(self):
        flint = _flint()
        self.saved = flint.ctx.prec
        flint.ctx.prec = self.bits
        return self

    def __exit__(self, *exc) -> None:
        _flint().ctx.prec = self.saved


def exact_system(polys) -> _ExactSystem:
    """Return the exact system of sympy PolyElements over QQ (their ring's generators are the variables)."""
    ring = polys[0].ring
    n = len(ring.gens)
    rows = []
    for p in polys:
        rows.append([(tuple(int(e) for e in m), Fraction(int(c.numerator), int(c.denominator))) for m, c in p.terms()])
    return _ExactSystem(rows, n)


def _mid_matrix(J, flint):
    return flint.acb_mat([[v.mid() for v in row] for row in J])


def _newton(system: _ExactSystem, x0: np.ndarray, prec: int):
    """Return x̃ (list of exact acb midpoints) after Newton steps at `prec` bits, or None if it diverged."""
    flint = _flint()
    with _precision(prec):
        x = [flint.acb(complex(v).real, complex(v).imag) for v in x0]
        tol = flint.arb(2) ** (-(prec - 12))
        for _ in range(NEWTON_STEPS):
            fx, J = system.evaluate(x, prec)
            try:
                dx = _mid_matrix(J, flint).solve(flint.acb_mat([[v.mid()] for v in fx]))
            except (ZeroDivisionError, ValueError):
                return None
            step = [dx[k, 0].mid() for k in range(system.n)]
            x = [(xi - di).mid() for xi, di in zip(x, step)]
            size = max(abs(complex(xi)) for xi in x) + 1
            if not all(d.is_finite() for d in step) or size > 1e300:
                return None
            if max(abs(complex(d)) for d in step) <= float(tol) * size:
                break
    return x


def _krawczyk_at(system: _ExactSystem, x: list, prec: int, real_centre: bool):
    """Return (ok, box radius r, K(X) as acb list) for the box of half-width 8‖Y f(x̃)‖ around x̃."""
    flint = _flint()
    n = system.n
    with _precision(prec):
        if real_centre:
            x = [flint.acb(xi.real.mid()) for xi in x]
        fx, J = system.evaluate(x, prec)
        try:
            Y = _mid_matrix(J, flint).inv()
        except (ZeroDivisionError, ValueError):
            return False, 0.0, None
        Y = flint.acb_mat([[Y[i, j].mid() for j in range(n)] for i in range(n)])
        step = Y * flint.acb_mat([[v] for v in fx])
        bound = max((abs(step[k, 0]).upper() for k in range(n)), default=flint.arb(0))
        floor = flint.arb(2) ** (-(prec - 4)) * (1 + max(abs(complex(xi)) for xi in x))
        r = flint.arb(BOX_FACTOR) * (bound + floor)
        r = r.upper()
        ball = flint.arb(0, r)
        X = [flint.acb(xi.real + ball, xi.imag + ball) for xi in x]
        _, JX = system.evaluate(X, prec)
        M = flint.acb_mat([[(1 if i == j else 0) for j in range(n)] for i in range(n)]) - Y * flint.acb_mat(JX)
        D = flint.acb_mat([[flint.acb(ball, ball)] for _ in range(n)])
        K = [x[k] - step[k, 0] + (M * D)[k, 0] for k in range(n)]
        ok = all(X[k].contains_interior(K[k]) for k in range(n))
    return ok, r, K


def _to_float_enclosure(K: list, prec: int) -> tuple[tuple[complex, ...], float]:
    """Return (midpoints as complex128, a float upper bound on the radius including the rounding)."""
    centre = tuple(complex(float(k.real.mid()), float(k.imag.mid())) for k in K)
    u = 2.0 ** -52
    rad = 0.0
    for k, c in zip(K, centre):
        exact = float(k.real.rad()) + float(k.imag.rad())
        rad = max(rad, exact + u * (abs(c.real) + abs(c.imag)) + 2.0 ** -1000)
    return centre, float(np.nextafter(rad * (1 + 4 * u), np.inf))


def certify_balls(polys, points: np.ndarray, indices: Sequence[int] | None = None,
                  precisions: Sequence[int] = PRECISIONS, real_coefficients: bool = True) -> tuple[BallCertificate, ...]:
    """Return Arb Krawczyk certificates of approximate zeros of an exact system (sympy PolyElements over QQ).

    Each point is refined by Newton's method and tested at each precision in turn until one
    certifies (see the module docstring); with real coefficients a real-centred box is tried first
    for points within 1e-6 of the real space, which certifies the zero real.
    """
    system = polys if isinstance(polys, _ExactSystem) else exact_system(polys)
    pts = np.asarray(points, dtype=complex).reshape(-1, system.n)
    idx = list(range(len(pts))) if indices is None else list(indices)
    out = []
    for k, x0 in zip(idx, pts):
        out.append(_certify_one(system, k, x0, precisions, real_coefficients))
    return tuple(out)


def _certify_one(system: _ExactSystem, index: int, x0: np.ndarray, precisions: Sequence[int],
                 real_coefficients: bool) -> BallCertificate:
    if not np.all(np.isfinite(x0)):
        return BallCertificate(index, False, 0, tuple(complex(v) for v in x0), 0.0, tuple(complex(v) for v in x0),
                               float("inf"), None, "non-finite approximation")
    reason = "Newton's method diverged at every precision"
    for prec in precisions:
        x = _newton(system, x0, prec)
        if x is None:
            continue
        near_real = max(abs(complex(v).imag) for v in x) <= 1e-6 * (1 + max(abs(complex(v)) for v in x))
        tries = ([True] if real_coefficients and near_real else []) + [False]
        for real_centre in tries:
            ok, r, K = _krawczyk_at(system, x, prec, real_centre)
            if ok:
                centre, rad = _to_float_enclosure(K, prec)
                real = True if real_centre else (False if any(abs(c.imag) > rad for c in centre) else None)
                return BallCertificate(index, True, prec, tuple(complex(v) for v in x), float(r), centre, rad, real,
                                       f"certified at {prec} bits: K(X) lies in the interior of X")
        reason = f"Krawczyk inclusion failed at {', '.join(map(str, precisions))} bits"
    return BallCertificate(index, False, 0, tuple(complex(v) for v in x0), 0.0, tuple(complex(v) for v in x0),
                           float("inf"), None, reason)
