"""Polynomial systems and their solutions in the solvers' own file formats: PHCpack, Macaulay2, Bertini.

Reading (`read_system_text`, `load_system`) accepts what people bring:

* PHCpack input: a first line 'n' (n equations, as many variables) or 'n m' (n equations in m
  variables), the polynomials each ending in ';', and optionally what PHCpack writes after them
  (a 'THE SOLUTIONS' section, read back as the file's listed solutions); without a first line, the
  polynomials alone.
* Macaulay2: a ring 'R = QQ[x,y]' (or CC, RR, ZZ/p) and 'I = ideal(p1, p2, ...)' (or ideal{...}).
* Bertini input: the INPUT section's variable_group, function, constant and definition lines.

Variables are in the order the file declares them (Macaulay2's ring, Bertini's variable_group),
else in natural sorted order (x1, x2, …, x10); never PHCpack's order of first appearance.

Writing (`system_text`) gives any System in the three formats, coefficients exact where they can
be (decimal literals become the rationals they denote, for Macaulay2's QQ and Bertini's parser,
which rejects exponent notation such as 'e+00'); `solutions_text` writes a solve's solutions as
JSON, a PHCpack solution list, or Bertini's finite_solutions layout.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscape_core.errors import InputFileError, InvalidSpecError
from theory.homotopy.path_result import PathOutcome
from theory.polynomials.system import System, from_strings

FORMATS = ("phc", "m2", "bertini")
SOLUTION_FORMATS = ("json", "phc", "bertini")
_NUMBER = re.compile(r"(?<![A-Za-z_])(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
IMAGINARY = ("i", "I")  # PHCpack's imaginary unit; Bertini's is I


@dataclass(frozen=True)
class SystemFile:
    """A system read from a file, with what the file said about it.

    Fields:
        system: the System (variables in declared or natural sorted order).
        format: 'phc', 'm2' or 'bertini'.
        listed: solutions the file carries (a PHCpack 'THE SOLUTIONS' section), in the system's
            variable order; empty when none.
        declared: how the file declared its variables: 'declared' (ring, variable_group,
            --variables) or 'sorted' (natural order of the names found).
    """

    system: System
    format: str
    listed: tuple[tuple[complex, ...], ...] = ()
    declared: str = "sorted"


def natural_key(name: str) -> tuple:
    """Return a sort key that orders x2 before x10 (digits compared as numbers)."""
    return tuple(int(t) if t.isdigit() else t for t in re.findall(r"\d+|\D+", name))


def variables_of(polys: Sequence[str], imaginary: Sequence[str] = IMAGINARY) -> list[str]:
    """Return the variable names in PHCpack-syntax polynomials, in natural sorted order."""
    names = set()
    for p in polys:
        names.update(_IDENT.findall(_NUMBER.sub(" ", p)))
    return sorted(names - set(imaginary), key=natural_key)


def detect_format(text: str, path: str | None = None) -> str:
    """Return 'bertini', 'm2' or 'phc' from the file's extension or, failing that, its content."""
    ext = os.path.splitext(path or "")[1].lower()
    if ext in (".m2",):
        return "m2"
    if ext in (".bertini",) or os.path.basename(path or "") == "input":
        return "bertini"
    if ext in (".phc",):
        return "phc"
    if re.search(r"\bvariable_group\b", text) or re.search(r"^\s*INPUT\s*$", text, re.M):
        return "bertini"
    if re.search(r"\bideal\s*[({]", text) or re.search(r"\b(QQ|CC|RR|ZZ/\d+)\s*\[", text):
        return "m2"
    return "phc"


def phc_polynomial(text: str, names: Sequence[str]) -> str:
    """Return a polynomial written in another solver's syntax (exact rationals, '/' anywhere) as PHCpack
    text: expanded, one float (or complex) coefficient per monomial, as PHCpack's parser needs."""
    import sympy

    from theory.polynomials.system import complex_literal

    expr = _exact(text, names)
    poly = sympy.Poly(expr, *[sympy.Symbol(n) for n in names])
    terms = []
    for monom, coeff in poly.terms():
        factors = [f"{n}^{e}" if e > 1 else n for n, e in zip(names, monom) if e]
        terms.append("*".join([complex_literal(complex(coeff))] + factors))
    return " + ".join(terms) if terms else "0"


