"""A posteriori certificates for regular zeros of square polynomial systems: the Krawczyk test.

Given an approximate zero x̃ of f: Cⁿ → Cⁿ, a floating-point Y ≈ Df(x̃)⁻¹ and the box
X = {x : |x_k − x̃_k| ≤ r for every k} (a product of complex disks), the Krawczyk operator

    K(X) = x̃ − Y f(x̃) + (I − Y·Df(X))(X − x̃)

is enclosed in rigorous interval arithmetic. If K(X) ⊂ interior(X), then (Krawczyk 1969; Rump 1983;
Breiding, Rose, Timme 2020, arXiv:2011.05000, Theorem 3.2 and Section 4, HomotopyContinuation.jl's
`certify`):
  - X holds exactly one zero z of f, z ∈ K(X) ∩ X, and Df(z) is invertible (z is regular);
  - the simplified Newton map x ↦ x − Y f(x) maps X into itself and is a contraction there in the
    max-modulus norm (every row sum of |I − Y·Df(X)| is below 1), so it converges to z from any x ∈ X.
The proof: f(x) − f(x̃) = ∫₀¹ Df(x̃ + t(x − x̃)) dt · (x − x̃), and the averaged Jacobian lies in the
(convex) disk enclosure of Df(X); Brouwer's theorem gives existence, the contraction uniqueness.

Consequences drawn by `certify`:
  - distinct: z_i lies in its enclosure E_i = K(X_i); disjoint enclosures hold distinct zeros, and
    E_i ⊂ X_j means z_i = z_j (uniqueness in X_j). Pairs neither way are retried with one Krawczyk box
    around both; `n_distinct` is always a proved lower bound, exact when no pair stays undecided.
  - real: for real coefficients, a box centred at a real point is its own complex conjugate; conj(z)
    is then a zero in X, so z = conj(z) is real. An enclosure whose imaginary part excludes 0 in some
    coordinate proves z non-real (for any coefficients).

Rigour (midpoint-radius complex disk arithmetic, as in Rump, "Fast and parallel interval arithmetic",
BIT 39 (1999), and INTLAB; no rounding-mode switches). A disk ⟨c, ρ⟩ is {z : |z − c| ≤ ρ}. IEEE-754
binary64 with round-to-nearest is assumed (u = 2⁻⁵³, η = 2⁻¹⁰⁷⁴ the smallest subnormal):
  - sum:     ⟨a, α⟩ + ⟨b, β⟩ ⊂ ⟨fl(a + b), α + β + u|fl(a + b)|⟩ (each component rounds by ≤ u of itself);
  - product: ⟨a, α⟩·⟨b, β⟩ ⊂ ⟨fl(ab), |a|β + α|b| + αβ + 3u‖a‖₁‖b‖₁ + 4η⟩: the exact product set is
    in ⟨ab, |a|β + α|b| + αβ⟩, and the componentwise formula (with or without FMA) errs by at most
    u(1 + u)‖a‖₁‖b‖₁ + u‖fl(ab)‖₁ + 2η per component (Higham, Accuracy and Stability, §3.6);
  - an n-term sum Σ⟨c_i, ρ_i⟩ ⊂ ⟨fl(Σc_i), Σρ_i + γ_{n−1}Σ‖c_i‖₁⟩, γ_k = ku/(1 − ku) ≤ 2ku, any order
    (Higham, Accuracy and Stability, Lemma 3.1 and §4.2);
  - every radius is itself computed in floating point, from nonnegative terms; a value computed by at
    most m such operations is below the exact one by at most the factor (1 − u)^m (plus ≤ η/2 per
    underflowing product), so `_up` returns fl(x·(1 + (2m + 4)u)) + (m + 1)η moved one ulp up, which
    bounds it above; moduli |a| come from sqrt(re² + im²) with IEEE-exact-rounded operations.
Coefficients that floats cannot hold exactly (1/3, 0.1 parsed as a decimal) are kept as disks around
their nearest float, so the certificate is for the exact system. Overflow gives inf or nan, which is
never certified.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy as sp

from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError

U = 2.0 ** -53      # unit roundoff of binary64, round-to-nearest
ETA = 2.0 ** -1074  # smallest positive subnormal: bound on the absolute error of an underflowing product
SQRT_ETA_SLACK = 2.0 ** -535  # ≥ sqrt(2η): what underflow in re² + im² can hide from a modulus
METHOD = "Krawczyk operator in complex midpoint-radius disk arithmetic (Breiding-Rose-Timme 2020)"
RADIUS_FACTORS = (64.0, 8.0, 2.0)  # box radii tried, as multiples of the rigorous Newton-step bound


# ---------------------------------------------------------------------------------------------
# Input: polynomials as expanded terms
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolyTerms(Serializable):
    """A polynomial system as expanded terms, one entry per equation.

    coefficients: complex128 arrays, one per equation (terms,).
    exponents: int64 arrays, one per equation (terms × n_variables), nonnegative.
    coefficient_radii: float arrays (terms,): each exact coefficient lies within this modulus of the
        stored float (0 where the float is exact).
    variables: the variable names, in the column order of `exponents`.
    real: whether the exact coefficients are all real.
    """

    coefficients: tuple[np.ndarray, ...]
    exponents: tuple[np.ndarray, ...]
    coefficient_radii: tuple[np.ndarray, ...]
    variables: tuple[str, ...]
    real: bool

    @property
    def n_equations(self) -> int:
        return len(self.coefficients)

    @property
    def n_variables(self) -> int:
        return len(self.variables)

    @classmethod
    def from_arrays(cls, coefficients: Sequence, exponents: Sequence, radii: Sequence | None = None,
                    variables: Sequence[str] | None = None) -> "PolyTerms":
        """Return the system Σ_t c_t x^{e_t} per equation from coefficient and exponent arrays (validated)."""
        if len(coefficients) != len(exponents):
            raise InvalidSpecError("one coefficient array and one exponent matrix per equation are needed")
        coeffs, exps, rads = [], [], []
        n = None
        for k, (c, e) in enumerate(zip(coefficients, exponents)):
            c = np.atleast_1d(np.asarray(c, dtype=complex))
            e = np.asarray(e)
            if e.ndim == 1 and c.size == 1:
                e = e[None, :]
            if e.ndim != 2 or e.shape[0] != c.size:
                raise InvalidSpecError(f"equation {k}: exponents must be a (terms × variables) matrix matching the coefficients")
            if not np.all(np.isfinite(c)):
                raise InvalidSpecError(f"equation {k}: non-finite coefficient")
            if e.size and (np.any(e < 0) or np.any(e != np.round(e))):
                raise InvalidSpecError(f"equation {k}: exponents must be nonnegative integers")
            if n is None:
                n = e.shape[1]
            elif e.shape[1] != n:
                raise InvalidSpecError("all exponent matrices need the same number of columns")
            r = np.zeros(c.size) if radii is None else np.asarray(radii[k], dtype=float).reshape(c.shape)
            if np.any(r < 0) or not np.all(np.isfinite(r)):
                raise InvalidSpecError(f"equation {k}: coefficient radii must be finite and nonnegative")
            coeffs.append(c)
            exps.append(e.astype(np.int64))
            rads.append(r)
        n = 0 if n is None else n
        names = tuple(variables) if variables is not None else tuple(f"x{k}" for k in range(n))
        if len(names) != n:
            raise InvalidSpecError(f"{len(names)} variable names for {n} exponent columns")
        real = all(np.all(c.imag == 0) for c in coeffs)
        return cls(tuple(coeffs), tuple(exps), tuple(rads), names, bool(real))


def _exact_float(q: sp.Expr, what: str) -> tuple[float, float]:
    """Return (nearest float of the real rational/Float q, an upper bound on |q − float|)."""
    if not (q.is_Rational or q.is_Float):
        raise InvalidSpecError(f"{what}: coefficient {q} is not a rational or floating-point number")
    rational = sp.Rational(q)  # exact, also for a Float (its binary mantissa and exponent)
    exact = Fraction(int(rational.p), int(rational.q))
    try:
        value = float(exact)  # Fraction → float is correctly rounded
    except OverflowError as exc:
        raise InvalidSpecError(f"{what}: coefficient {q} overflows a float") from exc
    err = abs(Fraction(value) - exact)
    bound = float(err)
    if Fraction(bound) < err:
        bound = float(np.nextafter(bound, np.inf))
    return value, bound


def terms_from_sympy(polys: Sequence, gens: Sequence[sp.Symbol]) -> PolyTerms:
    """Return the expanded terms of sympy expressions or `Poly`s in `gens`; exact coefficients become disks.

    A coefficient a + bi (a, b rational or sympy Floats) is stored as fl(a) + fl(b)i with radius
    |a − fl(a)| + |b − fl(b)| (rounded up), so certificates hold for the exact system.
    """
    gens = tuple(gens)
    coeffs, exps, rads = [], [], []
    real = True
    for k, p in enumerate(polys):
        expr = p.as_expr() if isinstance(p, sp.Poly) else sp.sympify(p)
        extra = expr.free_symbols - set(gens)
        if extra:
            raise InvalidSpecError(f"equation {k}: symbols {sorted(map(str, extra))} are not among the variables")
        poly = sp.Poly(expr, *gens)
        c_row, e_row, r_row = [], [], []
        for monom, coeff in poly.terms():
            re, im = sp.sympify(coeff).as_real_imag()
            fre, ere = _exact_float(re, f"equation {k}")
            fim, eim = _exact_float(im, f"equation {k}")
            real = real and im == 0
            c_row.append(complex(fre, fim))
            e_row.append(monom)
            r_row.append(float(_up(np.array(ere + eim), 1)) if ere or eim else 0.0)
        coeffs.append(np.array(c_row, dtype=complex))
        exps.append(np.array(e_row, dtype=np.int64).reshape(len(e_row), len(gens)))
        rads.append(np.array(r_row, dtype=float))
    return PolyTerms(tuple(coeffs), tuple(exps), tuple(rads), tuple(str(g) for g in gens), bool(real))


def terms_from_strings(polys: Sequence[str], names: Sequence[str]) -> PolyTerms:
    """Return the expanded terms of PHCpack-syntax polynomials (`*`, `^`, `i` the imaginary unit, `;` ends).

    Decimal literals are read as exact rationals (sympy's `rationalize`), so `0.1` means 1/10 and is
    certified as such.
    """
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, rationalize, standard_transformations

    if "i" in names or "I" in names:
        raise InvalidSpecError("'i' is the imaginary unit in PHCpack syntax and cannot name a variable")
    gens = [sp.Symbol(name) for name in names]
    local = {name: g for name, g in zip(names, gens)}
    local["i"] = sp.I
    transformations = standard_transformations + (convert_xor, rationalize)
    exprs = []
    for k, text in enumerate(polys):
        body = text.strip().rstrip(";").strip()
        try:
            exprs.append(parse_expr(body, local_dict=local, transformations=transformations))
        except (SyntaxError, TypeError, sp.SympifyError) as exc:
            raise InvalidSpecError(f"equation {k}: cannot parse {text!r}") from exc
    return terms_from_sympy(exprs, gens)


def as_terms(terms) -> PolyTerms:
    """Return `terms` as `PolyTerms`: itself, or built from a sequence of (coefficients, exponents) pairs."""
    if isinstance(terms, PolyTerms):
        return terms
    pairs = list(terms)
    return PolyTerms.from_arrays([c for c, _ in pairs], [e for _, e in pairs])


# ---------------------------------------------------------------------------------------------
# Rigorous complex disk arithmetic (see the module docstring for the bounds)
# ---------------------------------------------------------------------------------------------

def _up(x: np.ndarray, ops: int) -> np.ndarray:
    """Return an upper bound of the exact value of a nonnegative quantity computed as `x` by ≤ `ops` roundings.

    exact ≤ x/(1 − u)^ops + ops·η/2 ≤ x(1 + 2·ops·u) + ops·η; the factor 1 + (2·ops + 4)u also absorbs
    the rounding of this product, and one ulp up absorbs the final addition.
    """
    factor = 1.0 + (2 * ops + 4) * U  # exactly representable: 1 + even multiple of 2⁻⁵³
    return np.nextafter(x * factor + (ops + 1) * ETA, np.inf)


def _abs_up(z: np.ndarray) -> np.ndarray:
    """Return an upper bound of |z| (sqrt(re² + im²) in correctly rounded operations, underflow slack added)."""
    return _up(np.sqrt(z.real * z.real + z.imag * z.imag) + SQRT_ETA_SLACK, 5)


def _abs_down(z: np.ndarray) -> np.ndarray:
    """Return a lower bound of |z_exact| where z = fl(a − b) rounded componentwise (≤ u of itself)."""
    m = np.sqrt(z.real * z.real + z.imag * z.imag)
    # six roundings at most (the difference, two squares, the sum, sqrt, this product), each ≤ u
    return np.maximum(m * (1.0 - 16 * U) - SQRT_ETA_SLACK, 0.0)


def _l1(z: np.ndarray) -> np.ndarray:
    return np.abs(z.real) + np.abs(z.imag)


def _add(a, ar, b, br):
    c = a + b
    return c, _up(ar + br + U * _abs_up(c), 8)


def _sub(a, ar, b, br):
    c = a - b
    return c, _up(ar + br + U * _abs_up(c), 8)


def _mul(a, ar, b, br):
    c = a * b
    rad = _abs_up(a) * br + ar * _abs_up(b) + ar * br + (3 * U) * (_l1(a) * _l1(b)) + 4 * ETA
    return c, _up(rad, 12)


def _mul_point(a, b, br):
    """Product of an exact point a with a disk ⟨b, β⟩ (the α = 0 case of `_mul`)."""
    c = a * b
    rad = _abs_up(a) * br + (3 * U) * (_l1(a) * _l1(b)) + 4 * ETA
    return c, _up(rad, 10)


def _sum(c, cr, axis: int):
    """Return the disk enclosing the sum of disks along `axis` (γ_{n−1} bound, any summation order)."""
    n = c.shape[axis]
    s = c.sum(axis=axis)
    rad = cr.sum(axis=axis) + (2 * (n - 1) * U) * _l1(c).sum(axis=axis)
    return s, _up(rad, 2 * n + 6)


# ---------------------------------------------------------------------------------------------
# Interval evaluation of f and Df
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Block:
    """Several polynomials as one term list: coefficient disks, exponents, and the segment of each."""

    coef: np.ndarray       # (T,) complex
    coef_rad: np.ndarray   # (T,) float
    exps: np.ndarray       # (T, n) int
    starts: np.ndarray     # (m,) first term of each polynomial (every segment is non-empty)
    max_len: int           # longest segment: sets the summation error factor
    max_exp: int


def _block(polys: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> _Block:
    coef, rad, exps, starts = [], [], [], []
    pos = 0
    lengths = []
    for c, r, e in polys:
        if c.size == 0:  # the zero polynomial: one zero term keeps every segment non-empty
            c, r, e = np.zeros(1, complex), np.zeros(1), np.zeros((1, n), np.int64)
        starts.append(pos)
        pos += c.size
        lengths.append(c.size)
        coef.append(c)
        rad.append(r)
        exps.append(e)
    exps_all = np.concatenate(exps) if exps else np.zeros((0, n), np.int64)
    return _Block(np.concatenate(coef), np.concatenate(rad), exps_all, np.array(starts),
                  max(lengths, default=1), int(exps_all.max(initial=0)))


def _derivative(c: np.ndarray, r: np.ndarray, e: np.ndarray, j: int):
    """Return the terms of ∂/∂x_j of Σ c_t x^{e_t}: coefficients c_t·e_tj as disks (the product may round)."""
    keep = e[:, j] > 0
    power = e[keep, j].astype(float)  # exact: exponents are far below 2⁵³
    dc, dr = _mul(c[keep], r[keep], power.astype(complex), np.zeros(power.shape))
    de = e[keep].copy()
    de[:, j] -= 1
    return dc, dr, de


@dataclass(frozen=True)
class _System:
    n: int
    f: _Block
    df: _Block  # row-major: polynomial i·n + j is ∂f_i/∂x_j


def _compile(terms: PolyTerms) -> _System:
    n = terms.n_variables
    if terms.n_equations != n or n == 0:
        raise InvalidSpecError(f"certification needs a square system: {terms.n_equations} equations in {n} variables")
    polys = list(zip(terms.coefficients, terms.coefficient_radii, terms.exponents))
    derivs = [_derivative(c, r, e, j) for c, r, e in polys for j in range(n)]
    return _System(n, _block(polys, n), _block(derivs, n))


def _evaluate(block: _Block, x: np.ndarray, xr: np.ndarray):
    """Return disks (S, m) enclosing every polynomial of `block` over the boxes ⟨x, xr⟩ (S, n) each."""
    S, n = x.shape
    # powers[s, v, k] ⊇ ⟨x_sv, xr_sv⟩^k by repeated disk products
    pc = np.ones((S, n, block.max_exp + 1), complex)
    pr = np.zeros((S, n, block.max_exp + 1))
    for k in range(1, block.max_exp + 1):
        pc[:, :, k], pr[:, :, k] = _mul(pc[:, :, k - 1], pr[:, :, k - 1], x, xr)
    c = np.broadcast_to(block.coef, (S, block.coef.size)).copy()
    r = np.broadcast_to(block.coef_rad, (S, block.coef.size)).copy()
    for v in range(n):
        e = block.exps[:, v]
        used = e > 0  # x⁰ = 1 exactly: skipping it keeps the radius from growing for nothing
        if not used.any():
            continue
        mc, mr = _mul(c[:, used], r[:, used], pc[:, v, e[used]], pr[:, v, e[used]])
        c[:, used], r[:, used] = mc, mr
    s = np.add.reduceat(c, block.starts, axis=1)
    rad = np.add.reduceat(r, block.starts, axis=1) + (2 * (block.max_len - 1) * U) * np.add.reduceat(_l1(c), block.starts, axis=1)
    return s, _up(rad, 2 * block.max_len + 6)


# ---------------------------------------------------------------------------------------------
# The Krawczyk test
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KrawczykBox(Serializable):
    """The Krawczyk operator K(X) of one box X = ⟨centre, radius⟩ⁿ, enclosed as a product of disks.

    ok: whether K(X) ⊂ interior(X) was proved: then X holds exactly one zero, and it lies in K(X).
    centre: centres of the disks of K(X) (n,).
    radii: radii of the disks of K(X) (n,); inf when Y could not be formed.
    box_centre: the centre x̃ of X.
    box_radius: the radius r of X.
    contraction: an upper bound on max_i Σ_j |I − Y·Df(X)|_ij (below 1 whenever ok).
    """

    ok: bool
    centre: np.ndarray
    radii: np.ndarray
    box_centre: np.ndarray
    box_radius: float
    contraction: float


@dataclass(frozen=True)
class _PointData:
    """What depends only on the box centres: Y ≈ Df(x̃)⁻¹ and the disk ⟨−Y f(x̃)⟩ (a rigorous Newton step)."""

    y: np.ndarray        # (S, n, n)
    step: np.ndarray     # (S, n) centre of −Y f(x̃)
    step_rad: np.ndarray  # (S, n)
    bad: np.ndarray      # (S,) Y could not be formed (singular or non-finite Jacobian)
    rho: np.ndarray      # (S,) upper bound on ‖Y f(x̃)‖_∞ (the Newton step), floored to stay positive


def _inverses(j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return floating-point inverses of a stack of matrices and a mask of those that failed."""
    S, n, _ = j.shape
    bad = ~np.all(np.isfinite(j), axis=(1, 2))
    y = np.full_like(j, np.nan)
    good = np.flatnonzero(~bad)
    try:
        y[good] = np.linalg.inv(j[good])
    except np.linalg.LinAlgError:
        # a stacked inverse fails as a whole: retry one by one to find the singular ones
        for s in good:
            try:
                y[s] = np.linalg.inv(j[s])
            except np.linalg.LinAlgError:
                bad[s] = True
    bad |= ~np.all(np.isfinite(y), axis=(1, 2))
    return y, bad


def _point_data(system: _System, x: np.ndarray, y: np.ndarray | None = None) -> _PointData:
    S, n = x.shape
    zero = np.zeros(x.shape)
    fc, fr = _evaluate(system.f, x, zero)
    if y is None:
        jc, _ = _evaluate(system.df, x, zero)
        y, bad = _inverses(jc.reshape(S, n, n))
    else:
        y = np.broadcast_to(np.asarray(y, complex), (S, n, n)).copy()
        bad = ~np.all(np.isfinite(y), axis=(1, 2))
    ys = np.where(bad[:, None, None], 0, y)
    yc, yr = _mul_point(ys, fc[:, None, :], fr[:, None, :])
    sc, sr = _sum(yc, yr, axis=2)
    sc = -sc
    bound = _up(_abs_up(sc) + sr, 1).max(axis=1)
    # the radius must stay positive and scale with x̃ when f(x̃) evaluates to exactly 0
    floor = np.maximum(8 * U * np.abs(x).max(axis=1), 2.0 ** -900)
    rho = np.where(bad | ~np.isfinite(bound), np.inf, np.maximum(bound, floor))
    return _PointData(y, sc, sr, bad | ~np.isfinite(bound), rho)


def _krawczyk(system: _System, x: np.ndarray, r: np.ndarray, pd: _PointData):
    """Return (ok (S,), offset centres (S, n), offset radii (S, n), contraction (S,)) for K(X) − x̃."""
    S, n = x.shape
    jc, jr = _evaluate(system.df, x, np.broadcast_to(r[:, None], x.shape))
    jc, jr = jc.reshape(S, n, n), jr.reshape(S, n, n)
    ys = np.where(pd.bad[:, None, None], 0, pd.y)
    pc, pr = _mul_point(ys[:, :, :, None], jc[:, None, :, :], jr[:, None, :, :])  # Y_ik · J_kj
    yjc, yjr = _sum(pc, pr, axis=2)
    mc, mr = _sub(np.eye(n)[None], 0.0, yjc, yjr)
    # ⟨m, μ⟩·⟨0, r⟩ ⊂ ⟨0, (|m| + μ) r⟩ exactly, so (I − Y·Df(X))(X − x̃) is centred at 0
    rows = _up((_abs_up(mc) + mr).sum(axis=2), n + 2)
    spread = _up(rows * r[:, None], 1)
    dc, dr = pd.step, _up(pd.step_rad + spread, 1)
    reach = _up(_abs_up(dc) + dr, 1)
    finite = np.all(np.isfinite(reach), axis=1) & np.all(np.isfinite(dc), axis=1)
    ok = finite & ~pd.bad & np.all(reach < r[:, None], axis=1)
    contraction = np.where(finite, rows.max(axis=1), np.inf)
    return ok, dc, dr, contraction


def _enclosure(x: np.ndarray, dc: np.ndarray, dr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the disks of K(X) = x̃ + ⟨d, δ⟩, the centre rounded and its rounding added to the radius."""
    return _add(x, np.zeros(x.shape), dc, dr)


def krawczyk(terms, x: Sequence[complex], r: float, y: np.ndarray | None = None) -> KrawczykBox:
    """Return the Krawczyk operator K(X) of X = {|x_k − x̃_k| ≤ r} and whether K(X) ⊂ interior(X).

    K(X) = x̃ − Y f(x̃) + (I − Y·Df(X))(X − x̃), Y = Df(x̃)⁻¹ in floating point unless given;
    K(X) ⊂ int X proves exactly one zero in X (Krawczyk 1969; Rump 1983; Breiding-Rose-Timme 2020,
    arXiv:2011.05000, Thm 3.2).
    """
    system = _compile(as_terms(terms))
    xs = np.asarray(x, dtype=complex).reshape(1, -1)
    if xs.shape[1] != system.n:
        raise InvalidSpecError(f"the point has {xs.shape[1]} coordinates, the system {system.n} variables")
    if not (r > 0 and np.isfinite(r)):
        raise InvalidSpecError("the box radius must be positive and finite")
    pd = _point_data(system, xs, y)
    ok, dc, dr, contraction = _krawczyk(system, xs, np.array([float(r)]), pd)
    kc, kr = _enclosure(xs, dc, dr)
    if pd.bad[0]:
        kr = np.full(kr.shape, np.inf)
    return KrawczykBox(bool(ok[0]), kc[0], kr[0], xs[0], float(r), float(contraction[0]))


# ---------------------------------------------------------------------------------------------
# Certifying many solutions
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SolutionCertificate(Serializable):
    """The certificate of one approximate solution.

    index: position of the solution in the input.
    certified: whether a Krawczyk box around it was proved to hold exactly one (regular) zero.
    centre: centre of that box: the input point, or its real part when a real-centred box certified.
    radius: radius r of the box {x : |x_k − centre_k| ≤ r}: its zero is unique there (0.0 if not certified).
    enclosure_centre: centre of the disks K(X) holding the zero.
    enclosure_radius: the largest radius of those disks (inf if not certified).
    contraction: bound on max row sum of |I − Y·Df(X)| (< 1 when certified; inf if Y failed).
    real: True: certified real; False: certified non-real; None: not decided (or not certified).
    distinct: label of its certified zero (equal labels: the same zero proved; -1 if not certified).
    reason: why it is, or is not, certified.
    """

    index: int
    certified: bool
    centre: np.ndarray
    radius: float
    enclosure_centre: np.ndarray
    enclosure_radius: float
    contraction: float
    real: bool | None
    distinct: int
    reason: str


@dataclass(frozen=True)
class CertificationResult(Serializable):
    """Certificates of a list of approximate zeros of a square polynomial system.

    method: the certification method.
    n_solutions: approximations given.
    n_certified: approximations whose Krawczyk box certified.
    n_distinct: distinct zeros proved (a lower bound; exact when `n_undecided_pairs` is 0).
    n_real: distinct certified zeros proved real (needs real coefficients).
    n_nonreal: distinct certified zeros proved non-real.
    n_undecided_pairs: certified pairs neither proved equal nor distinct (counted as one zero).
    real_coefficients: whether the exact system has real coefficients (enables real certificates).
    radius_factors: box radii tried, as multiples of the rigorous Newton-step bound.
    certificates: one `SolutionCertificate` per input solution, in input order.
    n_high_precision: approximations certified only in higher precision (`theory.counting.certify_arb`, via `combine`).
    """

    method: str
    n_solutions: int
    n_certified: int
    n_distinct: int
    n_real: int
    n_nonreal: int
    n_undecided_pairs: int
    real_coefficients: bool
    radius_factors: tuple[float, ...]
    certificates: tuple[SolutionCertificate, ...] = field(repr=False)
    n_high_precision: int = 0

    @property
    def summary(self) -> str:
        """Return the one-line statement of what was proved."""
        extra = f", {self.n_high_precision} of them in Arb ball arithmetic" if self.n_high_precision else ""
        return (f"{self.n_distinct} distinct solutions certified, {self.n_real} certified real"
                f" ({self.n_certified}/{self.n_solutions} approximations certified{extra})")


@dataclass
class _Attempt:
    """Per-solution outcome arrays of one round of Krawczyk tests (mutable while rounds run)."""

    ok: np.ndarray
    centre: np.ndarray
    radius: np.ndarray
    enc_c: np.ndarray
    enc_r: np.ndarray
    contraction: np.ndarray
    singular: np.ndarray


def _batch_size(system: _System) -> int:
    # keep each (solutions × n × n × n) or (solutions × Jacobian terms) temporary near 2²¹ entries
    n = system.n
    return max(1, 2 ** 21 // max(n ** 3, system.df.coef.size, 1))


def _attempt(system: _System, x: np.ndarray, factors: Sequence[float]) -> _Attempt:
    """Return the Krawczyk outcome of boxes around `x` (S, n), radii ρ·factor tried in the given order."""
    S, n = x.shape
    out = _Attempt(np.zeros(S, bool), x.copy(), np.zeros(S), x.copy(), np.full((S, n), np.inf),
                   np.full(S, np.inf), np.zeros(S, bool))
    step = _batch_size(system)
    for lo in range(0, S, step):
        sl = slice(lo, min(S, lo + step))
        xb = x[sl]
        pd = _point_data(system, xb)
        out.singular[sl] = pd.bad
        pending = ~pd.bad
        for factor in factors:
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            sub = _PointData(pd.y[idx], pd.step[idx], pd.step_rad[idx], pd.bad[idx], pd.rho[idx])
            r = sub.rho * factor
            ok, dc, dr, contraction = _krawczyk(system, xb[idx], r, sub)
            glob = lo + idx
            out.contraction[glob] = np.minimum(out.contraction[glob], contraction)
            hit = idx[ok]
            if hit.size:
                kc, kr = _enclosure(xb[hit], dc[ok], dr[ok])
                g = lo + hit
                out.ok[g] = True
                out.radius[g] = r[ok]
                out.enc_c[g], out.enc_r[g] = kc, kr
                out.contraction[g] = contraction[ok]
                pending[hit] = False
    return out


def _nonreal(enc_c: np.ndarray, enc_r: np.ndarray) -> np.ndarray:
    """Return, per row, whether some disk lies off the real axis (|Im c| > ρ: every point there is non-real)."""
    return np.any(np.abs(enc_c.imag) > enc_r, axis=-1)


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _inside(enc_c, enc_r, box_c, box_r) -> np.ndarray:
    """Return whether each enclosure (rows) lies in the interior of the matching uniqueness box."""
    reach = _up(_abs_up(enc_c - box_c) + enc_r, 1)  # _abs_up's slack also covers the rounded difference
    return np.all(reach < box_r[..., None], axis=-1)


def _distinct(system: _System, att: _Attempt, certified: np.ndarray) -> tuple[np.ndarray, int]:
    """Return labels of proved-distinct zeros for the certified rows (-1 elsewhere) and the undecided pair count.

    E_i ∩ E_j = ∅ proves z_i ≠ z_j; E_i ⊂ X_j proves z_i = z_j (uniqueness in X_j). Otherwise one
    Krawczyk box around x̃_j large enough to contain X_j and E_i is tried; if it fails the pair is
    undecided and merged, so the number of labels stays a lower bound.
    """
    idx = np.flatnonzero(certified)
    uf = _UnionFind(idx.size)
    undecided = 0
    ec, er, xc, xr = att.enc_c[idx], att.enc_r[idx], att.centre[idx], att.radius[idx]
    for a in range(idx.size - 1):
        rest = slice(a + 1, idx.size)
        gap = _abs_down(ec[rest] - ec[a])
        disjoint = np.any(gap > _up(er[rest] + er[a], 1), axis=1)
        same = _inside(ec[a][None], er[a][None], xc[rest], xr[rest]) | _inside(ec[rest], er[rest], xc[a][None], np.array([xr[a]]))
        for off in np.flatnonzero(same):
            uf.union(a, a + 1 + off)
        for off in np.flatnonzero(~disjoint & ~same):
            b = a + 1 + off
            reach = float(np.max(_up(_abs_up(ec[a] - xc[b]) + er[a], 1)))
            big = float(_up(np.array(max(2.0 * reach, xr[b])), 1))
            if not _attempt_at(system, xc[b], big):
                undecided += 1  # not proved equal: merged all the same, so the count stays a lower bound
            uf.union(a, b)
    roots = [uf.find(k) for k in range(idx.size)]
    relabel = {root: k for k, root in enumerate(dict.fromkeys(roots))}
    labels = np.full(certified.size, -1)
    labels[idx] = [relabel[root] for root in roots]
    return labels, undecided


def _attempt_at(system: _System, centre: np.ndarray, r: float) -> bool:
    """Return whether the Krawczyk test passes for the box ⟨centre, r⟩ⁿ."""
    x = centre.reshape(1, -1)
    pd = _point_data(system, x)
    ok, *_ = _krawczyk(system, x, np.array([r]), pd)
    return bool(ok[0])


def certify(terms, solutions, *, real_coefficients: bool | None = None,
            radius_factors: Sequence[float] = RADIUS_FACTORS) -> CertificationResult:
    """Return Krawczyk certificates of approximate zeros, the number of distinct zeros and how many are real.

    For each x̃: Y = Df(x̃)⁻¹ (floating point), ρ ≥ ‖Y f(x̃)‖_∞ rigorously, and X = ⟨x̃, ρ·c⟩ⁿ for c in
    `radius_factors`; K(X) ⊂ int X proves one regular zero in X (Breiding-Rose-Timme 2020,
    arXiv:2011.05000, Thm 3.2; HomotopyContinuation.jl `certify`). With real coefficients a box
    centred at Re x̃ is also tried: if it certifies, its zero is real (conjugation maps the box and
    the zero set to themselves). `terms` is a `PolyTerms` or a sequence of (coefficients, exponents).
    """
    pt = as_terms(terms)
    system = _compile(pt)
    x = np.asarray(solutions, dtype=complex)
    if x.ndim == 1 and system.n == 1 and x.size != 1:
        x = x[:, None]  # a list of roots of a univariate polynomial
    x = x.reshape(-1, system.n) if x.size else np.zeros((0, system.n), complex)
    factors = tuple(float(c) for c in radius_factors)
    if not factors or any(not (c > 0 and np.isfinite(c)) for c in factors):
        raise InvalidSpecError("radius factors must be positive and finite")
    if real_coefficients is None:
        real_coefficients = pt.real
    elif real_coefficients and not pt.real:
        raise InvalidSpecError("real_coefficients=True for a system with non-real coefficients")

    finite = np.all(np.isfinite(x), axis=1)
    x_in = np.where(finite[:, None], x, 0)
    att = _attempt(system, x_in, factors)
    att.ok &= finite
    real = np.zeros(len(x), dtype=object)
    real[:] = None
    nonreal = att.ok & _nonreal(att.enc_c, att.enc_r)
    real[nonreal] = False
    if real_coefficients:
        # a box centred on Re x̃ is its own conjugate: certifying it proves the zero real
        try_real = finite & ~nonreal
        idx = np.flatnonzero(try_real)
        if idx.size:
            sub = _attempt(system, x_in[idx].real.astype(complex), factors)
            won = idx[sub.ok]
            for name in ("ok", "centre", "radius", "enc_c", "enc_r", "contraction"):
                getattr(att, name)[won] = getattr(sub, name)[sub.ok]
            real[won] = True

    labels, undecided = _distinct(system, att, att.ok)
    n_distinct = int(labels.max() + 1) if att.ok.any() else 0
    real_labels = {int(labels[k]) for k in range(len(x)) if real[k] is True}
    nonreal_labels = {int(labels[k]) for k in range(len(x)) if real[k] is False}

    certificates = []
    for k in range(len(x)):
        if not finite[k]:
            reason = "non-finite approximation"
        elif att.ok[k]:
            reason = "certified: K(X) lies in the interior of X"
        elif att.singular[k]:
            reason = "singular or non-finite Jacobian at the approximation: Y cannot be formed"
        else:
            reason = "Krawczyk inclusion failed at every radius tried"
        certificates.append(SolutionCertificate(
            index=k, certified=bool(att.ok[k]), centre=att.centre[k].copy() if finite[k] else x[k].copy(),
            radius=float(att.radius[k]) if att.ok[k] else 0.0,
            enclosure_centre=att.enc_c[k].copy() if att.ok[k] else x[k].copy(),
            enclosure_radius=float(att.enc_r[k].max()) if att.ok[k] else float("inf"),
            contraction=float(att.contraction[k]), real=real[k] if att.ok[k] else None,
            distinct=int(labels[k]), reason=reason))
    return CertificationResult(METHOD, len(x), int(att.ok.sum()), n_distinct, len(real_labels),
                               len(nonreal_labels), undecided, bool(real_coefficients), factors,
                               tuple(certificates))


def combine(terms, result: CertificationResult, upgrades: Sequence, method: str) -> CertificationResult:
    """Return `result` with the high-precision certificates `upgrades` (`theory.counting.certify_arb.BallCertificate`) merged in.

    The certificates of `upgrades` replace those of their indices when they certify; then the
    distinct and real counts are decided again over all certified enclosures, as in `certify`:
    disjoint enclosures are distinct zeros, an enclosure inside another certificate's box is the
    same zero, and pairs neither way are merged (so n_distinct stays a proved lower bound). A
    high-precision box is centred at a point that complex128 cannot hold, so its box is shrunk by
    that rounding before it is used to prove two zeros equal.
    """
    system = _compile(as_terms(terms))
    certs = list(result.certificates)
    for up in upgrades:
        if not up.certified:
            continue
        centre = np.array(up.centre, dtype=complex)
        shrink = float(np.max(_abs_up(centre)) * 4 * U) if centre.size else 0.0
        certs[up.index] = SolutionCertificate(
            index=up.index, certified=True, centre=centre, radius=max(0.0, up.radius - shrink),
            enclosure_centre=np.array(up.enclosure_centre, dtype=complex), enclosure_radius=float(up.enclosure_radius),
            contraction=float("nan"), real=up.real, distinct=-1, reason=up.reason)
    S, n = len(certs), system.n
    ok = np.array([c.certified for c in certs], dtype=bool)
    att = _Attempt(ok, np.array([np.asarray(c.centre, complex).reshape(n) for c in certs]).reshape(S, n),
                   np.array([c.radius for c in certs], dtype=float),
                   np.array([np.asarray(c.enclosure_centre, complex).reshape(n) for c in certs]).reshape(S, n),
                   np.array([np.full(n, c.enclosure_radius) for c in certs]).reshape(S, n),
                   np.array([c.contraction for c in certs], dtype=float), np.zeros(S, bool))
    labels, undecided = _distinct(system, att, ok)
    certs = [replace(c, distinct=int(labels[k])) for k, c in enumerate(certs)]
    real_labels = {int(labels[k]) for k, c in enumerate(certs) if c.certified and c.real is True}
    nonreal_labels = {int(labels[k]) for k, c in enumerate(certs) if c.certified and c.real is False}
    n_distinct = int(labels.max() + 1) if ok.any() else 0
    return CertificationResult(method, S, int(ok.sum()), n_distinct, len(real_labels), len(nonreal_labels), undecided,
                               result.real_coefficients, result.radius_factors, tuple(certs),
                               result.n_high_precision + sum(1 for up in upgrades if up.certified))
