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

from theory.errors import InvalidSpecError

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
    import sympy

    z = sympy.Symbol("z")
    try:
        expr = sympy.sympify(text.replace("^", "**").replace("x", "z"), locals={"z": z}, rational=True)
        poly = sympy.Poly(expr, z, domain="QQ")
    except (sympy.SympifyError, sympy.PolynomialError, SyntaxError, TypeError) as exc:
        raise InvalidSpecError(f"cannot read activation {text!r}: not a polynomial in z") from exc
    coeffs = [Fraction(int(c.p), int(c.q)) for c in reversed(poly.all_coeffs())]
    return PolyActivation(tuple(coeffs), name=text)


def relu(z: np.ndarray) -> np.ndarray:
    """Return max(z, 0)."""
    return np.maximum(z, 0.0)


# ----------------------------------------------------------------------------------------------
# ReLU approximations on [−R, R]


def _check_degree_radius(degree: int, radius: Fraction) -> None:
    if not isinstance(degree, (int, np.integer)) or degree < 1:
        raise InvalidSpecError(f"activation degree must be a positive integer, got {degree!r}")
    if degree > 400:
        raise InvalidSpecError(f"activation degree {degree} is too large (at most 400)")
    if radius <= 0:
        raise InvalidSpecError(f"approximation radius must be positive, got {radius}")


@lru_cache(maxsize=None)
def _legendre_power(k: int) -> tuple[Fraction, ...]:
    """Return the power-basis coefficients of the Legendre polynomial P_k (exact)."""
    if k == 0:
        return (Fraction(1),)
    if k == 1:
        return (Fraction(0), Fraction(1))
    p1, p0 = _legendre_power(k - 1), _legendre_power(k - 2)
    # (k) P_k = (2k−1) z P_{k−1} − (k−1) P_{k−2}
    out = [Fraction(0)] * (k + 1)
    for i, c in enumerate(p1):
        out[i + 1] += Fraction(2 * k - 1, k) * c
    for i, c in enumerate(p0):
        out[i] -= Fraction(k - 1, k) * c
    return tuple(out)


def relu_legendre(degree: int, radius: Fraction | float = 1) -> PolyActivation:
    """Return the L²([−R, R]) projection of the ReLU onto polynomials of degree ≤ ℓ, exactly.

    With s = z/R, ReLU(Rs) = R·max(s, 0) = Σ_k c_k P_k(s), c_k = (2k+1)/2 · R ∫_0^1 s P_k(s) ds,
    computed in exact rational arithmetic (Theory II §3.1 mentions the Legendre expansion).
    """
    radius = _as_fraction(radius)
    _check_degree_radius(degree, radius)
    poly_s = [Fraction(0)] * (degree + 1)
    for k in range(degree + 1):
        pk = _legendre_power(k)
        integral = sum(c / (i + 2) for i, c in enumerate(pk))  # ∫_0^1 s·s^i ds = 1/(i+2)
        ck = Fraction(2 * k + 1, 2) * radius * integral
        for i, c in enumerate(pk):
            poly_s[i] += ck * c
    coeffs = tuple(c / radius**i for i, c in enumerate(poly_s))  # substitute s = z/R
    return PolyActivation(coeffs, name=f"relu-legendre:{degree}", radius=radius)


def relu_chebyshev(degree: int, radius: Fraction | float = 1) -> PolyActivation:
    """Return the interpolant of the ReLU at the ℓ+1 Chebyshev points of the first kind on [−R, R].

    Uses numpy.polynomial.chebyshev; the float coefficients are stored exactly as dyadic rationals.
    """
    radius = _as_fraction(radius)
    _check_degree_radius(degree, radius)
    r = float(radius)
    cheb = np.polynomial.Chebyshev.interpolate(relu, degree, domain=[-r, r])
    power = cheb.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef
    # Parity: the even part of ReLU is |z|/2, so odd coefficients above 1 vanish in exact arithmetic.
    scale = max(abs(c) for c in power)
    power = [0.0 if (i % 2 == 1 and i > 1) or abs(c) < 1e-13 * scale else c for i, c in enumerate(power)]
    power[1] = 0.5
    return PolyActivation(tuple(power), name=f"relu-chebyshev:{degree}", radius=radius)


def relu_minimax(degree: int, radius: Fraction | float = 1, grid: int = 4001) -> PolyActivation:
    """Return the best uniform approximation of the ReLU on a fine Chebyshev grid of [−R, R].

    Solves the discrete minimax problem min_{p, t} t s.t. |p(z_j) − ReLU(z_j)| ≤ t as a linear
    programme (scipy.optimize.linprog, HiGHS) in the Chebyshev basis for conditioning; by parity
    the odd part is fixed to z/2 and only the even part of |z|/2 is optimised.
    """
    from scipy.optimize import linprog

    radius = _as_fraction(radius)
    _check_degree_radius(degree, radius)
    r = float(radius)
    s = np.cos(np.pi * (np.arange(grid) + 0.5) / grid)  # Chebyshev grid on [−1, 1]
    s = s[s >= 0]
    even = list(range(0, degree + 1, 2))
    basis = np.stack([np.polynomial.chebyshev.chebval(s, [0] * k + [1]) for k in even], axis=1)
    target = 0.5 * np.abs(s)
    m = len(even)
    # variables: (a_0..a_{m−1}, t); minimise t subject to ±(B a − f) ≤ t
    c = np.zeros(m + 1)
    c[-1] = 1.0
    ones = np.ones((len(s), 1))
    a_ub = np.vstack([np.hstack([basis, -ones]), np.hstack([-basis, -ones])])
    b_ub = np.concatenate([target, -target])
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * (m + 1), method="highs")
    if not res.success:  # pragma: no cover - HiGHS solves these tiny LPs
        raise InvalidSpecError(f"minimax LP failed: {res.message}")
    cheb = np.zeros(degree + 1)
    cheb[even] = res.x[:m]
    power_s = np.polynomial.chebyshev.cheb2poly(cheb)
    power_s = np.pad(power_s, (0, max(0, 2 - len(power_s))))
    power_s[1] += 0.5
    coeffs = tuple(float(c) * r ** (1 - i) for i, c in enumerate(power_s))
    return PolyActivation(coeffs, name=f"relu-minimax:{degree}", radius=radius)