def _ordered(polys: list[str], names: Sequence[str] | None, found: list[str], label: str,
             exact: bool = False) -> tuple[System, str]:
    """Return (the System in the given or sorted order, 'declared' or 'sorted'), refusing unknown names.

    `exact`: the polynomials are in another solver's syntax and are rewritten for PHCpack (`phc_polynomial`).
    """
    order = list(names) if names else found
    if exact and order:
        polys = [phc_polynomial(p, order) for p in polys]
    if names:
        missing = sorted(set(found) - set(names), key=natural_key)
        if missing:
            raise InvalidSpecError(f"variables {', '.join(missing)} are not among the declared {', '.join(names)}")
        return from_strings(polys, list(names), label=label), "declared"
    if not found:
        raise InvalidSpecError("the system has no variables")
    return from_strings(polys, found, label=label), "sorted"


def _read_phc(text: str, label: str, names: Sequence[str] | None) -> SystemFile:
    body, _, sols = text.partition("THE SOLUTIONS")
    lines = body.strip().split("\n", 1)
    head = lines[0].split()
    count = n_vars = None
    if head and all(tok.isdigit() for tok in head) and len(head) <= 2:
        count = int(head[0])
        n_vars = int(head[1]) if len(head) == 2 else None
        body = lines[1] if len(lines) > 1 else ""
    pieces = [p.strip() for p in body.split(";")]
    polys = [p for p in pieces if p]
    if count is not None:
        if len(polys) < count:
            raise InvalidSpecError(f"the header announces {count} polynomials, the file has {len(polys)}")
        if len(polys) > count:
            extra = polys[count]
            raise InvalidSpecError(f"the header announces {count} polynomials, and more text follows them "
                                   f"({extra[:40]!r}...): a PHCpack file ends after them or with 'THE SOLUTIONS'")
    found = variables_of(polys)
    if n_vars is not None and names is None and len(found) != n_vars:
        raise InvalidSpecError(f"the header announces {n_vars} variables, the polynomials have {len(found)} "
                               f"({', '.join(found)})")
    if n_vars is None and count is not None and names is None and len(found) != count:
        raise InvalidSpecError(f"the header '{count}' announces a square system, the polynomials have "
                               f"{len(found)} variables ({', '.join(found)}): write the header as "
                               f"'{count} {len(found)}'")
    system, declared = _ordered(polys, names, found, label)
    listed = _phc_solutions(sols, system.names) if sols else ()
    return SystemFile(system, "phc", listed, declared)


def _phc_solutions(text: str, names: Sequence[str]) -> tuple[tuple[complex, ...], ...]:
    """Return the coordinates of each solution in a PHCpack solution list ('solution k :' blocks)."""
    from theory.homotopy.phcpack import parse_solution

    out = []
    for block in re.split(r"\bsolution\s+\d+\s*:", text)[1:]:
        x = parse_solution(block, names).x
        if np.all(np.isfinite(x)):
            out.append(tuple(complex(v) for v in x))
    return tuple(out)


