"""Checks on polynomial text before PHCpack parses it: characters, numbers, size and parse cost.

PHCpack's parser (Ada) aborts the process on non-ASCII input, misreads numbers beyond the double
range, and expands nested formulas term by term into sorted term lists: multiplying polynomials of
a and b terms inserts a·b terms into a list of up to r = min(a·b, C(n + d, d)) terms, about a·b·r
operations (the dense bound C(n + d, d) counts the monomials of degree ≤ d in n variables). A
formula like ((Σ w x + b)^3 ...)^3 can cost 10^11 such operations: minutes in the parser, at over
a gigabyte. `parse_cost` bounds that work from the formula's tree without expanding anything, and
`check_polys` refuses text over `MAX_PARSE_COST` (a few seconds of parsing) with one line. The model
is calibrated on (x_1 + … + x_n + 1)^k: 3.8e6, 4.1e7 and 9.6e8 operations took 0.54 s, 6.3 s and 137 s
(7e6 per second within 10 %).
"""
from __future__ import annotations

import math
import re
from typing import Sequence

from landscape_core.errors import InvalidSpecError

MAX_CHARS = 4_000_000          # characters in one system (PHCpack copies each string several times)
MAX_PARSE_COST = 5e7           # bound on the parser's term operations: PHCpack does about 7e6 per second
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^();]))")
_NUMBER = re.compile(r"(?<![A-Za-z_0-9.])(\d+\.?\d*|\.\d+)([eEdD][-+]?\d+)?")
_IMAGINARY = {"i", "I"}


def _dense(n: int, d: int) -> float:
    """Return C(n + d, d), the number of monomials of degree ≤ d in n variables (as a float, inf if huge)."""
    if d <= 0:
        return 1.0
    log = math.lgamma(n + d + 1) - math.lgamma(d + 1) - math.lgamma(n + 1)
    return math.exp(log) if log < 700 else math.inf


class _Parser:
    """Recursive descent over PHCpack formula syntax, returning (term bound, degree bound) per node."""

    def __init__(self, text: str, n_vars: int, budget: float) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.n = max(n_vars, 1)
        self.cost = 0.0
        self.budget = budget

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        text = text.rstrip().rstrip(";")
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise InvalidSpecError(f"unexpected character {text[pos:].strip()[0]!r} at column {pos + 1}")
            kind = m.lastgroup
            out.append((kind, m.group(kind)))
            pos = m.end()
        return out

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _charge(self, work: float) -> None:
        self.cost += work
        if self.cost > self.budget:
            raise OverflowError

    def _product(self, a: tuple[float, int], b: tuple[float, int]) -> tuple[float, int]:
        ta, da = a
        tb, db = b
        d = da + db
        r = min(ta * tb, _dense(self.n, d))
        self._charge(ta * tb * r if min(ta, tb) > 1 else ta * tb)
        return r, d

    def expr(self) -> tuple[float, int]:
        t, d = self.term()
        while self._peek() in ("+", "-"):
            self.pos += 1
            t2, d2 = self.term()
            t, d = t + t2, max(d, d2)
            self._charge(t)
        return t, d

    def term(self) -> tuple[float, int]:
        node = self.factor()
        while self._peek() in ("*", "/", "(") or (self.pos < len(self.tokens) and self.tokens[self.pos][0] in ("num", "name")):
            if self._peek() == "/":
                self.pos += 1
                den = self.factor()
                if den[1] > 0:
                    raise InvalidSpecError("division by a polynomial")
                continue
            if self._peek() == "*":
                self.pos += 1
            node = self._product(node, self.factor())
        return node

    def factor(self) -> tuple[float, int]:
        if self._peek() in ("+", "-"):
            self.pos += 1
            return self.factor()
        base = self.primary()
        if self._peek() in ("^", "**"):
            self.pos += 1
            if self.pos >= len(self.tokens) or self.tokens[self.pos][0] != "num" or not self.tokens[self.pos][1].isdigit():
                raise InvalidSpecError("an exponent must be a nonnegative integer")
            k = int(self.tokens[self.pos][1])
            self.pos += 1
            return self._power(base, k)
        return base

    def _power(self, base: tuple[float, int], k: int) -> tuple[float, int]:
        t, d = base
        if k == 0:
            return 1.0, 0
        if t <= 1:
            self._charge(k)
            return 1.0, d * k
        node = base
        for _ in range(k - 1):  # PHCpack multiplies k − 1 times
            node = self._product(node, base)
        return node

    def primary(self) -> tuple[float, int]:
        if self.pos >= len(self.tokens):
            raise InvalidSpecError("the polynomial ends early")
        kind, val = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return 1.0, 0
        if kind == "name":
            return (1.0, 0) if val in _IMAGINARY else (1.0, 1)
        if val == "(":
            node = self.expr()
            if self._peek() != ")":
                raise InvalidSpecError("unbalanced parentheses")
            self.pos += 1
            return node
        raise InvalidSpecError(f"unexpected {val!r}")


