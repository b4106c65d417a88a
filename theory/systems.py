"""The zero-error and critical-point polynomial systems of a network on N data points.

Zero error (Theory II eq. (5)): f(x_i; w) − y_i = 0 for i = 1..N (n_d equations per point), a
system of N·n_d polynomials in the K weights. Critical points (eq. (7)–(8)): the K equations
½∇_w [Σ_i ‖f(x_i; w) − y_i‖² + Σ_j λ_j w_j²] = Σ_i J_i(w)ᵀ r_i(w) + λ ⊙ w = 0, where a generic
penalty λ (optional) makes the critical points isolated.

Systems are evaluated numerically as straight-line programs (the forward pass); symbolic sympy
polynomials are built only when a guaranteed term bound says the expansion is small. Exports:
PHCpack (float coefficients, nested or expanded), Macaulay2 and JSON (exact rationals).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from theory.errors import ExpansionTooLarge, InvalidSpecError
from theory.networks import NetworkSpec, forward, forward_point
from theory.rings import Jet

DEFAULT_MAX_TERMS = 200_000
DEFAULT_MAX_CHARS = 50_000_000
MAX_POINTS = 100_000


# ----------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Dataset:
    """N exact rational data points.

    Fields:
        X: inputs, N rows of n_0 Fractions.
        Y: targets, N rows of n_d Fractions.
        seed: the seed that generated them (None if given by the user).
        kind: 'random' (independent targets), 'planted' (targets of a network), or 'given'.
    """

    X: tuple[tuple[Fraction, ...], ...]
    Y: tuple[tuple[Fraction, ...], ...]
    seed: int | None = None
    kind: str = "given"

    def __post_init__(self) -> None:
        if len(self.X) != len(self.Y):
            raise InvalidSpecError(f"{len(self.X)} inputs but {len(self.Y)} targets")

    @property
    def n_points(self) -> int:
        """Return N."""
        return len(self.X)

    @property
    def X_float(self) -> np.ndarray:
        """Return the inputs as an (N, n_0) float array."""
        return np.array([[float(v) for v in row] for row in self.X], dtype=float).reshape(len(self.X), -1)

    @property
    def Y_float(self) -> np.ndarray:
        """Return the targets as an (N, n_d) float array."""
        return np.array([[float(v) for v in row] for row in self.Y], dtype=float).reshape(len(self.Y), -1)

    def to_dict(self) -> dict:
        """Return a JSON-serialisable description (exact rationals as strings)."""
        return {"kind": self.kind, "seed": self.seed, "n_points": self.n_points,
                "X": [[str(v) for v in r] for r in self.X], "Y": [[str(v) for v in r] for r in self.Y]}

    @classmethod
    def from_arrays(cls, X: Any, Y: Any) -> "Dataset":
        """Return a Dataset from nested sequences of numbers (floats convert exactly)."""
        from theory.activations import _as_fraction

        X = [[_as_fraction(v) for v in np.atleast_1d(row)] for row in X]
        Y = [[_as_fraction(v) for v in np.atleast_1d(row)] for row in Y]
        return cls(tuple(map(tuple, X)), tuple(map(tuple, Y)), None, "given")


def read_dataset(path: str, spec: NetworkSpec) -> Dataset:
    """Return the data in a JSON ({"X": [[...]], "Y": [[...]]}) or CSV file (x_1..x_n0, y_1..y_nd per row).

    Entries may be integers, decimals or fractions ('1/3'); decimals are read exactly ('0.1' = 1/10).
    """
    from pathlib import Path

    from theory.errors import DataError

    file = Path(path)
    if not file.is_file():
        raise DataError(f"data file {path} does not exist")
    text = file.read_text()
    try:
        if file.suffix.lower() == ".json":
            doc = json.loads(text)
            X, Y = doc["X"], doc["Y"]
        else:
            rows = [[c.strip() for c in line.split(",")] for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
            n0 = spec.input_dim
            X, Y = [r[:n0] for r in rows], [r[n0:] for r in rows]
        X = [[Fraction(str(v)) for v in row] for row in X]
        Y = [[Fraction(str(v)) for v in row] for row in Y]
    except (ValueError, KeyError, TypeError, ZeroDivisionError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read data from {path}: {exc}") from None
    if not X:
        raise DataError(f"{path} holds no data points")
    _check_points(len(X))
    if any(len(r) != spec.input_dim for r in X) or any(len(r) != spec.output_dim for r in Y):
        raise DataError(f"{path}: every point needs {spec.input_dim} inputs and {spec.output_dim} targets")
    return Dataset(tuple(map(tuple, X)), tuple(map(tuple, Y)), None, "given")


def _check_points(n_points: int) -> None:
    if not isinstance(n_points, (int, np.integer)) or n_points < 1:
        raise InvalidSpecError(f"the number of data points must be a positive integer, got {n_points!r}")
    if n_points > MAX_POINTS:
        raise InvalidSpecError(f"{n_points} data points: at most {MAX_POINTS} are supported")


def random_rationals(rng: np.random.Generator, shape: tuple[int, ...], max_den: int = 16,
                     bound: float = 1.0) -> np.ndarray:
    """Return an object array of generic small nonzero rationals p/q in [−bound, bound], q ≤ max_den.

    Zero is excluded: a zero coordinate is not generic (it can lower degrees and ranks).
    """
    den = rng.integers(1, max_den + 1, size=shape)
    num = np.rint(rng.uniform(-bound, bound, size=shape) * den).astype(int)
    num = np.where(num == 0, rng.choice([-1, 1], size=shape), num)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = Fraction(int(num[idx]), int(den[idx]))
    return out


def random_data(spec: NetworkSpec, n_points: int, seed: int) -> Dataset:
    """Return N points with independent random rational inputs and targets (a generic instance)."""
    _check_points(n_points)
    rng = np.random.default_rng(seed)
    X = random_rationals(rng, (n_points, spec.input_dim))
    Y = random_rationals(rng, (n_points, spec.output_dim))
    return Dataset(tuple(map(tuple, X)), tuple(map(tuple, Y)), seed, "random")


def planted_data(spec: NetworkSpec, n_points: int, seed: int) -> tuple[Dataset, tuple[Fraction, ...]]:
    """Return (data, w*) where the targets y_i = f(x_i; w*) are computed exactly for random rational w*.

    The zero-error system of such data is consistent by construction, with w* a known solution
    (the starting point of Newton's method and of monodromy).
    """
    _check_points(n_points)
    rng = np.random.default_rng(seed)
    X = random_rationals(rng, (n_points, spec.input_dim))
    w_star = tuple(random_rationals(rng, (spec.n_params,)))
    Y = [tuple(forward_point(spec, w_star, list(x), coerce=lambda c: c)) for x in X]
    return Dataset(tuple(map(tuple, X)), tuple(Y), seed, "planted"), w_star


# ----------------------------------------------------------------------------------------------
# String realisations of the straight-line program


def _format_float(c: Fraction | float) -> str:
    return f"{float(c):.16e}"


def _format_exact(c: Fraction) -> str:
    return str(Fraction(c))


class _Expr:
    """A formula string with its precedence: +, * build nested text without expanding."""

    __slots__ = ("s", "atom", "fmt")

    def __init__(self, s: str, atom: bool, fmt: Callable[[Fraction], str]):
        self.s, self.atom, self.fmt = s, atom, fmt

    def _wrap(self, other: Any) -> "_Expr":
        if isinstance(other, _Expr):
            return other
        if other == 0:
            return _ZERO
        text = self.fmt(Fraction(other) if not isinstance(other, float) else other)
        return _Expr(text, not text.startswith("-"), self.fmt)

    def __add__(self, other: Any) -> "_Expr":
        # Zero is dropped rather than written: PHCpack misreads products with a literal 0.0e+00.
        o = self._wrap(other)
        if o is _ZERO:
            return self
        if self is _ZERO:
            return o
        rhs = o.s[1:] if o.s.startswith("-") else o.s
        sign = " - " if o.s.startswith("-") else " + "
        if o.s.startswith("-") and not o.atom and ("+" in rhs or " - " in rhs):
            sign, rhs = " + ", o.s
        return _Expr(f"{self.s}{sign}{rhs}", False, self.fmt)

    __radd__ = __add__

    def __mul__(self, other: Any) -> "_Expr":
        o = self._wrap(other)
        if o is _ZERO or self is _ZERO:
            return _ZERO
        left = self.s if self.atom else f"({self.s})"
        right = o.s if o.atom else f"({o.s})"
        return _Expr(f"{left}*{right}", True, self.fmt)

    __rmul__ = __mul__


_ZERO = _Expr("0", True, str)


def _power_activation(act_coeffs: Sequence[Fraction], fmt: Callable) -> Callable[[_Expr], _Expr]:
    """Return P as text c0 + c1*(z) + c2*(z)^2 + ... (z written once per power, no Horner nesting)."""

    def apply(z: _Expr) -> _Expr:
        base = z.s if z.atom else f"({z.s})"
        terms = []
        for k, c in enumerate(act_coeffs):
            if c == 0:
                continue
            mono = "" if k == 0 else (base if k == 1 else f"{base}^{k}")
            coef = fmt(c)
            if k == 0:
                terms.append(coef)
            elif c == 1:
                terms.append(mono)
            else:
                terms.append(f"{coef}*{mono}")
        text = " + ".join(terms).replace("+ -", "- ")
        return _Expr(text, False, fmt)

    return apply


class _Length:
    """The length of the text an `_Expr` would build, propagated without building it.

    An upper bound (signs, parentheses and separators are counted at their widest), so nested
    formulas whose text would not fit in memory are refused before any string is made.
    """

    __slots__ = ("n", "fmt")

    def __init__(self, n: int, fmt: Callable[[Fraction], str]):
        self.n, self.fmt = n, fmt

    def _wrap(self, other: Any) -> "_Length":
        if isinstance(other, _Length):
            return other
        return _Length(len(self.fmt(Fraction(other))), self.fmt)

    def __add__(self, other: Any) -> "_Length":
        o = self._wrap(other)
        return _Length(self.n + o.n + 3, self.fmt)

    __radd__ = __add__

    def __mul__(self, other: Any) -> "_Length":
        o = self._wrap(other)
        return _Length(self.n + o.n + 5, self.fmt)

    __rmul__ = __mul__


def _length_activation(act_coeffs: Sequence[Fraction], fmt: Callable) -> Callable[[_Length], _Length]:
    """Return the text length of `_power_activation` applied to a formula of a given length."""

    def apply(z: _Length) -> _Length:
        base = z.n + 2
        total = sum(len(fmt(c)) + 1 + base + 1 + len(str(k)) + 3 for k, c in enumerate(act_coeffs) if c != 0)
        return _Length(total, fmt)

    return apply


def nested_formula_length(spec: NetworkSpec, data: Dataset, exact: bool) -> int:
    """Return an upper bound on the total characters of `ZeroErrorSystem.formulas(exact)`."""
    fmt = _format_exact if exact else _format_float
    w = [_Length(len(name), fmt) for name in spec.variable_names()]
    act = _length_activation(spec.activation.coeffs, fmt)
    total = 0
    for x, y in zip(data.X, data.Y):
        xs = [_Length(len(fmt(v)), fmt) for v in x]
        outs = forward_point(spec, w, xs, activation=act)
        total += sum(f.n + len(fmt(t)) + 3 for f, t in zip(outs, y))
    return total


def _nested_outputs(spec: NetworkSpec, x: Sequence[Fraction], exact: bool) -> list[_Expr]:
    fmt = _format_exact if exact else _format_float
    w = [_Expr(name, True, fmt) for name in spec.variable_names()]
    xs = [_ZERO if v == 0 else _Expr(fmt(v), not fmt(v).startswith("-"), fmt) for v in x]
    act = _power_activation(spec.activation.coeffs, fmt)
    return forward_point(spec, w, xs, activation=act)


# ----------------------------------------------------------------------------------------------
# Term bounds and sympy expansion


def _count_text(n: int) -> str:
    """Return n with thousands separators, or its order of magnitude when it has over 12 digits."""
    if n < 10**12:
        return f"{n:,}"
    return f"about 10^{n.bit_length() * math.log10(2):.1f}"


def term_bound(n_vars_by_group: Sequence[int], degree_by_group: Sequence[int], total_degree: int) -> int:
    """Return an upper bound on the number of terms: min(C(K+D, D), Π_g C(k_g+d_g, d_g))."""
    k = sum(n_vars_by_group)
    dense = math.comb(k + total_degree, total_degree)
    graded = math.prod(math.comb(kg + dg, dg) for kg, dg in zip(n_vars_by_group, degree_by_group))
    return min(dense, graded)


def _sympy_ring(spec: NetworkSpec):
    from sympy import QQ
    from sympy.polys.rings import ring

    R, *gens = ring(",".join(spec.variable_names()), QQ)
    return R, gens


def _to_ring(R: Any) -> Callable[[Fraction], Any]:
    from sympy import QQ

    return lambda c: R.ground_new(QQ(Fraction(c).numerator, Fraction(c).denominator))


# ----------------------------------------------------------------------------------------------
# Systems


class _InTheWeights:
    """A polynomial system whose unknowns are the K weights of `self.spec`."""

    spec: NetworkSpec

    @property
    def n_vars(self) -> int:
        """Return K."""
        return self.spec.n_params

    @property
    def variable_names(self) -> list[str]:
        """Return the K variable names (PHCpack-safe), in the spec's parameter layout."""
        return self.spec.variable_names()


@dataclass(frozen=True)
class ZeroErrorSystem(_InTheWeights):
    """The N·n_d equations f(x_i; w) − y_i = 0 in the K weights (Theory II eq. (5)).

    Fields:
        spec: the network.
        data: the N data points (exact).
    """

    spec: NetworkSpec
    data: Dataset

    def __post_init__(self) -> None:
        if self.data.n_points and (len(self.data.X[0]) != self.spec.input_dim
                                   or len(self.data.Y[0]) != self.spec.output_dim):
            raise InvalidSpecError("data dimensions do not match the network's input/output widths")

    @property
    def n_equations(self) -> int:
        """Return N·n_d."""
        return self.data.n_points * self.spec.output_dim

    def residuals(self, w: np.ndarray) -> np.ndarray:
        """Return r(w) = (f(x_i; w) − y_i)_i, flattened point-major, shape (N·n_d,)."""
        return (forward(self.spec, w, self.data.X_float) - self.data.Y_float).ravel()

    def jacobian(self, w: np.ndarray) -> np.ndarray:
        """Return the (N·n_d, K) Jacobian ∂r/∂w by forward-mode differentiation of the forward pass."""
        return _jets(self.spec, self.data, np.asarray(w, dtype=float), second_order=False)[0]

    def loss(self, w: np.ndarray) -> float:
        """Return the square loss Σ_i ‖f(x_i; w) − y_i‖²."""
        r = self.residuals(w)
        return float(r @ r)

    def degree_bounds(self) -> tuple[int, tuple[int, ...]]:
        """Return (total degree bound D, per-group degree bounds) of each equation, by propagation."""
        from theory.degrees import output_degree_bound

        return output_degree_bound(self.spec)

    def expansion_bound(self) -> int:
        """Return a guaranteed upper bound on the number of terms of one expanded equation.

        The smaller of the dense count over the degree bounds and the count propagated through the
        forward pass (`degrees.zero_error_term_bound`).
        """
        from theory.degrees import zero_error_term_bound

        total, groups = self.degree_bounds()
        return min(term_bound([g.size for g in self.spec.groups], groups, total), zero_error_term_bound(self.spec))

    def polynomials(self, max_terms: int = DEFAULT_MAX_TERMS) -> list:
        """Return the equations as sympy PolyElements over QQ (exact), if small enough to expand.

        Raises ExpansionTooLarge when the guaranteed term bound of one equation exceeds `max_terms`.
        """
        bound = self.expansion_bound()
        if bound > max_terms:
            raise ExpansionTooLarge(
                f"one expanded equation may have up to {_count_text(bound)} terms (limit {max_terms:,}); "
                f"export nested formulas instead (PHCpack and Macaulay2 accept them) or use a smaller network")
        R, gens = _sympy_ring(self.spec)
        coerce = _to_ring(R)
        out = []
        for x, y in zip(self.data.X, self.data.Y):
            fx = forward_point(self.spec, gens, [coerce(v) for v in x], coerce=coerce)
            out.extend(f - coerce(t) for f, t in zip(fx, y))
        return out

    def formulas(self, exact: bool = True, max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
        """Return each equation as a nested, unexpanded formula (exact rationals, or floats if not exact).

        Nested text still grows like Π_k (n_{k-1}·#terms of P) with depth, since every unit repeats
        the formulas of the layer below. Raises ExpansionTooLarge when a bound on the total length
        (`nested_formula_length`) exceeds `max_chars`.
        """
        size = nested_formula_length(self.spec, self.data, exact)
        if size > max_chars:
            raise ExpansionTooLarge(
                f"the nested formulas would take up to {_count_text(size)} characters (limit {max_chars:,}); "
                f"use a smaller network or fewer points")
        fmt = _format_exact if exact else _format_float
        out = []
        for x, y in zip(self.data.X, self.data.Y):
            for f, t in zip(_nested_outputs(self.spec, x, exact), y):
                out.append((f + _Expr(fmt(-t), True, fmt)).s if t != 0 else f.s)
        return out


@dataclass(frozen=True)
class CriticalSystem(_InTheWeights):
    """The K equations Σ_i J_i(w)ᵀ r_i(w) + λ ⊙ w = 0: half the gradient of the penalised square loss.

    Theory II eq. (7)–(8) with an optional generalized L2 penalty Σ_j λ_j w_j² (generic λ isolates
    the critical points; λ = 0 recovers the paper's system, whose zero-error part is positive-dimensional).

    Fields:
        spec: the network.
        data: the N data points.
        penalty: λ_1..λ_K as exact rationals, or None for λ = 0.
    """

    spec: NetworkSpec
    data: Dataset
    penalty: tuple[Fraction, ...] | None = None

    def __post_init__(self) -> None:
        if self.penalty is not None and len(self.penalty) != self.spec.n_params:
            raise InvalidSpecError(f"penalty needs {self.spec.n_params} coefficients, got {len(self.penalty)}")

    @property
    def zero_error(self) -> ZeroErrorSystem:
        """Return the zero-error system of the same network and data."""
        return ZeroErrorSystem(self.spec, self.data)

    @property
    def n_equations(self) -> int:
        """Return K."""
        return self.spec.n_params

    def _lam(self) -> np.ndarray:
        if self.penalty is None:
            return np.zeros(self.spec.n_params)
        return np.array([float(v) for v in self.penalty])

    def loss(self, w: np.ndarray) -> float:
        """Return Σ_i ‖r_i‖² + Σ_j λ_j w_j²."""
        w = np.asarray(w, dtype=float)
        return self.zero_error.loss(w) + float(self._lam() @ (w * w))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """Return Jᵀr + λ ⊙ w (half the gradient of `loss`)."""
        w = np.asarray(w, dtype=float)
        J, r, _ = _jets(self.spec, self.data, w, second_order=False)
        return J.T @ r + self._lam() * w

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """Return the Jacobian of `gradient`: JᵀJ + Σ_i r_i ∇²f_i + diag(λ) (half the loss Hessian)."""
        w = np.asarray(w, dtype=float)
        J, r, H = _jets(self.spec, self.data, w, second_order=True)
        return J.T @ J + np.einsum("i,ijk->jk", r, H) + np.diag(self._lam())

    def polynomials(self, max_terms: int = DEFAULT_MAX_TERMS) -> list:
        """Return the K equations as sympy PolyElements over QQ, if small enough to expand."""
        from theory.degrees import critical_degree_bounds, critical_term_bound

        per_eq = critical_degree_bounds(self.spec)
        total = max(t for t, _ in per_eq)
        groups = tuple(max(g[i] for _, g in per_eq) for i in range(len(self.spec.groups)))
        bound = min(term_bound([g.size for g in self.spec.groups], groups, total),
                    critical_term_bound(self.spec, self.data.n_points))
        if bound > max_terms:
            raise ExpansionTooLarge(
                f"one expanded critical equation may have up to {_count_text(bound)} terms (limit {max_terms:,}); "
                f"use a smaller network")
        residuals = self.zero_error.polynomials(max_terms=max_terms)
        R = residuals[0].ring if residuals else _sympy_ring(self.spec)[0]
        gens = R.gens
        coerce = _to_ring(R)
        eqs = []
        for j, x in enumerate(gens):
            g = R.zero
            for r in residuals:
                g += r * r.diff(x)
            if self.penalty is not None and self.penalty[j] != 0:
                g += coerce(self.penalty[j]) * x
            eqs.append(g)
        return eqs


def _jets(spec: NetworkSpec, data: Dataset, w: np.ndarray, second_order: bool):
    """Return (J (N·n_d, K), r (N·n_d,), per-row Hessians (N·n_d, K, K) or None)."""
    X, Y = data.X_float, data.Y_float
    outs = forward_point(spec, Jet.variables(w, second_order), [X[:, j] for j in range(spec.input_dim)])
    n, k = data.n_points, spec.n_params
    # rows ordered point-major: row i·n_d + o
    J = np.stack([np.broadcast_to(o.grad, (n, k)) for o in outs], axis=1).reshape(n * len(outs), k)
    r = (np.stack([np.broadcast_to(o.val, (n,)) for o in outs], axis=1) - Y).ravel()
    H = None
    if second_order:
        H = np.stack([np.broadcast_to(o.hess, (n, k, k)) for o in outs], axis=1).reshape(n * len(outs), k, k)
    return J, r, H


# ----------------------------------------------------------------------------------------------
# Exports


def _expanded_phc(poly: Any, names: Sequence[str]) -> str:
    terms = []
    for monom, coeff in sorted(poly.terms(), reverse=True):
        c = float(Fraction(int(coeff.numerator), int(coeff.denominator)))
        factors = [f"{n}^{e}" if e > 1 else n for n, e in zip(names, monom) if e]
        terms.append(f"{'+' if c >= 0 else '-'}{abs(c):.16e}" + "".join("*" + f for f in factors))
    return " ".join(terms) if terms else "0"


def _expanded_exact(poly: Any, names: Sequence[str]) -> str:
    terms = []
    for monom, coeff in sorted(poly.terms(), reverse=True):
        c = Fraction(int(coeff.numerator), int(coeff.denominator))
        factors = [f"{n}^{e}" if e > 1 else n for n, e in zip(names, monom) if e]
        body = "*".join(factors)
        mag = abs(c)
        text = (str(mag) + ("*" + body if body else "")) if (mag != 1 or not body) else body
        terms.append(("- " if c < 0 else "+ ") + text)
    out = " ".join(terms) if terms else "0"
    return out[2:] if out.startswith("+ ") else "-" + out[2:] if out.startswith("- ") else out


def equations_text(system: ZeroErrorSystem | CriticalSystem, exact: bool, expanded: bool | None,
                   max_terms: int = DEFAULT_MAX_TERMS) -> tuple[list[str], bool]:
    """Return (equation strings, whether they are expanded); nested only for zero-error systems.

    `expanded=None` expands when the term bound allows and falls back to nested formulas.
    """
    if isinstance(system, CriticalSystem) or expanded is True:
        polys = system.polynomials(max_terms=max_terms)
        render = _expanded_exact if exact else _expanded_phc
        return [render(p, system.variable_names) for p in polys], True
    if expanded is None:
        try:
            polys = system.polynomials(max_terms=max_terms)
            render = _expanded_exact if exact else _expanded_phc
            return [render(p, system.variable_names) for p in polys], True
        except ExpansionTooLarge:
            pass
    return system.formulas(exact=exact), False


def to_phc(system: ZeroErrorSystem | CriticalSystem, expanded: bool | None = None) -> str:
    """Return the system in PHCpack's input format (float coefficients; nested formulas allowed).

    First line: number of equations, then the number of unknowns when different; each
    polynomial ends with ';'. PHCpack rejects rational literals such as 8450/1369, hence floats.
    """
    eqs, _ = equations_text(system, exact=False, expanded=expanded)
    head = f"{len(eqs)}" if len(eqs) == system.n_vars else f"{len(eqs)} {system.n_vars}"
    return head + "\n" + "\n".join(f"{e};" for e in eqs) + "\n"


def to_macaulay2(system: ZeroErrorSystem | CriticalSystem, expanded: bool | None = None) -> str:
    """Return a Macaulay2 script defining the ring QQ[w] and the ideal I of the system (exact)."""
    eqs, _ = equations_text(system, exact=True, expanded=expanded)
    names = ",".join(system.variable_names)
    body = ",\n  ".join(eqs)
    return f"R = QQ[{names}];\nI = ideal(\n  {body}\n);\n"


def to_json(system: ZeroErrorSystem | CriticalSystem, expanded: bool | None = None) -> str:
    """Return {'variables', 'equations', 'expanded', 'kind', 'network', 'data'} as JSON (exact)."""
    eqs, is_expanded = equations_text(system, exact=True, expanded=expanded)
    kind = "critical" if isinstance(system, CriticalSystem) else "zero-error"
    doc = {"kind": kind, "variables": list(system.variable_names), "equations": eqs,
           "expanded": is_expanded, "coefficients": "exact rationals",
           "network": system.spec.to_dict(), "data": system.data.to_dict()}
    if isinstance(system, CriticalSystem):
        doc["penalty"] = None if system.penalty is None else [str(v) for v in system.penalty]
    return json.dumps(doc, indent=1) + "\n"


def parse_equations(equations: Sequence[str], variables: Sequence[str]) -> list:
    """Return sympy PolyElements over QQ parsed from exported strings ('^' for powers, rationals or floats)."""
    import sympy
    from sympy import QQ
    from sympy.polys.rings import ring

    R, *gens = ring(",".join(variables), QQ)
    symbols = {n: sympy.Symbol(n) for n in variables}
    out = []
    for eq in equations:
        expr = sympy.sympify(eq.replace("^", "**"), locals=symbols, rational=True)
        out.append(R.from_expr(sympy.expand(expr)) if expr != 0 else R.zero)
    return out


def read_phc(text: str) -> tuple[list[str], list[str]]:
    """Return (equations, variables in order of appearance) from PHCpack input text."""
    import re

    lines = text.strip().split("\n", 1)
    if len(lines) < 2:
        raise InvalidSpecError("a PHCpack system needs a first line with the number of equations")
    try:
        n = int(lines[0].split()[0])
    except (ValueError, IndexError) as exc:
        raise InvalidSpecError(f"bad PHCpack header line {lines[0]!r}") from exc
    eqs = [e.strip() for e in lines[1].split(";") if e.strip()]
    if len(eqs) != n:
        raise InvalidSpecError(f"header announces {n} equations, found {len(eqs)}")
    seen: dict[str, None] = {}
    for e in eqs:
        for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"\d+\.?\d*[eE][+-]?\d+", "", e)):
            seen.setdefault(name, None)
    return eqs, list(seen)