def _top_level_split(text: str) -> list[str]:
    """Return `text` split at commas outside parentheses and brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _bracketed(text: str, start: int) -> str:
    """Return the text inside the bracket that opens at `start` (matching nesting)."""
    depth = 0
    for k in range(start, len(text)):
        if text[k] in "([{":
            depth += 1
        elif text[k] in ")]}":
            depth -= 1
            if depth == 0:
                return text[start + 1:k]
    raise InvalidSpecError("an unclosed bracket")


def _read_m2(text: str, label: str, names: Sequence[str] | None) -> SystemFile:
    text = re.sub(r"--.*", "", text)  # Macaulay2 comments
    ring = re.search(r"(QQ|CC|RR|ZZ\s*/\s*\d+)(?:_\d+)?\s*\[", text)
    declared = None
    if ring:
        inside = _bracketed(text, ring.end() - 1)
        declared = [v for v in _top_level_split(inside) if "=>" not in v]
        if any(not _IDENT.fullmatch(v) for v in declared):
            raise InvalidSpecError(f"cannot read the ring's variables {inside!r}: write them as R = QQ[x,y,z]")
    ideal = re.search(r"\bideal\s*([({])", text)
    if not ideal:
        raise InvalidSpecError("no 'ideal(...)' in the Macaulay2 file")
    polys = [p.replace("ii", "I") for p in _top_level_split(_bracketed(text, ideal.start(1)))]
    polys = [re.sub(r"\bI\b", "i", p) for p in polys]
    found = variables_of(polys)
    system, how = _ordered(polys, names or declared, found, label, exact=True)
    return SystemFile(system, "m2", (), how)


def _read_bertini(text: str, label: str, names: Sequence[str] | None) -> SystemFile:
    text = re.sub(r"%.*", "", text)  # Bertini comments
    match = re.search(r"^\s*INPUT\s*$(.*?)^\s*END\s*;?\s*$", text, re.M | re.S)
    body = match.group(1) if match else text
    statements = [s.strip() for s in body.split(";") if s.strip()]
    variables: list[str] = []
    functions: list[str] = []
    constants: set[str] = set()
    defs: dict[str, str] = {}
    for st in statements:
        word, _, rest = st.partition(" ")
        if word in ("variable_group", "variable"):
            variables += [v.strip() for v in rest.split(",") if v.strip()]
        elif word == "function":
            functions += [v.strip() for v in rest.split(",") if v.strip()]
        elif word == "constant":
            constants.update(v.strip() for v in rest.split(",") if v.strip())
        elif word in ("hom_variable_group", "pathvariable", "parameter", "random", "random_real"):
            raise InvalidSpecError(f"Bertini's '{word}' is not read here: give the system as functions of "
                                   f"variable_group variables")
        elif "=" in st:
            name, _, expr = st.partition("=")
            defs[name.strip()] = expr.strip()
        else:
            raise InvalidSpecError(f"cannot read the Bertini statement {st[:60]!r}")
    if not functions:
        raise InvalidSpecError("no 'function' line in the Bertini input")

    def expand(expr: str, depth: int = 0) -> str:
        if depth > 50:
            raise InvalidSpecError("Bertini definitions refer to each other in a cycle")
        return _IDENT.sub(lambda m: f"({expand(defs[m.group(0)], depth + 1)})"
                          if m.group(0) in defs and m.group(0) not in functions else m.group(0), expr)

    missing = [f for f in functions if f not in defs]
    if missing:
        raise InvalidSpecError(f"Bertini functions without a definition: {', '.join(missing)}")
    polys = [re.sub(r"\bI\b", "i", expand(defs[f])) for f in functions]
    unknown = set(variables_of(polys)) - set(variables)
    if unknown - constants:
        raise InvalidSpecError(f"names {', '.join(sorted(unknown))} are neither variables nor defined")
    system, how = _ordered(polys, names or variables, variables_of(polys), label, exact=True)
    return SystemFile(system, "bertini", (), how)


def read_system_text(text: str, label: str = "file", fmt: str | None = None,
                     variables: Sequence[str] | None = None) -> SystemFile:
    """Return the system in `text` (format `fmt`, else detected), variables in `variables` order if given."""
    fmt = fmt or detect_format(text)
    if variables is not None and len(set(variables)) != len(variables):
        raise InvalidSpecError(f"variables repeat in {', '.join(variables)}")
    reader = {"phc": _read_phc, "m2": _read_m2, "bertini": _read_bertini}.get(fmt)
    if reader is None:
        raise InvalidSpecError(f"unknown system format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return reader(text, label, variables)


def load_system(path: str | os.PathLike, variables: Sequence[str] | None = None) -> SystemFile:
    """Return the system in the file at `path` (InputFileError naming the file when unreadable or malformed)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except IsADirectoryError:
        raise InputFileError(f"{path} is a directory, not a system file") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"cannot decode {path} as UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        return read_system_text(text, label=str(path), fmt=detect_format(text, str(path)), variables=variables)
    except InvalidSpecError as exc:
        raise InputFileError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------------------------
# Writing


def _exact(poly: str, names: Sequence[str]):
    """Return the PHCpack-syntax polynomial as an expanded sympy expression with exact rational coefficients."""
    import sympy

    local = {n: sympy.Symbol(n) for n in names}
    local.update({"i": sympy.I, "I": sympy.I})
    expr = sympy.sympify(poly.strip().rstrip(";").replace("^", "**"), locals=local, rational=True)
    return sympy.expand(expr)


def _text(expr, imaginary: str) -> str:
    return str(expr).replace("**", "^").replace("I", imaginary) if imaginary != "I" else str(expr).replace("**", "^")


