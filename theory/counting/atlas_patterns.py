"""Closed forms that families of atlas rows follow, fitted and checked, and stated as conjectures.

A family is a set of atlas rows that differ in one coordinate v ∈ {1, 2, 3} (the output dimension
n_y, the hidden width of a one-hidden-layer network, or the number of data points N) and agree in
everything else. Two rows fix a two-parameter form — a·v^k + b (k = 1, 2, 3) or a·c^v + b
(c = 2, 3, 4), a and b exact rationals — and every further row of the family checks it; a form
is kept only when some row checks it and none refutes it. Only rows with a count that is proved
(exact over QQ) or matched by evidence (ZZ/p) enter; each conjecture lists the rows it rests on
(the fit) and those that check it, and says whether any of them is evidence rather than proof.

Formulas stated in advance (`FORMULAS`) are checked on every row they speak of, refuted by any
row that disagrees. Independence of the input dimension n_0 (deep linear rows, one data point) is tested the same
way: a conjecture when two or more n_0 give a count at the same other widths, refuted by any
difference. These are measurements on finitely many instances, never theorems: the atlas prints
them as conjectures.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

from landscape_core.serialize import Serializable

POWERS = (1, 2, 3)
BASES = (2, 3, 4)


@dataclass(frozen=True)
class Conjecture(Serializable):
    """A closed form a family of atlas rows follows (or n_0-independence), with the rows behind it.

    Fields:
        family: the rows' shared description, e.g. 'deep linear, hidden (2,), n_0 = 1, N = 1'.
        variable: the coordinate that varies ('n_y', 'width', 'N', or 'n_0').
        statement: the closed form, e.g. 'count = 8·n_y^2 + 1', or 'count does not depend on n_0'.
        rests_on: keys of the rows that fixed the form.
        checked_on: keys of the further rows that agree with it.
        refuted_by: keys of rows that disagree (empty for a stated conjecture).
        evidence_rows: keys among those whose count is evidence over ZZ/p, not proof.
    """

    family: str
    variable: str
    statement: str
    rests_on: tuple[str, ...]
    checked_on: tuple[str, ...]
    refuted_by: tuple[str, ...] = ()
    evidence_rows: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        """Return whether every row of the family agrees (and at least one row checks the form)."""
        return bool(self.checked_on) and not self.refuted_by


def _usable(row) -> bool:
    return row.status == "computed" and row.count is not None and row.proof != "not proved"


def _fraction_text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"({q.numerator}/{q.denominator})"


def _forms(var: str) -> list[tuple[str, Callable[[int], Fraction]]]:
    """Return (name, v ↦ g(v)) for the candidate shapes a·g(v) + b."""
    out = [(f"{var}^{k}" if k > 1 else var, (lambda v, k=k: Fraction(v) ** k)) for k in POWERS]
    return out + [(f"{c}^{var}", (lambda v, c=c: Fraction(c) ** v)) for c in BASES]


def fit_form(points: dict[int, int], var: str) -> tuple[str, Callable[[int], Fraction], tuple[int, int]] | None:
    """Return (statement, the fitted function, the two v's it rests on) for the first form the points follow.

    The two smallest v fix a and b of a·g(v) + b; the form is returned only if every other point
    agrees and there is at least one other point.
    """
    vs = sorted(points)
    if len(vs) < 3:
        return None
    v1, v2 = vs[0], vs[1]
    for name, g in _forms(var):
        if g(v2) == g(v1):
            continue
        a = Fraction(points[v2] - points[v1]) / (g(v2) - g(v1))
        b = points[v1] - a * g(v1)
        if a == 0:
            continue
        if all(a * g(v) + b == points[v] for v in vs[2:]):
            text = f"count = {_fraction_text(a)}·{name}" + (f" + {_fraction_text(b)}" if b > 0 else
                                                           f" − {_fraction_text(-b)}" if b < 0 else "")
            return text, (lambda v, a=a, b=b, g=g: a * g(v) + b), (v1, v2)
    return None


def _families(rows: Sequence, axis: str) -> dict[str, dict[int, object]]:
    """Return {family description: {v: row}} for the rows varying along `axis`."""
    fam: dict[str, dict[int, object]] = {}
    for r in rows:
        a = r.architecture
        w = a.widths
        if axis == "n_y":
            desc = f"{a.family}, P = {a.activation}, hidden {tuple(w[1:-1])}, n_0 = {w[0]}, N = {a.points}"
            v = w[-1]
        elif axis == "width" and a.hidden == 1:
            desc = f"{a.family}, P = {a.activation}, one hidden layer, n_0 = {w[0]}, n_y = {w[-1]}, N = {a.points}"
            v = w[1]
        elif axis == "N" and a.family != "deep linear":
            desc = f"{a.family}, P = {a.activation}, fc {'-'.join(map(str, w))}"
            v = a.points
        else:
            continue
        fam.setdefault(desc, {})[v] = r
    return fam


def closed_forms(rows: Sequence, axes: Sequence[str] = ("n_y", "width", "N")) -> list[Conjecture]:
    """Return one conjecture per family that follows a two-parameter closed form along an axis (see the module)."""
    out = []
    usable = [r for r in rows if _usable(r)]
    for axis in axes:
        for desc, members in sorted(_families(usable, axis).items()):
            fit = fit_form({v: r.count for v, r in members.items()}, axis)
            if fit is None:
                continue
            statement, _, (v1, v2) = fit
            rest = [members[v] for v in sorted(members) if v not in (v1, v2)]
            used = [members[v1], members[v2]] + rest
            out.append(Conjecture(desc, axis, statement, (members[v1].architecture.key, members[v2].architecture.key),
                                  tuple(r.architecture.key for r in rest), (),
                                  tuple(r.architecture.key for r in used if r.proof == "evidence over ZZ/p")))
    return out


def input_independence(rows: Sequence) -> list[Conjecture]:
    """Return, per deep-linear family (hidden widths, n_y, N), whether the count is the same for every n_0 computed."""
    groups: dict[tuple, list] = {}
    for r in rows:
        if _usable(r) and r.architecture.family == "deep linear":
            a = r.architecture
            groups.setdefault((a.widths[1:], a.activation, a.points), []).append(r)
    out = []
    for (rest, act, n), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda r: r.architecture.widths[0])
        first = members[0]
        bad = tuple(r.architecture.key for r in members[1:] if r.count != first.count)
        desc = f"deep linear, widths (n_0, {', '.join(map(str, rest))}), N = {n}"
        out.append(Conjecture(desc, "n_0", f"count = {first.count} for every n_0" if not bad
                              else f"count depends on n_0 ({', '.join(str(r.count) for r in members)})",
                              (first.architecture.key,), tuple(r.architecture.key for r in members[1:] if r.count == first.count),
                              bad, tuple(r.architecture.key for r in members if r.proof == "evidence over ZZ/p")))
    return out


def one_hidden_layer_count(h: int, n_y: int) -> int:
    """Return Σ_k C(h, k)·C(n_y, k)·4^k: the conjectured critical-point count of a deep linear fc n_0-h-n_y
    network on one data point with a generic penalty (k: the rank of a critical point's hidden layer).

    Fitted here on the atlas's own rows (h, n_y ≤ 3; it gives 5, 9, 13 and 9, 33, 73 and 13, 73, 245),
    not taken from a paper: a conjecture, checked on every one-hidden-layer deep linear row.
    """
    from math import comb
    return sum(comb(h, k) * comb(n_y, k) * 4 ** k for k in range(min(h, n_y) + 1))


# (statement, which rows it speaks of, the count it predicts)
FORMULAS = (
    ("count = Σ_k C(h,k)·C(n_y,k)·4^k (deep linear fc n_0-h-n_y, N = 1)",
     lambda a: a.family == "deep linear" and a.hidden == 1 and a.points == 1,
     lambda a: one_hidden_layer_count(a.widths[1], a.widths[2])),
)


def stated_formulas(rows: Sequence, formulas=FORMULAS) -> list[Conjecture]:
    """Return, per formula, the rows it speaks of that agree and those that refute it (usable rows only)."""
    out = []
    for statement, applies, predict in formulas:
        rel = [r for r in rows if _usable(r) and applies(r.architecture)]
        if not rel:
            continue
        agree = tuple(r.architecture.key for r in rel if r.count == predict(r.architecture))
        bad = tuple(r.architecture.key for r in rel if r.count != predict(r.architecture))
        out.append(Conjecture("formula", "all", statement, (), agree, bad,
                              tuple(r.architecture.key for r in rel if r.proof == "evidence over ZZ/p")))
    return out


def conjectures(rows: Sequence) -> tuple[Conjecture, ...]:
    """Return the closed-form, n_0-independence and stated-formula conjectures the rows support (refuted included)."""
    return tuple(closed_forms(rows)) + tuple(input_independence(rows)) + tuple(stated_formulas(rows))