def parse_cost(poly: str, n_vars: int, budget: float = math.inf) -> float:
    """Return an upper bound on PHCpack's term operations to parse `poly` (inf once over `budget`).

    Sum of a·b·min(a·b, C(n + d, d)) over the products in the formula tree, a and b the term
    bounds of the factors; InvalidSpecError for text that is not a polynomial formula.
    """
    p = _Parser(poly, n_vars, budget)
    try:
        p.expr()
    except OverflowError:
        return math.inf
    if p.pos != len(p.tokens):
        raise InvalidSpecError(f"unexpected {p.tokens[p.pos][1]!r} after a complete polynomial")
    return p.cost


_EXPONENT_OR_NUMBER = re.compile(r"((?:\^|\*\*)\s*\d+)|" + _NUMBER.pattern)
_SHAPE_COSTS: dict[tuple[str, int], float] = {}
_SHAPE_CACHE_SIZE = 4096


def shape(poly: str) -> str:
    """Return `poly` with every coefficient replaced by 1 and exponents kept: the text its parse cost depends on."""
    return _EXPONENT_OR_NUMBER.sub(lambda m: m.group(1) or "1", poly)


def shape_cost(poly: str, n_vars: int, budget: float = math.inf) -> float:
    """Return `parse_cost(poly)`, remembered by `shape`: parameter homotopies re-send one formula with new coefficients."""
    key = (shape(poly), n_vars)
    cost = _SHAPE_COSTS.get(key)
    if cost is None:
        cost = parse_cost(key[0], n_vars)
        if len(_SHAPE_COSTS) >= _SHAPE_CACHE_SIZE:
            _SHAPE_COSTS.clear()
        _SHAPE_COSTS[key] = cost
    return cost if cost <= budget else math.inf


def _check_text(k: int, p: str) -> None:
    if not p.isascii():
        col, ch = next((j, c) for j, c in enumerate(p) if not c.isascii())
        hint = " (write '-')" if ch in "\u2212\u2013\u2014" else ""
        raise InvalidSpecError(f"polynomial {k} has the non-ASCII character {ch!r} (U+{ord(ch):04X}) at column "
                               f"{col + 1}: PHCpack reads ASCII only{hint}")
    bad = next((c for c in p if not (c.isprintable() or c in " \t\n\r")), None)
    if bad is not None:
        raise InvalidSpecError(f"polynomial {k} has the control character {bad!r}")
    for m in _NUMBER.finditer(p):
        text = m.group(0).replace("d", "e").replace("D", "e")
        v = float(text)
        if math.isinf(v) or (v == 0.0 and any(c in "123456789" for c in m.group(1))):
            raise InvalidSpecError(f"polynomial {k} has the number {m.group(0)}, outside the double-precision range")


def check_polys(polys: Sequence[str], n_vars: int | None = None, max_cost: float = MAX_PARSE_COST) -> None:
    """Raise InvalidSpecError (one line) unless PHCpack can parse `polys` safely and in seconds.

    Refused: non-ASCII or control characters, numbers outside the double range, more than
    MAX_CHARS characters, and formulas whose parse-cost bound (`parse_cost`) exceeds `max_cost`.
    """
    total = sum(len(p) for p in polys)
    if total > MAX_CHARS:
        raise InvalidSpecError(f"the system has {total:,} characters, over the {MAX_CHARS:,} PHCpack is given: "
                               "use a smaller network or fewer points")
    names = set()
    for k, p in enumerate(polys, 1):
        _check_text(k, p)
        names.update(m.group("name") for m in _TOKEN.finditer(p) if m.group("name"))
    n = n_vars if n_vars is not None else len(names - _IMAGINARY)
    cost = 0.0
    for k, p in enumerate(polys, 1):
        try:
            cost += shape_cost(p, n, max_cost - cost)
        except InvalidSpecError as exc:
            shown = p if len(p) < 60 else p[:57] + "..."
            raise InvalidSpecError(f"PHCpack cannot parse polynomial {k} ({exc}): {shown!r}") from None
        if cost > max_cost:
            raise InvalidSpecError(
                f"expanding the system would cost PHCpack's parser over {max_cost:.0e} term operations (minutes, "
                f"gigabytes) by polynomial {k}: use a smaller network, fewer layers or --monodromy")
