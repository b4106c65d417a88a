"""Polynomial activations: exact user polynomials and polynomial approximations of the ReLU.

Theory II (Poggio & Liao 2017, §3.1) replaces the ReLU by a univariate polynomial P of degree
ℓ(ε) that is ε-close to it in the sup norm on a bounded interval [−R, R] (footnote 1 there), so
that a depth-d network becomes a polynomial map of the weights. This module builds such P three
ways (Chebyshev interpolation, least-squares Legendre projection, discrete minimax), measures the
sup-norm error exactly up to floating-point root finding, and finds the smallest ℓ reaching ε.

Note on parity: ReLU(z) = z/2 + |z|/2, and |z| is even, so for every symmetric scheme here the
degree-ℓ approximation with ℓ odd equals the one of degree ℓ − 1. ReLU approximations of exact odd
degree therefore do not arise from these schemes; user polynomials of any degree do.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError

RELU_METHODS = ("chebyshev", "legendre", "minimax")


def _as_fraction(value: Any) -> Fraction:
    """Return `value` as an exact Fraction (floats convert exactly, strings like '1/4' or '0.25' parse)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise InvalidSpecError(f"activation coefficient {value!r} is not finite")
        return Fraction(float(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise InvalidSpecError(f"cannot read coefficient {value!r}") from exc
    try:  # sympy Rational and friends
        return Fraction(int(value.p), int(value.q))
    except AttributeError as exc:
        raise InvalidSpecError(f"cannot use {value!r} as a coefficient") from exc


@dataclass(frozen=True)
class PolyActivation:
    """A univariate polynomial activation P(z) = c_0 + c_1 z + ... + c_ℓ z^ℓ with exact coefficients.

    Fields:
        coeffs: exact rational coefficients, lowest degree first; the leading one is nonzero.
        name: a short label ('relu-legendre', 'z^2', ...).
        radius: half-width R of the interval [−R, R] on which P approximates the ReLU, if it does.
    """

    coeffs: tuple[Fraction, ...]
    name: str = "custom"
    radius: Fraction | None = None

    def __post_init__(self) -> None:
        coeffs = [_as_fraction(c) for c in self.coeffs]
        while coeffs and coeffs[-1] == 0:
            coeffs.pop()
        if not coeffs or len(coeffs) == 1:
            raise InvalidSpecError("the activation must be a non-constant polynomial (degree >= 1)")
        object.__setattr__(self, "coeffs", tuple(coeffs))
        if self.radius is not None:
            object.__setattr__(self, "radius", _as_fraction(self.radius))

    @property
    def degree(self) -> int:
        """Return ℓ, the exact degree of P."""
        return len(self.coeffs) - 1

    @property
    def is_linear(self) -> bool:
        """Return True for degree 1 (the network is then a deep linear network)."""
        return self.degree == 1

    def __call__(self, z: Any, coerce: Callable[[Fraction], Any] = float) -> Any:
        """Return P(z) by Horner's rule; `coerce` maps each exact coefficient into z's ring."""
        acc = coerce(self.coeffs[-1])
        for c in reversed(self.coeffs[:-1]):
            acc = acc * z
            if c != 0:
                acc = acc + coerce(c)
        return acc

    def derivative(self) -> "PolyActivation | Fraction":
        """Return P′ (a PolyActivation, or a Fraction when P is linear)."""
        dc = [k * c for k, c in enumerate(self.coeffs)][1:]
        if len(dc) == 1:
            return dc[0]
        return PolyActivation(tuple(dc), name=f"d/dz {self.name}")

    def float_coeffs(self) -> np.ndarray:
        """Return the coefficients as a float array, lowest degree first."""
        return np.array([float(c) for c in self.coeffs])

    def to_string(self, var: str = "z") -> str:
        """Return P as a readable polynomial string with exact coefficients ('1/2*z + z^2')."""
        parts = []
        for k, c in enumerate(self.coeffs):
            if c == 0:
                continue
            mono = "" if k == 0 else (var if k == 1 else f"{var}^{k}")
            if k == 0:
                term = str(c)
            elif c == 1:
                term = mono
            elif c == -1:
                term = f"-{mono}"
            else:
                term = f"{c}*{mono}"
            parts.append(term)
        return " + ".join(parts).replace("+ -", "- ")

    def to_dict(self) -> dict:
        """Return a JSON-serialisable description (exact coefficients as strings)."""
        return {"name": self.name, "degree": self.degree, "coeffs": [str(c) for c in self.coeffs],
                "radius": None if self.radius is None else str(self.radius),
                "polynomial": self.to_string()}

    @classmethod
    def from_dict(cls, data: dict) -> "PolyActivation":
        """Inverse of `to_dict`."""
        return cls(tuple(Fraction(c) for c in data["coeffs"]), name=data.get("name", "custom"),
                   radius=None if data.get("radius") is None else Fraction(data["radius"]))


def linear() -> PolyActivation:
    """Return the identity P(z) = z: networks with it are deep linear networks."""
    return PolyActivation((Fraction(0), Fraction(1)), name="linear")


_POLY_TEXT = re.compile(r"^[0-9zx+\-*/^.() \t]+$")


def parse(text: str) -> PolyActivation:
    """Return the activation written as a polynomial in z (or x), e.g. 'z^2' or 'z + z^2/4'.

    Also accepts comma-separated coefficients, lowest degree first ('0, 1, 1/4'), and the names
    'linear', 'relu-chebyshev:L', 'relu-legendre:L', 'relu-minimax:L' (optionally ':L:R').
    """
    text = text.strip()
    if not text:
        raise InvalidSpecError("empty activation")
    lowered = text.lower()
    if lowered == "linear":
        return linear()
    if lowered.startswith("relu-"):
        parts = lowered.split(":")
        method = parts[0][len("relu-"):]
        try:
            degree = int(parts[1])
            radius = Fraction(parts[2]) if len(parts) > 2 else Fraction(1)
        except (IndexError, ValueError, ZeroDivisionError) as exc:
            raise InvalidSpecError(f"write {parts[0]}:DEGREE[:RADIUS], got {text!r}") from exc
        return relu_approximation(degree, method=method, radius=radius)
    if "," in text:
        return PolyActivation(tuple(_as_fraction(p) for p in text.split(",")), name=text)
    if not _POLY_TEXT.match(text):
        raise InvalidSpecError(f"cannot read activation {text!r}: write a polynomial in z, e.g. 'z + z^2/4'")
    # refuse huge exponents before sympy expands anything ('(z+1)^100000' would take minutes)
    exponents = [int(e) for e in re.findall(r"(?:\^|\*\*)\s*\(?\s*(\d+)", text)]
    if exponents and max(exponents) > MAX_DEGREE:
        raise InvalidSpecError(f"activation {text!r} has an exponent {max(exponents)}: at most "
                               f"{MAX_DEGREE} is supported")
    import sympy
    from sympy.polys.polyerrors import BasePolynomialError

    z = sympy.Symbol("z")
    try:
        expr = sympy.sympify(text.replace("^", "**").replace("x", "z"), locals={"z": z}, rational=True)
        poly = sympy.Poly(expr, z, domain="QQ")
        coeffs = [Fraction(int(c.p), int(c.q)) for c in reversed(poly.all_coeffs())]
    except (sympy.SympifyError, BasePolynomialError, SyntaxError, TypeError, ValueError, ZeroDivisionError,
            AttributeError) as exc:
        raise InvalidSpecError(f"cannot read activation {text!r}: not a polynomial in z with finite "
                               f"rational coefficients") from exc
    if len(coeffs) - 1 > MAX_DEGREE:
        raise InvalidSpecError(f"activation {text!r} has degree {len(coeffs) - 1}: at most "
                               f"{MAX_DEGREE} is supported")
    return PolyActivation(tuple(coeffs), name=text)


def relu(z: np.ndarray) -> np.ndarray:
    """Return max(z, 0)."""
    return np.maximum(z, 0.0)


# ----------------------------------------------------------------------------------------------
# ReLU approximations on [−R, R]
#
# Every scheme here is scale-equivariant: its degree-ℓ approximation on [−R, R] is P_R(z) = R·q(z/R)
# with q the one on [−1, 1] (ReLU(Rs) = R·ReLU(s); Chebyshev nodes, the L² projection and the minimax
# polynomial all scale with the interval). So q is computed once per degree, in the basis the scheme
# is built in (Chebyshev or Legendre), where Clenshaw evaluation is accurate at every degree. Networks
# get the monomial form, converted from that basis exactly in rationals; errors are never measured in
# it, because evaluating it in floating point cancels about ℓ·log10(2) digits (garbage beyond ℓ ≈ 40).

MAX_DEGREE = 400  # the largest degree accepted: the minimax LP then still takes seconds
RADIUS_RANGE = (Fraction(1, 10**6), Fraction(10**6))  # coefficients scale as R^(1−k); keep them printable


def _check_method(method: str) -> None:
    if method not in RELU_METHODS:
        raise InvalidSpecError(f"unknown ReLU approximation {method!r}: choose one of {', '.join(RELU_METHODS)}")


def _check_degree(degree: int) -> None:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
        raise InvalidSpecError(f"activation degree must be a positive integer, got {degree!r}")
    if degree > MAX_DEGREE:
        raise InvalidSpecError(f"activation degree {degree} is too large (at most {MAX_DEGREE})")


def _radius(radius: Fraction | float) -> Fraction:
    """Return R exactly and in range; a float is read as the shortest decimal printing it (what the user typed)."""
    if isinstance(radius, (float, np.floating)) and math.isfinite(radius):
        value = Fraction(repr(float(radius)))  # 0.1 → 1/10, so that R^k stays a short rational
    else:
        value = _as_fraction(radius)
    if value <= 0:
        raise InvalidSpecError(f"approximation radius must be positive, got {radius}")
    lo, hi = RADIUS_RANGE
    if not lo <= value <= hi:
        shown = f"{float(value):g}" if value < 10**300 else "more than 1e300"
        raise InvalidSpecError(f"approximation radius must lie in [{float(lo):g}, {float(hi):g}], got {shown} "
                               "(the degree-k coefficient scales as R^(1-k))")
    return value


def _refuse_lower_degree(method: str, degree: int, exact: int) -> None:
    """Raise unless the scheme's polynomial has the requested degree (odd ℓ ≥ 3 never does)."""
    if exact != degree:
        raise InvalidSpecError(
            f"the {method} approximation of ReLU of degree {degree} has exact degree {exact} "
            f"(ReLU's even part |z|/2 has no odd terms); use an even degree or --activation 'z + z^{degree}'")


@lru_cache(maxsize=None)
def _legendre_power(k: int) -> tuple[Fraction, ...]:
    """Return the power-basis coefficients of the Legendre polynomial P_k, exactly.

    P_k(s) = 2^{−k} Σ_j (−1)^j C(k, j) C(2k − 2j, k) s^{k−2j} (Rodrigues' formula expanded).
    """
    out = [Fraction(0)] * (k + 1)
    for j in range(k // 2 + 1):
        out[k - 2 * j] = Fraction((-1) ** j * math.comb(k, j) * math.comb(2 * k - 2 * j, k), 2**k)
    return tuple(out)


@lru_cache(maxsize=None)
def _chebyshev_power(k: int) -> tuple[int, ...]:
    """Return the power-basis coefficients of the Chebyshev polynomial T_k (integers).

    T_k(s) = (k/2) Σ_j (−1)^j (k−j−1)! / (j! (k−2j)!) (2s)^{k−2j} for k ≥ 1, the explicit form of
    T_k = 2s·T_{k−1} − T_{k−2}; with (k−j−1)!/(j!(k−2j)!) = C(k−j, j)/(k−j) every term is an integer.
    """
    if k == 0:
        return (1,)
    out = [0] * (k + 1)
    for j in range(k // 2 + 1):
        out[k - 2 * j] = (-1) ** j * (k * math.comb(k - j, j) * 2 ** (k - 2 * j) // (2 * (k - j)))
    return tuple(out)


def _legendre_unit(degree: int) -> tuple[Fraction, ...]:
    """Return the exact Legendre coefficients c_0..c_ℓ of the L²([−1, 1]) projection of ReLU.

    c_k = (2k+1)/2 ∫_0^1 s P_k(s) ds: c_0 = 1/4, c_1 = 1/2, c_k = 0 for odd k ≥ 3 (orthogonality to s),
    and for k = 2n ≥ 2, c_k = (−1)^{n+1} (4n+1)(2n−2)! / (2^{2n+1} (n−1)! (n+1)!) (the expansion of |s|/2).
    """
    return _legendre_relu_all()[: degree + 1]


@lru_cache(maxsize=1)
def _legendre_relu_all() -> tuple[Fraction, ...]:
    """Return `_legendre_unit(MAX_DEGREE)`: a projection's coefficients do not depend on its degree."""
    out = [Fraction(0)] * (MAX_DEGREE + 1)
    out[0] = Fraction(1, 4)
    out[1] = Fraction(1, 2)
    for k in range(2, MAX_DEGREE + 1, 2):
        n = k // 2
        out[k] = Fraction((-1) ** (n + 1) * (4 * n + 1) * math.factorial(2 * n - 2),
                          2 ** (2 * n + 1) * math.factorial(n - 1) * math.factorial(n + 1))
    return tuple(out)


@lru_cache(maxsize=None)
def _chebyshev_unit(degree: int) -> tuple[float, ...]:
    """Return the Chebyshev coefficients of the ReLU interpolant at the ℓ+1 Chebyshev points of [−1, 1]."""
    coef = np.polynomial.chebyshev.chebinterpolate(relu, degree)
    # Parity: the nodes are symmetric, so the interpolant is s/2 plus the (even) interpolant of |s|/2;
    # the odd coefficients it computes beyond c_1 are rounding noise, exactly 0 in exact arithmetic.
    coef[1::2] = 0.0
    coef[1] = 0.5
    return tuple(float(c) for c in coef)


@lru_cache(maxsize=None)
def _minimax_unit(degree: int, grid: int = 4001) -> tuple[tuple[float, ...], float]:
    """Return (Chebyshev coefficients, LP optimum t) of the discrete minimax ReLU polynomial on [−1, 1].

    min_{p, t} t s.t. |p(s_j) − ReLU(s_j)| ≤ t on the Chebyshev grid s_j, solved by scipy.optimize.linprog
    (HiGHS) in the Chebyshev basis for conditioning; by parity p = s/2 + (even part), so only the even
    part, fitted to |s|/2 on s_j ≥ 0, is optimised. t never increases with ℓ (nested feasible sets).
    """
    from scipy.optimize import linprog

    s = np.cos(np.pi * (np.arange(grid) + 0.5) / grid)
    s = s[s >= 0]
    even = list(range(0, degree + 1, 2))
    basis = np.polynomial.chebyshev.chebvander(s, degree)[:, even]
    target = 0.5 * s
    m = len(even)
    c = np.zeros(m + 1)
    c[-1] = 1.0
    ones = np.ones((len(s), 1))
    a_ub = np.vstack([np.hstack([basis, -ones]), np.hstack([-basis, -ones])])
    b_ub = np.concatenate([target, -target])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * (m + 1), method="highs")
    if not res.success:  # pragma: no cover - HiGHS solves these small LPs
        raise InvalidSpecError(f"minimax LP failed: {res.message}")
    coef = np.zeros(max(degree + 1, 2))
    coef[even] = res.x[:m]
    coef[1] = 0.5
    return tuple(float(v) for v in coef), float(res.x[-1])


def _unit_series(degree: int, method: str) -> np.polynomial.Chebyshev | np.polynomial.Legendre:
    """Return the degree-ℓ approximation q on [−1, 1] as a numpy series in its scheme's basis."""
    _check_method(method)
    _check_degree(degree)
    if method == "legendre":
        series = np.polynomial.Legendre([float(c) for c in _legendre_unit(degree)])
    elif method == "chebyshev":
        series = np.polynomial.Chebyshev(_chebyshev_unit(degree))
    else:
        series = np.polynomial.Chebyshev(_minimax_unit(degree)[0])
    nonzero = np.flatnonzero(series.coef)
    _refuse_lower_degree(method, degree, int(nonzero[-1]))
    return series


def relu_series(degree: int, method: str = "legendre",
                radius: Fraction | float = 1) -> np.polynomial.Chebyshev | np.polynomial.Legendre:
    """Return the degree-ℓ ReLU approximation by `method` on [−R, R] as a numpy series (domain [−R, R]).

    P_R(z) = R·q(z/R) with q in the basis the scheme is built in (Legendre for the L² projection,
    Chebyshev otherwise); numpy evaluates it by Clenshaw's recurrence, accurate to a few ulps of
    max|P_R| at every degree, unlike the monomial form (see the section note).
    """
    r = float(_radius(radius))
    unit = _unit_series(degree, method)
    return type(unit)(r * unit.coef, domain=[-r, r])


def _power_from(unit: Sequence[Fraction], basis: Callable[[int], Sequence[Any]], radius: Fraction) -> tuple:
    """Return the monomial coefficients of R·Σ_k c_k B_k(z/R), exactly (B_k's power form from `basis`)."""
    power = [Fraction(0)] * len(unit)
    for k, c in enumerate(unit):
        if c:
            for i, b in enumerate(basis(k)):
                if b:
                    power[i] += c * b
    return tuple(c * radius ** (1 - i) for i, c in enumerate(power))


def relu_legendre(degree: int, radius: Fraction | float = 1) -> PolyActivation:
    """Return the L²([−R, R]) projection of the ReLU onto polynomials of degree ≤ ℓ, exactly.

    With s = z/R, ReLU(Rs) = R·max(s, 0) = R Σ_k c_k P_k(s), c_k = (2k+1)/2 ∫_0^1 s P_k(s) ds in closed
    form, converted to monomials in exact rational arithmetic (Theory II §3.1 mentions the Legendre expansion).
    """
    r = _radius(radius)
    _check_degree(degree)
    return PolyActivation(_power_from(_legendre_unit(degree), _legendre_power, r),
                          name=f"relu-legendre:{degree}", radius=r)


def relu_chebyshev(degree: int, radius: Fraction | float = 1) -> PolyActivation:
    """Return the interpolant of the ReLU at the ℓ+1 Chebyshev points of the first kind on [−R, R].

    numpy.polynomial.chebyshev interpolates on [−1, 1]; its float Chebyshev coefficients are taken as
    exact dyadic rationals and converted to monomials exactly, so the polynomial is exactly that series.
    """
    r = _radius(radius)
    _check_degree(degree)
    unit = [Fraction(c) for c in _chebyshev_unit(degree)]
    return PolyActivation(_power_from(unit, _chebyshev_power, r), name=f"relu-chebyshev:{degree}", radius=r)


def relu_minimax(degree: int, radius: Fraction | float = 1, grid: int = 4001) -> PolyActivation:
    """Return the best uniform approximation of the ReLU on a fine Chebyshev grid of [−R, R].

    The discrete minimax problem is a linear programme in the Chebyshev basis (see `_minimax_unit`);
    its float Chebyshev coefficients are converted to monomials exactly.
    """
    r = _radius(radius)
    _check_degree(degree)
    unit = [Fraction(c) for c in _minimax_unit(degree, grid)[0]]
    return PolyActivation(_power_from(unit, _chebyshev_power, r), name=f"relu-minimax:{degree}", radius=r)


def relu_approximation(degree: int, method: str = "legendre", radius: Fraction | float = 1) -> PolyActivation:
    """Return the ReLU approximation of degree ℓ by `method` (chebyshev | legendre | minimax).

    Raises InvalidSpecError when the scheme's polynomial has lower degree than asked (odd ℓ ≥ 3,
    see the module note), so that a requested degree is never silently replaced.
    """
    _check_method(method)
    builders = {"chebyshev": relu_chebyshev, "legendre": relu_legendre, "minimax": relu_minimax}
    act = builders[method](degree, radius)
    _refuse_lower_degree(method, degree, act.degree)
    return act


@dataclass(frozen=True)
class ApproximationError(Serializable):
    """Sup-norm error of a polynomial against the ReLU on [−R, R].

    Fields:
        sup_error: max_{|z| ≤ R} |P(z) − ReLU(z)|.
        argmax: a point where it is attained.
    """

    sup_error: float
    argmax: float


def _pieces(p: np.polynomial.Chebyshev | np.polynomial.Legendre) -> list[tuple[Any, float, float]]:
    """Return (error series, lo, hi) for the two pieces of p − ReLU on p's domain [−R, R]: p and p − z."""
    r = float(p.domain[1])
    return [(p, -r, 0.0), (p - p.identity(domain=p.domain, window=p.window), 0.0, r)]


def _largest(err: Any, points: np.ndarray, best: ApproximationError) -> ApproximationError:
    """Return the larger of `best` and max |err| over `points`."""
    vals = np.abs(err(points))
    i = int(np.argmax(vals))
    return ApproximationError(float(vals[i]), float(points[i])) if vals[i] > best.sup_error else best


def _grid_error(p: np.polynomial.Chebyshev | np.polynomial.Legendre) -> ApproximationError:
    """Return max |p − ReLU| over 2ℓ+3 Chebyshev points of each piece (endpoints included): a lower bound.

    Every point is a genuine point of [−R, R], so this never exceeds the sup error; it is cheap (no
    root finding) and, for these approximations, within a few per cent of it.
    """
    best = ApproximationError(-1.0, 0.0)
    for err, lo, hi in _pieces(p):
        n = 2 * err.degree() + 2
        best = _largest(err, (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * np.arange(n + 1) / n), best)
    return best


def _sup_against_relu(p: np.polynomial.Chebyshev | np.polynomial.Legendre) -> ApproximationError:
    """Return max |p − ReLU| on p's domain [−R, R], p a numpy series: max over the two pieces.

    On [−R, 0] the error is p, on [0, R] it is p − z; each extremum lies at an endpoint or a real
    critical point, a root of p′ (resp. p′ − 1), found as eigenvalues of the colleague (Chebyshev) or
    Legendre companion matrix, which are well conditioned on the interval, unlike monomial roots.
    The grid of `_grid_error` is kept as a guard should the eigensolver lose a root.
    """
    best = _grid_error(p)
    for err, lo, hi in _pieces(p):
        r = hi - lo
        roots = err.deriv().roots() if err.degree() >= 2 else np.zeros(0)
        # A real root perturbed off the axis comes back with a small imaginary part; keep those generously:
        # every candidate is a genuine point of the piece, so an extra one can never raise the maximum.
        near = roots.real[(np.abs(roots.imag) <= 1e-3 * r) & (roots.real > lo - 1e-3 * r) & (roots.real < hi + 1e-3 * r)]
        best = _largest(err, np.clip(near, lo, hi), best) if near.size else best
    return best


def _chebyshev_series(act: PolyActivation, radius: Fraction) -> np.polynomial.Chebyshev:
    """Return P on [−R, R] as a Chebyshev series, converted from its monomials exactly, then rounded.

    With b_n = a_n R^n, P(Rs) = Σ b_n s^n and s^n = 2^{1−n} Σ_j C(n, j) T_{n−2j}(s), the T_0 term halved.
    """
    b = [c * radius**n for n, c in enumerate(act.coeffs)]
    cheb = [Fraction(0)] * len(b)
    for n, bn in enumerate(b):
        if bn:
            for j in range(n // 2 + 1):
                k = n - 2 * j
                cheb[k] += bn * math.comb(n, j) / Fraction(2 ** (n if k == 0 else n - 1))
    try:
        coef = [float(c) for c in cheb]
    except OverflowError as exc:
        raise InvalidSpecError(f"{act.name} exceeds the float range on [-R, R] (R = {float(radius):g})") from exc
    r = float(radius)
    return np.polynomial.Chebyshev(coef, domain=[-r, r])


def sup_error(act: PolyActivation, radius: Fraction | float | None = None) -> ApproximationError:
    """Return max_{|z|≤R} |P(z) − ReLU(z)| for any polynomial P, from the endpoints and the critical points.

    P's exact monomial coefficients are converted to the Chebyshev basis of [−R, R] exactly and only
    then rounded, so the result is accurate at any degree (see `_sup_against_relu`).
    """
    r = _radius(radius if radius is not None else (act.radius or 1))
    return _sup_against_relu(_chebyshev_series(act, r))


@lru_cache(maxsize=None)
def _unit_sup_error(degree: int, method: str) -> ApproximationError:
    """Return the sup error of the degree-ℓ approximation q on [−1, 1] (cached: the ℓ(ε) search reuses it)."""
    return _sup_against_relu(_unit_series(degree, method))


def relu_sup_error(degree: int, method: str = "legendre", radius: Fraction | float = 1) -> ApproximationError:
    """Return the sup error on [−R, R] of the degree-ℓ ReLU approximation by `method`, from its series.

    By scale equivariance (P_R(z) = R·q(z/R)) it is R times the error of q on [−1, 1], found as in
    `_sup_against_relu`; equal to `sup_error(relu_approximation(ℓ, method, R))` without the monomial form.
    """
    r = float(_radius(radius))
    _check_degree(degree)
    unit = _unit_sup_error(int(degree), method)
    return ApproximationError(sup_error=r * unit.sup_error, argmax=r * unit.argmax)


@dataclass(frozen=True)
class DegreeForAccuracy(Serializable):
    """The smallest degree ℓ(ε) whose approximation reaches sup error ≤ ε on [−R, R].

    Fields:
        degree: ℓ(ε).
        sup_error: the error reached at ℓ(ε).
        previous_error: the error at the candidate degree below ℓ(ε) (> ε), None for ℓ(ε) = 1.
        method, epsilon, radius, max_degree: the query.
        errors: (degree, sup error) for every degree whose sup error was computed, increasing degree.
        lower_bounds: (degree, b) for the degrees rejected from a lower bound b > ε on their sup error
            without computing it: the largest error at grid points, or for minimax the LP optimum.
    """

    degree: int
    sup_error: float
    previous_error: float | None
    method: str
    epsilon: float
    radius: float
    max_degree: int
    errors: tuple[tuple[int, float], ...] = field(default=())
    lower_bounds: tuple[tuple[int, float], ...] = field(default=())


@lru_cache(maxsize=None)
def _unit_lower_bound(degree: int, method: str) -> float:
    """Return a lower bound on the unit sup error that costs no root finding (`_grid_error`)."""
    return _grid_error(_unit_series(degree, method)).sup_error


def _first_at_most(values: Callable[[int], float], n: int, bound: float, guess: int = 0) -> int:
    """Return the least i < n with values(i) ≤ bound for a nonincreasing sequence (n if none).

    Galloping from `guess` (doubling steps down or up) brackets the answer, bisection finds it.
    """
    hi = min(max(guess, 0), n - 1)
    step = 1
    if values(hi) <= bound:
        lo = hi - step
        while lo >= 0 and values(lo) <= bound:
            hi, step = lo, 2 * step
            lo = hi - step
        lo = max(lo, -1)
    else:
        lo = hi
        while values(hi) > bound:
            if hi == n - 1:
                return n
            lo, hi, step = hi, min(hi + step, n - 1), 2 * step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if values(mid) <= bound:
            hi = mid
        else:
            lo = mid
    return hi


def degree_for_accuracy(epsilon: float, method: str = "legendre", radius: Fraction | float = 1.0,
                        max_degree: int = MAX_DEGREE) -> DegreeForAccuracy:
    """Return ℓ(ε): the smallest degree whose ReLU approximation by `method` has sup error ≤ ε on [−R, R].

    Candidates are 1 and the even degrees up to `max_degree` (odd ones repeat the even degree below).
    Chebyshev and Legendre are scanned upward. For minimax the LP optimum t_ℓ, which never increases
    with ℓ and bounds the sup error from below, is bisected first: every degree with t_ℓ > ε fails, so
    scanning upward from the first degree with t_ℓ ≤ ε still returns the minimal degree.
    Raises InvalidSpecError naming --max-degree when no candidate reaches ε.
    """
    if not (epsilon > 0) or not math.isfinite(epsilon):
        raise InvalidSpecError(f"epsilon must be a positive number, got {epsilon!r}")
    _check_method(method)
    if isinstance(max_degree, bool) or not isinstance(max_degree, (int, np.integer)) \
            or not 1 <= max_degree <= MAX_DEGREE:
        raise InvalidSpecError(f"--max-degree must be an integer in [1, {MAX_DEGREE}], got {max_degree!r}")
    r = float(_radius(radius))
    unit_eps = epsilon / r  # errors scale with R
    degrees = [1] + list(range(2, int(max_degree) + 1, 2))
    errors: dict[int, float] = {}
    bounds: dict[int, float] = {}

    def error(d: int) -> float:
        if d not in errors:
            errors[d] = _unit_sup_error(d, method).sup_error
        return errors[d]

    start = 0
    if method == "minimax":
        def lp_bound(i: int) -> float:
            t = _minimax_unit(degrees[i])[1]
            if t > unit_eps:
                bounds[degrees[i]] = t
            return t

        # Bernstein: ℓ·E_ℓ → 0.1401 on [−1, 1] (see the tests), a good place to start the bracket
        guess = degrees.index(min(degrees, key=lambda d: abs(d - 0.1401 / unit_eps)))
        start = _first_at_most(lp_bound, len(degrees), unit_eps, guess)
    found = None
    for d in degrees[start:]:
        low = _unit_lower_bound(d, method)
        if low > unit_eps:  # fails without root finding: the grid already exceeds ε
            bounds[d] = low
        elif error(d) <= unit_eps:
            found = d
            break
    if found is None:
        hint = f"raise --max-degree (at most {MAX_DEGREE}) or ε" if max_degree < MAX_DEGREE else \
            f"{MAX_DEGREE} is the largest degree accepted; raise ε"
        raise InvalidSpecError(f"ε = {epsilon:g} not reached below --max-degree {max_degree} by the {method} "
                               f"approximation (sup error {r * error(degrees[-1]):.3e} at ℓ = {degrees[-1]}); {hint}")
    previous = degrees[degrees.index(found) - 1] if found > 1 else None
    previous_error = None if previous is None else r * error(previous)
    bounds = {d: b for d, b in bounds.items() if d not in errors}
    return DegreeForAccuracy(found, r * errors[found], previous_error, method, float(epsilon), r, int(max_degree),
                             tuple(sorted((d, r * e) for d, e in errors.items())),
                             tuple(sorted((d, r * b) for d, b in bounds.items())))



@dataclass(frozen=True)
class ApproximationTable(Serializable):
    """The sup-norm errors of the three ReLU schemes at chosen degrees, and ℓ(ε) for each (Theory II §3.1).

    radius: R of [−R, R]; epsilon: the target ε; degrees: the tabulated degrees; max_degree: the ℓ(ε) search limit.
    sup_error: scheme → sup-norm error at each of `degrees`.
    degree_for_epsilon: scheme → ℓ(ε); error_at_that_degree: scheme → its sup-norm error.
    """

    radius: float
    epsilon: float
    degrees: tuple[int, ...]
    max_degree: int
    sup_error: dict[str, list[float]]
    degree_for_epsilon: dict[str, int]
    error_at_that_degree: dict[str, float]


def approximation_table(epsilon: float, radius: float = 1.0, degrees: Sequence[int] = (2, 4, 8, 16, 32),
                        max_degree: int = MAX_DEGREE) -> ApproximationTable:
    """Return the ReLU approximation errors of every scheme in RELU_METHODS at `degrees`, and ℓ(ε) of each."""
    errors = {m: [relu_sup_error(d, m, radius).sup_error for d in degrees] for m in RELU_METHODS}
    needed = {m: degree_for_accuracy(epsilon, m, radius, max_degree) for m in RELU_METHODS}
    return ApproximationTable(radius, epsilon, tuple(degrees), max_degree, errors,
                              {m: r.degree for m, r in needed.items()}, {m: r.sup_error for m, r in needed.items()})

def coefficients_of(act: PolyActivation) -> Sequence[Fraction]:
    """Return the exact coefficients, lowest degree first."""
    return act.coeffs
