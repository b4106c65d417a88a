"""Polynomial systems as text for other solvers: PHCpack, Macaulay2 and JSON, and back.

PHCpack input carries float coefficients (PHCpack rejects rational literals such as 8450/1369);
Macaulay2 and JSON carry exact rationals. Equations are written expanded when a guaranteed term
bound allows and as nested formulas otherwise (both solvers accept them). `read_phc` and
`parse_equations` read the text back, which the round-trip tests use.
"""
from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any, Sequence

from landscape_core.errors import ExpansionTooLarge, InvalidSpecError
from theory.network.equations import DEFAULT_MAX_TERMS, CriticalSystem, ZeroErrorSystem


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
    render = _expanded_exact if exact else _expanded_phc
    if isinstance(system, CriticalSystem) or expanded is True:
        polys = system.polynomials(max_terms=max_terms)
        return [render(p, system.variable_names) for p in polys], True
    if expanded is None:
        try:
            polys = system.polynomials(max_terms=max_terms)
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
