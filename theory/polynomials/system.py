"""Square and non-square polynomial systems in two realisations: PHCpack strings and complex numpy evaluators.

A `System` carries the polynomials as PHCpack text (what the trackers read) beside an evaluator
and a Jacobian (what every endpoint check uses, independently of PHCpack). Systems come from
PHCpack-syntax strings (`from_strings`, evaluated through sympy; files in the solvers' formats are
read by `theory.polynomials.files`), or a network's zero-error equations (`network_system`, evaluated
by forward-mode jets through the same straight-line program as everything else).
`homogenize` gives f_i^h(x_0, x) = x_0^{d_i} f_i(x/x_0) for projective tracking
(Sommese–Wampler, *The Numerical Solution of Systems of Polynomials*, 2005, §3.7).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from theory.homotopy import phcpack as phc
from landscape_core.errors import InvalidSpecError

HOM = "xhom"  # the homogenizing variable: never a network name (those are one letter and digits)


@dataclass(frozen=True)
class System:
    """A polynomial system in two realisations: PHCpack strings and a complex numpy evaluator.

    Fields:
        polys: the polynomials in PHCpack syntax (nested formulas allowed, float coefficients).
        names: the variables, in the order of every coordinate vector.
        evaluate: x (complex, shape (n,)) ↦ f(x) (shape (m,)).
        jacobian: x ↦ ∂f/∂x (shape (m, n)).
        label: a short description.
        known_degrees: the equations' total degrees when known a priori (certified network degrees),
            so that path budgets are checked before PHCpack expands anything.
    """

    polys: tuple[str, ...]
    names: tuple[str, ...]
    evaluate: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    jacobian: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    label: str = "system"
    known_degrees: tuple[int, ...] | None = None

    @property
    def n_equations(self) -> int:
        """Return m, the number of polynomials."""
        return len(self.polys)

    @property
    def n_vars(self) -> int:
        """Return n, the number of variables."""
        return len(self.names)

    @property
    def is_square(self) -> bool:
        """Return m == n."""
        return self.n_equations == self.n_vars

    def degrees(self) -> list[int]:
        """Return the total degree of each polynomial (known a priori, else PHCpack's expansion)."""
        if self.known_degrees is not None:
            return list(self.known_degrees)
        return phc.degrees(self.polys, n_vars=self.n_vars)

    def with_equations(self, polys: Sequence[str], evaluate: Callable, jacobian: Callable,
                       label: str | None = None) -> "System":
        """Return the system with the extra equations appended (e.g. slices)."""
        f0, j0 = self.evaluate, self.jacobian
        return System(self.polys + tuple(polys), self.names,
                      lambda x: np.concatenate([f0(x), evaluate(x)]),
                      lambda x: np.vstack([j0(x), jacobian(x)]), label or self.label)

    def with_degrees(self, extra: Sequence[int] | None) -> "System":
        """Return the system with known degrees `self.known_degrees + extra` (None: unknown)."""
        known = None if self.known_degrees is None or extra is None else self.known_degrees + tuple(extra)
        return replace(self, known_degrees=known)

    def with_linear(self, A: np.ndarray, b: np.ndarray, label: str | None = None) -> "System":
        """Return the system with the affine equations A x + b = 0 appended (slices, Sommese–Wampler §13)."""
        A = np.atleast_2d(np.asarray(A, dtype=complex))
        b = np.asarray(b, dtype=complex).ravel()
        polys = [linear_string(row, c, self.names) for row, c in zip(A, b)]
        return self.with_equations(polys, lambda x: A @ x + b, lambda x: A, label).with_degrees(
            [1] * len(polys) if self.known_degrees is not None else None)


def complex_literal(c: complex) -> str:
    """Return c in PHCpack syntax, e.g. '(1.5e+00+2.5e-01*i)'."""
    c = complex(c)
    return f"({c.real:+.17e}{c.imag:+.17e}*i)"


def linear_string(row: Sequence[complex], const: complex, names: Sequence[str]) -> str:
    """Return the affine form Σ_j row_j x_j + const as a PHCpack polynomial string."""
    terms = [f"{complex_literal(a)}*{n}" for a, n in zip(row, names) if a != 0]
    return " + ".join(terms + [complex_literal(const)]) + ";"


def from_strings(polys: Sequence[str], names: Sequence[str] | None = None, label: str = "system") -> System:
    """Return a System for PHCpack-syntax strings, evaluated through sympy (small systems only).

    Variables default to PHCpack's order of first appearance; 'i' and 'I' are the imaginary unit.
    """
    import sympy

    polys = [p.strip().rstrip(";").strip() for p in polys if p.strip().rstrip(";").strip()]
    if not polys:
        raise InvalidSpecError("the system has no polynomials")
    found = phc.store([p + ";" for p in polys], n_vars=None if names is None else len(names))
    names = list(found if names is None else names)
    if set(found) - set(names):
        raise InvalidSpecError(f"variables {sorted(set(found) - set(names))} are not among {names}")
    syms = [sympy.Symbol(n) for n in names]
    local = {n: s for n, s in zip(names, syms)}
    local.update({"i": sympy.I, "I": sympy.I})
    try:
        exprs = [sympy.sympify(p.replace("^", "**"), locals=local) for p in polys]
    except (sympy.SympifyError, SyntaxError, TypeError) as exc:
        raise InvalidSpecError(f"cannot read polynomial: {exc}") from None
    jac = [[sympy.diff(e, s) for s in syms] for e in exprs]
    f_num = sympy.lambdify([syms], exprs, modules="numpy")
    j_num = sympy.lambdify([syms], jac, modules="numpy")
    m, n = len(exprs), len(syms)

    def evaluate(x: np.ndarray) -> np.ndarray:
        return np.asarray(np.broadcast_arrays(*f_num(np.asarray(x, dtype=complex))), dtype=complex).reshape(m)

    def jacobian(x: np.ndarray) -> np.ndarray:
        rows = j_num(np.asarray(x, dtype=complex))
        return np.array([[complex(v) for v in r] for r in rows], dtype=complex).reshape(m, n)

    return System(tuple(p + ";" for p in polys), tuple(names), evaluate, jacobian, label)


def network_system(zero_error) -> System:
    """Return the zero-error system f(x_i; w) − y_i = 0 (a `theory.network.equations.ZeroErrorSystem`) as a System.

    Complex residuals and Jacobians come from one vectorised forward-mode pass (`theory.network.rings.Jet`
    with complex values) through the same straight-line program `forward_point` as everything else.
    """
    from theory.polynomials.export import to_phc

    text = to_phc(zero_error)
    polys = [p.strip() + ";" for p in text.strip().split("\n", 1)[1].split(";") if p.strip()]
    spec, data = zero_error.spec, zero_error.data

    def evaluate(w: np.ndarray) -> np.ndarray:
        return network_jets(spec, data, w, order=0)[0]

    def jacobian(w: np.ndarray) -> np.ndarray:
        return network_jets(spec, data, w, order=1)[1]

    total, _ = zero_error.degree_bounds()
    return System(tuple(polys), tuple(zero_error.variable_names), evaluate, jacobian,
                  f"zero-error system of {spec.describe()}, N = {data.n_points}",
                  known_degrees=(int(total),) * len(polys))


def network_jets(spec, data, w: np.ndarray, order: int = 1):
    """Return (r, J, H): residuals r_i = f(x_i; w) − y_i, their Jacobian and per-row Hessians, for complex w.

    `order` 0 computes r only, 1 adds J (N·n_d × K), 2 adds H (N·n_d × K × K).
    """
    from theory.network.spec import forward_point
    from theory.network.rings import Jet

    w = np.asarray(w, dtype=complex)
    X, Y = data.X_float, data.Y_float
    cols = [X[:, j] for j in range(spec.input_dim)]
    n, k = data.n_points, spec.n_params
    if order == 0:
        outs = forward_point(spec, list(w), cols)
        r = (np.stack([np.broadcast_to(o, (n,)) for o in outs], axis=1) - Y).ravel()
        return r, None, None
    eye = np.eye(k, dtype=complex)
    variables = [Jet(np.array([w[i]]), eye[i][None, :], np.zeros((1, k, k), dtype=complex) if order > 1 else None)
                 for i in range(k)]
    outs = forward_point(spec, variables, cols)
    J = np.stack([np.broadcast_to(o.grad, (n, k)) for o in outs], axis=1).reshape(n * len(outs), k)
    r = (np.stack([np.broadcast_to(o.val, (n,)) for o in outs], axis=1) - Y).ravel()
    H = None
    if order > 1:
        H = np.stack([np.broadcast_to(o.hess, (n, k, k)) for o in outs], axis=1).reshape(n * len(outs), k, k)
    return r, J, H


def expanded(polys: Sequence[str], names: Sequence[str]) -> list[str]:
    """Return the polynomials as PHCpack expands them (terms with float or complex coefficients)."""
    return phc.expand(polys, names)


def homogenize(system: System) -> tuple[list[str], list[int]]:
    """Return (f_i^h(x_0, x) = x_0^{d_i} f_i(x/x_0) as PHCpack strings, d_i), expanded through PHCpack and sympy."""
    return homogenize_strings(system.polys, system.names)


def homogenize_strings(polys: Sequence[str], names: Sequence[str], degrees: Sequence[int] | None = None
                       ) -> tuple[list[str], list[int]]:
    """Return (x_0^{D_i} p_i(x/x_0) as PHCpack strings, D_i); D_i = `degrees[i]` (≥ deg p_i) or deg p_i.

    A degree above deg p_i multiplies by a power of x_0, which adds solutions at infinity only.
    """
    import sympy

    syms = [sympy.Symbol(n) for n in names]
    h = sympy.Symbol(HOM)
    local = {n: v for n, v in zip(names, syms)}
    local.update({"i": sympy.I, "I": sympy.I})
    gens = [HOM] + list(names)
    out, degs = [], []
    for k, text in enumerate(expanded(polys, names)):
        body = text.strip().rstrip(";").strip()
        body = body.replace("0*" + " + 0*".join(names) + " + ", "")
        P = sympy.Poly(sympy.sympify(body.replace("^", "**"), locals=local), *syms)
        d = int(P.total_degree())
        D = d if degrees is None else int(degrees[k])
        if D < d:
            raise InvalidSpecError(f"cannot homogenize a degree-{d} polynomial to degree {D}")
        terms = []
        for monom, coeff in P.terms():
            full = (D - sum(monom),) + tuple(monom)
            factors = [f"{g}^{e}" if e > 1 else g for g, e in zip(gens, full) if e]
            terms.append("*".join([complex_literal(complex(coeff))] + factors))
        out.append(" + ".join(terms) + ";" if terms else "0;")
        degs.append(D)
    return out, degs