def system_text(system: System, fmt: str) -> str:
    """Return `system` as a PHCpack, Macaulay2 or Bertini input file (coefficients exact for M2 and Bertini)."""
    names = list(system.names)
    if fmt == "phc":
        head = f"{system.n_equations}" if system.is_square else f"{system.n_equations} {system.n_vars}"
        # the first polynomial names every variable in order, so PHCpack's symbol table keeps it
        from theory.homotopy.phcpack import pin_order

        return head + "\n" + "\n".join(" " + p for p in pin_order(system.polys, names)) + "\n"
    exprs = [_exact(p, names) for p in system.polys]
    complex_coefficients = any(e.has(__import__("sympy").I) for e in exprs)
    if fmt == "m2":
        ring = "CC" if complex_coefficients else "QQ"
        body = ",\n  ".join(_text(e, "ii") for e in exprs)
        return f"R = {ring}[{','.join(names)}];\nI = ideal(\n  {body}\n);\n"
    if fmt == "bertini":
        funcs = [f"f{k + 1}" for k in range(len(exprs))]
        lines = ["CONFIG", "END;", "INPUT", f"variable_group {', '.join(names)};", f"function {', '.join(funcs)};"]
        lines += [f"{f} = {_text(e, 'I')};" for f, e in zip(funcs, exprs)]
        return "\n".join(lines + ["END;"]) + "\n"
    raise InvalidSpecError(f"unknown system format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _diagnostics(result, x, regular: bool) -> dict:
    """Return the measured err (last Newton step), rco (1/cond) and res (residual) of the path(s) ending at x."""
    ends = [p for p in result.paths if p.outcome == (PathOutcome.REGULAR if regular else PathOutcome.SINGULAR)]
    if not ends:
        return {"err": float("nan"), "rco": float("nan"), "res": float("nan")}
    dist = [float(np.max(np.abs(np.asarray(p.x) - np.asarray(x)))) for p in ends]
    nearest = ends[int(np.argmin(dist))]
    cond = nearest.condition
    return {"err": float(nearest.newton_step), "rco": 0.0 if not regular or not cond > 0 else 1.0 / cond,
            "res": float(nearest.residual)}


def _points(result) -> list[dict]:
    """Return every solution of a SolveResult as records: regular, then isolated singular (with multiplicity),
    each with the diagnostics of the path that reached it (err, rco, res as PHCpack names them)."""
    out = [{"class": "regular", "multiplicity": 1, "real": bool(r), "x": list(x), **_diagnostics(result, x, True)}
           for x, r in zip(result.solutions, result.real)]
    out += [{"class": "singular", "multiplicity": int(m), "real": bool(r), "x": list(x),
             **_diagnostics(result, x, False)}
            for x, m, r in zip(result.singular_points, result.multiplicities, result.singular_real)]
    return out


def solutions_text(result, fmt: str) -> str:
    """Return a SolveResult's isolated solutions as JSON, a PHCpack solution list or Bertini's finite_solutions.

    JSON also carries the classes that are not points (at infinity, failed) as counts and the
    positive-dimensional parts with their dimension, degree and a sample point.
    """
    names = list(result.names)
    points = _points(result)
    if fmt == "json":
        doc = {"variables": names, "system": result.label, "solved": result.what or "the square system itself",
               "solutions": [{**{k: v for k, v in p.items() if k not in ("err", "rco", "res")},
                              "newton_step": p["err"], "inverse_condition": p["rco"], "residual": p["res"],
                              "x": [[v.real, v.imag] for v in p["x"]]} for p in points],
               "at_infinity": result.outcomes["at_infinity"], "failed": result.outcomes["failed"],
               "positive_dimensional": [{"dimension": c.dimension, "degree": c.degree, "paths": c.endpoints,
                                         "sample": [[v.real, v.imag] for v in c.sample]} for c in result.components],
               "completeness": result.completeness, "seed": result.seed}
        return json.dumps(doc, indent=1) + "\n"
    if fmt == "phc":
        rule = "=" * 75
        lines = ["THE SOLUTIONS :", f"{len(points)} {len(names)}", rule]
        for k, p in enumerate(points):
            lines += [f"solution {k + 1} :", "t :  1.00000000000000E+00   0.00000000000000E+00",
                      f"m : {p['multiplicity']}", "the solution for t :"]
            lines += [f" {n} : {complex(v).real: .14E}  {complex(v).imag: .14E}" for n, v in zip(names, p["x"])]
            lines.append(f"== err : {p['err']: .3E} = rco : {p['rco']: .3E} = res : {p['res']: .3E} ==")
        return "\n".join(lines) + "\n"
    if fmt == "bertini":
        blocks = ["\n".join(f"{complex(v).real:.16g} {complex(v).imag:.16g}" for v in p["x"]) for p in points]
        return f"{len(points)}\n\n" + "".join(b + "\n\n" for b in blocks)
    raise InvalidSpecError(f"unknown solution format {fmt!r}: choose one of {', '.join(SOLUTION_FORMATS)}")