def relu_approximation(degree: int, method: str = "legendre", radius: Fraction | float = 1) -> PolyActivation:
    """Return the ReLU approximation of degree ℓ by `method` (chebyshev | legendre | minimax).

    Raises InvalidSpecError when the scheme's polynomial has lower degree than asked (odd ℓ ≥ 3,
    see the module note), so that a requested degree is never silently replaced.
    """
    builders = {"chebyshev": relu_chebyshev, "legendre": relu_legendre, "minimax": relu_minimax}
    if method not in builders:
        raise InvalidSpecError(f"unknown ReLU approximation {method!r}: choose one of {', '.join(RELU_METHODS)}")
    act = builders[method](degree, radius)
    if act.degree != degree:
        raise InvalidSpecError(
            f"the {method} approximation of ReLU of degree {degree} has exact degree {act.degree} "
            f"(ReLU's even part |z|/2 has no odd terms); use an even degree or --activation 'z + z^{degree}'")
    return act


@dataclass(frozen=True)
class ApproximationError:
    """Sup-norm error of a polynomial against the ReLU on [−R, R].

    Fields:
        sup_error: max_{|z| ≤ R} |P(z) − ReLU(z)|.
        argmax: a point where it is attained.
    """

    sup_error: float
    argmax: float


def sup_error(act: PolyActivation, radius: Fraction | float | None = None) -> ApproximationError:
    """Return max_{|z|≤R} |P(z) − ReLU(z)|, from the endpoints and the real critical points.

    On [−R, 0] the error is P, on [0, R] it is P(z) − z; each extremum is at an endpoint or a real
    root of P′ (resp. P′ − 1), found with numpy.roots, so the result is exact up to root accuracy.
    """
    r = float(radius if radius is not None else (act.radius or 1))
    p = np.polynomial.Polynomial(act.float_coeffs())
    pieces = [(p, -r, 0.0), (p - np.polynomial.Polynomial([0, 1]), 0.0, r)]
    best = (-1.0, 0.0)
    for poly, lo, hi in pieces:
        cands = [lo, hi]
        for root in poly.deriv().roots():
            if abs(root.imag) < 1e-9 and lo <= root.real <= hi:
                cands.append(float(root.real))
        for z in cands:
            err = abs(float(poly(z)))
            if err > best[0]:
                best = (err, z)
    return ApproximationError(sup_error=best[0], argmax=best[1])


@dataclass(frozen=True)
class DegreeForAccuracy:
    """The smallest degree ℓ(ε) whose approximation reaches sup error ≤ ε on [−R, R].

    Fields:
        degree: ℓ(ε).
        sup_error: the error reached at ℓ(ε).
        previous_error: the error at the largest tried degree below ℓ(ε) (> ε), None for ℓ = 1.
        method, epsilon, radius: the query.
        errors: (degree, sup_error) for every degree tried.
    """

    degree: int
    sup_error: float
    previous_error: float | None
    method: str
    epsilon: float
    radius: float
    errors: tuple[tuple[int, float], ...] = field(default=())


def degree_for_accuracy(epsilon: float, method: str = "legendre", radius: float = 1.0,
                        max_degree: int = 200) -> DegreeForAccuracy:
    """Return ℓ(ε): the smallest degree whose ReLU approximation by `method` has sup error ≤ ε.

    Degrees are searched upward from 1 (even degrees only beyond 1, by the parity note), so the
    answer is minimal among the scheme's approximations.
    """
    if not (epsilon > 0) or not math.isfinite(epsilon):
        raise InvalidSpecError(f"epsilon must be a positive number, got {epsilon!r}")
    errors: list[tuple[int, float]] = []
    for degree in [1] + list(range(2, max_degree + 1, 2)):
        act = _best_affine(method, radius) if degree == 1 else relu_approximation(degree, method, radius)
        err = sup_error(act, radius).sup_error
        errors.append((degree, err))
        if err <= epsilon:
            prev = errors[-2][1] if len(errors) > 1 else None
            return DegreeForAccuracy(degree, err, prev, method, float(epsilon), float(radius), tuple(errors))
    raise InvalidSpecError(f"no {method} approximation of degree <= {max_degree} reaches epsilon={epsilon}")


def _best_affine(method: str, radius: float) -> PolyActivation:
    """Return the scheme's degree-1 ReLU approximation: z/2 + c (c by Legendre or minimax/Chebyshev)."""
    r = _as_fraction(radius)
    # Legendre: the mean of |z|/2 on [−R, R] is R/4; minimax: |z|/2 equioscillates around R/4;
    # Chebyshev: interpolating |z|/2 at the two nodes ±R/√2 gives R/(2√2).
    c0 = Fraction(float(radius) / (2 * math.sqrt(2))) if method == "chebyshev" else r / 4
    return PolyActivation((c0, Fraction(1, 2)), name=f"relu-{method}:1", radius=r)


def coefficients_of(act: PolyActivation) -> Sequence[Fraction]:
    """Return the exact coefficients, lowest degree first."""
    return act.coeffs
