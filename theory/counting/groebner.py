"""Exact consistency and solution counts of polynomial systems by reduced Gröbner bases (sympy).

Hilbert's weak Nullstellensatz: V(I) = ∅ over C ⇔ 1 ∈ I ⇔ the reduced Gröbner basis is {1}
(Theory II §3.2: "inconsistent equations"). For a zero-dimensional ideal, the standard monomials
outside the leading-term ideal number dim_Q Q[w]/I, the complex solutions counted with
multiplicity (Cox–Little–O'Shea, *Ideals, Varieties, and Algorithms*, ch. 5 §3, Thm 6). Bases
modulo a prime p have the same leading ideal as over Q for all but finitely many p (Arnold 2003),
so two primes that agree give the count over Q unless both are unlucky (`count_verdict`).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Sequence

from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError


@dataclass(frozen=True)
class GroebnerCheck(Serializable):
    """Exact consistency of a polynomial system over Q by a reduced Gröbner basis (sympy).

    Fields:
        consistent: False iff the reduced basis is {1}, i.e. no complex solution (Nullstellensatz).
        basis_size: number of polynomials in the reduced basis.
        order: the monomial order used.
        seconds: wall time.
        n_solutions: dim_Q Q[w]/I, the number of complex solutions counted with multiplicity, when
            the ideal is zero-dimensional (the standard monomials outside the leading-term ideal);
            None when the solution set is positive-dimensional or empty.
        modulus: None for a basis over Q (exact); a prime p for a basis over GF(p) of the system
            with cleared denominators, which has the same leading ideal as over Q for all but
            finitely many ("unlucky") primes (Arnold 2003): far faster, as coefficients stay small.
    """

    consistent: bool
    basis_size: int
    order: str
    seconds: float
    n_solutions: int | None = None
    modulus: int | None = None


def groebner_check(polys: Sequence, order: str = "grevlex", modulus: int | None = None) -> GroebnerCheck:
    """Return whether 1 ∈ ⟨polys⟩, and dim Q[w]/I when finite (sympy PolyElements over QQ).

    Hilbert's weak Nullstellensatz: V(I) = ∅ over C ⇔ 1 ∈ I ⇔ the reduced Gröbner basis is {1}.
    `modulus`: a prime p to compute over GF(p) instead of Q (see GroebnerCheck.modulus).
    """
    import sympy

    t0 = time.perf_counter()
    polys = [p for p in polys if p != 0]
    if not polys:
        return GroebnerCheck(True, 0, order, 0.0, modulus=modulus)
    ring = polys[0].ring
    if modulus is None:
        G = sympy.groebner([p.as_expr() for p in polys], *ring.symbols, order=order, domain=sympy.QQ)
    else:
        cleared = [p.clear_denoms()[1] for p in polys]
        if any(all(int(c) % modulus == 0 for c in p.coeffs()) for p in cleared):
            raise InvalidSpecError(f"the prime {modulus} divides every coefficient of an equation: pick another")
        G = sympy.groebner([p.as_expr() for p in cleared], *ring.symbols, order=order, modulus=modulus)
    basis = list(G.exprs)
    inconsistent = len(basis) == 1 and basis[0] == 1
    leading = [g.monoms(order=order)[0] for g in G.polys]
    count = None if inconsistent else standard_monomial_count(leading, len(ring.symbols))
    return GroebnerCheck(not inconsistent, len(basis), order, time.perf_counter() - t0, count, modulus)


def standard_monomial_count(leading: Sequence[Sequence[int]], n_vars: int) -> int | None:
    """Return the number of monomials divisible by no leading monomial, or None if it is infinite.

    Finite iff every variable has a pure power among the leading monomials (the ideal is then
    zero-dimensional, and the count is dim_Q Q[w]/I: Cox–Little–O'Shea, Ch. 5 §3, Thm 6).
    """
    bounds = []
    for i in range(n_vars):
        pure = [m[i] for m in leading if m[i] > 0 and all(e == 0 for j, e in enumerate(m) if j != i)]
        if not pure:
            return None
        bounds.append(min(pure))
    count = 0
    for mono in itertools.product(*(range(b) for b in bounds)):
        if not any(all(a >= e for a, e in zip(mono, m)) for m in leading):
            count += 1
    return count


def zero_error_groebner(zero_error, max_terms: int = 2_000) -> GroebnerCheck:
    """Return the Gröbner consistency check of a (tiny) zero-error system; ExpansionTooLarge if it is not tiny."""
    return groebner_check(zero_error.polynomials(max_terms=max_terms))


def count_verdict(checks: Sequence[GroebnerCheck], found: int) -> str:
    """Return one line: dim Q[w]/I from bases modulo several primes, beside the `found` distinct regular homotopy solutions.

    Primes that disagree reveal an unlucky prime; agreeing primes give the count over Q unless all
    are unlucky (Arnold 2003).
    """
    seconds = f"{sum(g.seconds for g in checks):.2f} s"
    counts = {(g.consistent, g.n_solutions) for g in checks}
    if len(counts) > 1:
        return f"the primes disagree ({', '.join(str(g.n_solutions) for g in checks)}): an unlucky prime; {seconds}"
    g = checks[0]
    if not g.consistent:
        return f"no complex solution (1 in the ideal); {seconds}"
    if g.n_solutions is None:
        return f"positive-dimensional solution set (not zero-dimensional); {seconds}"
    verdict = "all found" if found == g.n_solutions else f"homotopy found {found} distinct regular"
    return (f"{g.n_solutions} complex solutions with multiplicity (dim Q[w]/I, bases mod {len(checks)} primes): "
            f"{verdict}; {seconds}")
