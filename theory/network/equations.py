"""The zero-error and critical-point polynomial systems of a network on N data points.

Zero error (Theory II eq. (5)): f(x_i; w) − y_i = 0 for i = 1..N (n_d equations per point), a
system of N·n_d polynomials in the K weights. Critical points (eq. (7)–(8)): the K equations
½∇_w [Σ_i ‖f(x_i; w) − y_i‖² + Σ_j λ_j w_j²] = Σ_i J_i(w)ᵀ r_i(w) + λ ⊙ w = 0, where a generic
penalty λ (optional) makes the critical points isolated.

Systems are evaluated numerically as straight-line programs (the forward pass); symbolic sympy
polynomials are built only when a guaranteed term bound (`theory.bounds.degrees`) says the expansion is
small. Data sets live in `theory.network.data`, exports to other solvers in `theory.polynomials.export`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from theory.network.data import ExactData
from landscape_core.text import count_text
from theory.bounds.degrees import critical_expansion_bound, output_degree_bound, zero_error_expansion_bound
from landscape_core.errors import ExpansionTooLarge, InvalidSpecError
from theory.network.spec import NetworkSpec, forward, forward_point
from theory.network.rings import Jet, nested_equations, nested_formula_length

DEFAULT_MAX_TERMS = 200_000
MAX_TOTAL_TERMS = 4_000_000  # all equations together: a few GB of sympy terms at most
DEFAULT_MAX_CHARS = 50_000_000


def _sympy_ring(spec: NetworkSpec):
    from sympy import QQ
    from sympy.polys.rings import ring

    R, *gens = ring(",".join(spec.variable_names()), QQ)
    return R, gens


def _to_ring(R: Any) -> Callable[[Fraction], Any]:
    from sympy import QQ

    return lambda c: R.ground_new(QQ(Fraction(c).numerator, Fraction(c).denominator))


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
    data: ExactData

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
        return output_degree_bound(self.spec)

    def expansion_bound(self) -> int:
        """Return a guaranteed upper bound on the number of terms of one expanded equation.

        `degrees.zero_error_expansion_bound`: it depends on the network only, not on the data.
        """
        return zero_error_expansion_bound(self.spec)

    def polynomials(self, max_terms: int = DEFAULT_MAX_TERMS) -> list:
        """Return the equations as sympy PolyElements over QQ (exact), if small enough to expand.

        Raises ExpansionTooLarge when the guaranteed term bound of one equation exceeds `max_terms`,
        or that of all N·n_d equations together exceeds `MAX_TOTAL_TERMS`.
        """
        self.check_expandable(max_terms)
        R, gens = _sympy_ring(self.spec)
        coerce = _to_ring(R)
        out = []
        for x, y in zip(self.data.X, self.data.Y):
            fx = forward_point(self.spec, gens, [coerce(v) for v in x], coerce=coerce)
            out.extend(f - coerce(t) for f, t in zip(fx, y))
        return out

    def check_expandable(self, max_terms: int = DEFAULT_MAX_TERMS) -> None:
        """Raise ExpansionTooLarge when `polynomials(max_terms)` would refuse, without expanding anything."""
        bound = self.expansion_bound()
        if bound > max_terms:
            raise ExpansionTooLarge(
                f"one expanded equation may have up to {count_text(bound)} terms (limit {max_terms:,}); "
                f"export nested formulas instead (PHCpack and Macaulay2 accept them) or use a smaller network")
        if bound * self.n_equations > MAX_TOTAL_TERMS:
            raise ExpansionTooLarge(
                f"{self.n_equations} expanded equations may have up to {count_text(bound * self.n_equations)} "
                f"terms together (limit {MAX_TOTAL_TERMS:,}); export nested formulas or use fewer points")

    def formulas(self, exact: bool = True, max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
        """Return each equation as a nested, unexpanded formula (exact rationals, or floats if not exact).

        Nested text still grows like Π_k (n_{k-1}·#terms of P) with depth, since every unit repeats
        the formulas of the layer below. Raises ExpansionTooLarge when a bound on the total length
        (`nested_formula_length`) exceeds `max_chars`.
        """
        size = nested_formula_length(self.spec, self.data, exact)
        if size > max_chars:
            raise ExpansionTooLarge(
                f"the nested formulas would take up to {count_text(size)} characters (limit {max_chars:,}); "
                f"use a smaller network or fewer points")
        return nested_equations(self.spec, self.data, exact)


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
    data: ExactData
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
        # the residuals are expanded first (below), so when they cannot be neither can these equations;
        # their guard is O(K) where the critical one is O(K²) (seconds against minutes at K = 3,000)
        try:
            self.zero_error.check_expandable(max_terms)
        except ExpansionTooLarge as exc:
            raise ExpansionTooLarge(f"the critical equations are built from the expanded residuals, which are too "
                                    f"large: {str(exc).partition(';')[0]}; use a smaller network") from None
        bound = critical_expansion_bound(self.spec, self.data.n_points)
        if bound > max_terms:
            raise ExpansionTooLarge(
                f"one expanded critical equation may have up to {count_text(bound)} terms (limit {max_terms:,}); "
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


def _jets(spec: NetworkSpec, data: ExactData, w: np.ndarray, second_order: bool):
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
