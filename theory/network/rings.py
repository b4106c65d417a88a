"""Small rings over which the network's straight-line program runs (`networks.forward_point`).

- `ModPoly`: univariate polynomials in t over F_p (p = 2^61 − 1). Restricting a polynomial in the
  weights to a random line w = a + t·b and reducing mod p gives its exact degree with probability
  ≥ 1 − D/p (Schwartz–Zippel); a nonzero coefficient mod p is nonzero over Q, so the measured degree
  is always a certified lower bound.
- `Degree`: an upper bound on total and per-group degree (+ takes the max, * adds).
- `TermCount`: an upper bound on the number of terms after expansion (+ adds, * multiplies, both
  capped by the dense count over the variables actually involved).
- `Dual`: first-order forward mode over any of these rings (value and dense gradient list).
- `Jet`: vectorised numpy forward mode with optional exact Hessian, for Jacobians at many inputs.
- `_Expr`: formula text (exact rationals or floats) built by + and * without expanding, for the
  nested exports; `_Length`: an upper bound on the length of that text, propagated without building
  it (`nested_formula_length`), so oversized exports are refused before any string is made.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from theory.network.spec import NetworkSpec, forward_point

if TYPE_CHECKING:
    from theory.network.data import ExactData

PRIME = 2**61 - 1  # a Mersenne prime: reductions stay cheap in Python integers


def fraction_mod(value: Fraction | int, p: int = PRIME) -> int:
    """Return the image of a rational in F_p (raises ZeroDivisionError if p divides the denominator)."""
    value = Fraction(value)
    den = value.denominator % p
    if den == 0:
        raise ZeroDivisionError(f"denominator of {value} vanishes modulo {p}")
    return value.numerator * pow(den, -1, p) % p


class ModPoly:
    """A univariate polynomial in t over F_p, coefficients lowest degree first (trimmed)."""

    __slots__ = ("c",)
    p = PRIME

    def __init__(self, coeffs: Sequence[int]):
        c = [x % self.p for x in coeffs]
        while c and c[-1] == 0:
            c.pop()
        self.c = c

    @classmethod
    def line(cls, a: int, b: int) -> "ModPoly":
        """Return a + b·t."""
        return cls([a, b])

    @property
    def degree(self) -> int:
        """Return the degree in t (−1 for the zero polynomial)."""
        return len(self.c) - 1

    def _coerce(self, other: Any) -> "ModPoly":
        if isinstance(other, ModPoly):
            return other
        if isinstance(other, (int, np.integer)):
            return ModPoly([int(other)])
        if isinstance(other, Fraction):
            return ModPoly([fraction_mod(other, self.p)])
        return NotImplemented

    def __add__(self, other: Any) -> "ModPoly":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        a, b = self.c, other.c
        if len(a) < len(b):
            a, b = b, a
        out = list(a)
        for i, x in enumerate(b):
            out[i] += x
        return ModPoly(out)

    __radd__ = __add__

    def __neg__(self) -> "ModPoly":
        return ModPoly([-x for x in self.c])

    def __sub__(self, other: Any) -> "ModPoly":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        return self + (-other)

    def __rsub__(self, other: Any) -> "ModPoly":
        return (-self) + other

    def __mul__(self, other: Any) -> "ModPoly":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        a, b = self.c, other.c
        if not a or not b:
            return ModPoly([])
        if len(b) == 1:
            return ModPoly([x * b[0] for x in a])
        if len(a) == 1:
            return ModPoly([x * a[0] for x in b])
        out = [0] * (len(a) + len(b) - 1)
        for i, x in enumerate(a):
            if x:
                for j, y in enumerate(b):
                    out[i + j] += x * y
        return ModPoly(out)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"ModPoly(degree={self.degree})"


class Degree:
    """Upper bounds on the total degree and on the degree in each variable group (None: zero)."""

    __slots__ = ("total", "groups")

    def __init__(self, total: int | None, groups: tuple[int, ...]):
        self.total = total
        self.groups = groups

    @classmethod
    def constant(cls, n_groups: int) -> "Degree":
        """Return the degree of a nonzero constant."""
        return cls(0, (0,) * n_groups)

    @classmethod
    def variable(cls, group: int, n_groups: int) -> "Degree":
        """Return the degree of one variable of `group`."""
        return cls(1, tuple(int(g == group) for g in range(n_groups)))

    def _coerce(self, other: Any) -> "Degree":
        if isinstance(other, Degree):
            return other
        if not isinstance(other, (int, float, Fraction, np.number)):
            return NotImplemented
        if other == 0:
            return Degree(None, tuple(0 for _ in self.groups))
        return Degree.constant(len(self.groups))

    def __add__(self, other: Any) -> "Degree":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        if self.total is None:
            return other
        if other.total is None:
            return self
        return Degree(max(self.total, other.total), tuple(map(max, self.groups, other.groups)))

    __radd__ = __add__

    def __mul__(self, other: Any) -> "Degree":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        if self.total is None or other.total is None:
            return Degree(None, tuple(0 for _ in self.groups))
        return Degree(self.total + other.total, tuple(a + b for a, b in zip(self.groups, other.groups)))

    __rmul__ = __mul__

    def __sub__(self, other: Any) -> "Degree":
        return self + other

    def __repr__(self) -> str:
        return f"Degree(total={self.total}, groups={self.groups})"


# Cached: the units of one layer share their support and degree, so the same huge binomial recurs.
@lru_cache(maxsize=4096)
def _dense_count(n_vars: int, degree: int) -> int:
    """Return C(n + D, D), the number of monomials of degree ≤ D in n variables."""
    return math.comb(n_vars + degree, degree)


class TermCount:
    """An upper bound on the number of monomials of an expanded polynomial.

    Tracks (count, support, degree): support is a bitmask of the variables that can occur and degree
    a total-degree bound. A sum has at most c₁ + c₂ terms, a product at most c₁·c₂, and any polynomial
    of degree D in s variables at most C(s + D, D); each step keeps the smallest of these, so the
    bound stays sharp for sparse structure (the tree's separate nodes) that per-group binomials miss.
    A power p^i has at most C(c + i − 1, i) terms (multisets of i of p's c terms).
    """

    __slots__ = ("count", "support", "degree")

    def __init__(self, count: int, support: int, degree: int):
        self.count = count
        self.support = support
        self.degree = degree

    @classmethod
    def variable(cls, index: int) -> "TermCount":
        """Return the bound for the single variable with this index."""
        return cls(1, 1 << index, 1)

    @classmethod
    def constant(cls) -> "TermCount":
        """Return the bound for a nonzero constant."""
        return cls(1, 0, 0)

    @staticmethod
    def _capped(count: int, support: int, degree: int) -> "TermCount":
        s = support.bit_count()
        # The exact binomial of thousands of variables and degree ~10^6 takes seconds; its
        # logarithm (lgamma, accurate far below the margin of 1) settles most comparisons at once.
        log_dense = math.lgamma(s + degree + 1) - math.lgamma(s + 1) - math.lgamma(degree + 1)
        if log_dense > math.log(count) + 1.0:
            return TermCount(count, support, degree)
        return TermCount(min(count, _dense_count(s, degree)), support, degree)

    def _coerce(self, other: Any) -> "TermCount | None":
        if isinstance(other, TermCount):
            return other
        if not isinstance(other, (int, float, Fraction, np.number)):
            return NotImplemented
        return None if other == 0 else TermCount.constant()

    def __add__(self, other: Any) -> "TermCount":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        if other is None:
            return self
        return self._capped(self.count + other.count, self.support | other.support,
                            max(self.degree, other.degree))

    __radd__ = __add__
    __sub__ = __add__

    def __neg__(self) -> "TermCount":
        return self

    def __mul__(self, other: Any) -> "TermCount | int":
        other = self._coerce(other)
        if other is NotImplemented:
            return other
        if other is None:
            return 0
        return self._capped(self.count * other.count, self.support | other.support, self.degree + other.degree)

    __rmul__ = __mul__

    def __pow__(self, exponent: int) -> "TermCount":
        if exponent == 0:
            return TermCount.constant()
        return self._capped(math.comb(self.count + exponent - 1, exponent), self.support, self.degree * exponent)

    def __repr__(self) -> str:
        return f"TermCount(count={self.count}, variables={self.support.bit_count()}, degree={self.degree})"


class Dual:
    """First-order forward mode over an arbitrary ring: value and the dense gradient list."""

    __slots__ = ("val", "grad")

    def __init__(self, val: Any, grad: list):
        self.val = val
        self.grad = grad

    @classmethod
    def variable(cls, val: Any, index: int, n: int, zero: Any, one: Any) -> "Dual":
        """Return the k-th independent variable with value `val`."""
        return cls(val, [one if k == index else zero for k in range(n)])

    def __add__(self, other: Any) -> "Dual":
        if isinstance(other, Dual):
            return Dual(self.val + other.val, [a + b for a, b in zip(self.grad, other.grad)])
        return Dual(self.val + other, self.grad)

    __radd__ = __add__

    def __neg__(self) -> "Dual":
        return Dual(-self.val, [-g for g in self.grad])

    def __sub__(self, other: Any) -> "Dual":
        return self + (-other)

    def __mul__(self, other: Any) -> "Dual":
        if isinstance(other, Dual):
            return Dual(self.val * other.val,
                        [a * other.val + self.val * b for a, b in zip(self.grad, other.grad)])
        return Dual(self.val * other, [g * other for g in self.grad])

    __rmul__ = __mul__


class Jet:
    """Vectorised forward mode: values (N,), gradients (N, K) and optionally Hessians (N, K, K).

    A weight is a Jet with value shape (1,); data columns are plain arrays of shape (N,), so one
    pass evaluates all N inputs. Hessians use (ab)'' = a''b + ab'' + a'b'ᵀ + b'a'ᵀ.
    """

    __slots__ = ("val", "grad", "hess")

    def __init__(self, val: np.ndarray, grad: np.ndarray, hess: np.ndarray | None):
        self.val, self.grad, self.hess = val, grad, hess

    @classmethod
    def variables(cls, w: np.ndarray, second_order: bool = False) -> list["Jet"]:
        """Return the K weights as independent Jets."""
        k = len(w)
        eye = np.eye(k)
        return [cls(np.array([w[i]], dtype=float), eye[i][None, :],
                    np.zeros((1, k, k)) if second_order else None) for i in range(k)]

    def __add__(self, other: Any) -> "Jet":
        if isinstance(other, Jet):
            hess = None if self.hess is None else self.hess + other.hess
            return Jet(self.val + other.val, self.grad + other.grad, hess)
        return Jet(self.val + other, self.grad, self.hess)

    __radd__ = __add__

    def __neg__(self) -> "Jet":
        return Jet(-self.val, -self.grad, None if self.hess is None else -self.hess)

    def __sub__(self, other: Any) -> "Jet":
        return self + (-other)

    def __mul__(self, other: Any) -> "Jet":
        if isinstance(other, Jet):
            val = self.val * other.val
            grad = self.grad * other.val[:, None] + other.grad * self.val[:, None]
            hess = None
            if self.hess is not None:
                outer = self.grad[:, :, None] * other.grad[:, None, :]
                hess = (self.hess * other.val[:, None, None] + other.hess * self.val[:, None, None]
                        + outer + outer.transpose(0, 2, 1))
            return Jet(val, grad, hess)
        c = np.asarray(other, dtype=float)
        return Jet(self.val * c, self.grad * (c[:, None] if c.ndim else c),
                   None if self.hess is None else self.hess * (c[:, None, None] if c.ndim else c))

    __rmul__ = __mul__


# ----------------------------------------------------------------------------------------------
# Formula text: the straight-line program written out without expanding


def format_float(c: Fraction | float) -> str:
    """Return a coefficient as a 17-significant-digit float literal (PHCpack rejects rationals)."""
    return f"{float(c):.16e}"


def format_exact(c: Fraction) -> str:
    """Return a coefficient as an exact rational literal ('-3/7')."""
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


def nested_formula_length(spec: NetworkSpec, data: "ExactData", exact: bool) -> int:
    """Return an upper bound on the total characters of `nested_equations(spec, data, exact)`."""
    fmt = format_exact if exact else format_float
    w = [_Length(len(name), fmt) for name in spec.variable_names()]
    act = _length_activation(spec.activation.coeffs, fmt)
    total = 0
    for x, y in zip(data.X, data.Y):
        xs = [_Length(len(fmt(v)), fmt) for v in x]
        outs = forward_point(spec, w, xs, activation=act)
        total += sum(f.n + len(fmt(t)) + 3 for f, t in zip(outs, y))
    return total


def _nested_outputs(spec: NetworkSpec, x: Sequence[Fraction], fmt: Callable) -> list[_Expr]:
    w = [_Expr(name, True, fmt) for name in spec.variable_names()]
    xs = [_ZERO if v == 0 else _Expr(fmt(v), not fmt(v).startswith("-"), fmt) for v in x]
    act = _power_activation(spec.activation.coeffs, fmt)
    return forward_point(spec, w, xs, activation=act)


def nested_equations(spec: NetworkSpec, data: "ExactData", exact: bool) -> list[str]:
    """Return each equation f_o(x_i; w) − y_io as nested, unexpanded text (point-major order).

    Exact rationals, or floats when not `exact`; no size check (see `nested_formula_length`).
    """
    fmt = format_exact if exact else format_float
    out = []
    for x, y in zip(data.X, data.Y):
        for f, t in zip(_nested_outputs(spec, x, fmt), y):
            out.append((f + _Expr(fmt(-t), True, fmt)).s if t != 0 else f.s)
    return out
