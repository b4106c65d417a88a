"""Generic parameters by construction: large random rationals, drawn distinct, and a record of the draw.

A count of solutions (critical points, witness points) is constant on a dense open set of the
parameters and can only drop outside it (Sommese–Wampler 2005, Thm 7.1.1 and §A.14): an exact
count at a special instance is a count of that instance, not the generic count. Coincidences are
the usual way out of the open set — two equal L2 penalties on one unit's outgoing weights merge
terms of ½∇L = Jᵀr + λ ⊙ w and lower the count (Mehta, Chen, Tang, Hauenstein 2018,
arXiv:1810.07716, need λ generic for their counts). So parameters that must be generic are drawn
as rationals p/q with q uniform in [2^bits, 2^(bits+1)) and p making p/q uniform in the range:
about 2^(2·bits) values per entry, a collision probability of ~K²·2^(−2·bits) per draw, and
equal entries are redrawn anyway, so distinctness is guaranteed rather than likely. Exact
rationals keep the systems exact for Macaulay2, Gröbner bases and Krawczyk certification.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import stream

GENERIC_BITS = 20  # denominators in [2^20, 2^21): ~10^12 values per entry


@dataclass(frozen=True)
class Draw:
    """How generic parameters were drawn, for reports.

    Fields:
        stream: the named random stream (`landscape_core.seeds.stream`) under the seed.
        low, high: the range of each value.
        bits: denominators q are uniform in [2^bits, 2^(bits+1)).
    """

    stream: str
    low: Fraction
    high: Fraction
    bits: int = GENERIC_BITS

    def describe(self) -> str:
        """Return one line: the distribution and the distinctness guarantee."""
        return (f"p/q uniform in [{self.low}, {self.high}], q uniform in [2^{self.bits}, 2^{self.bits + 1}), "
                f"all distinct (stream '{self.stream}')")


def generic_rationals(rng: np.random.Generator, n: int, low: Fraction, high: Fraction,
                      bits: int = GENERIC_BITS) -> tuple[Fraction, ...]:
    """Return n distinct nonzero rationals p/q, q uniform in [2^bits, 2^(bits+1)), p/q uniform in [low, high].

    Equal values and zeros are redrawn (both can lower counts); the loop ends with probability one.
    """
    low, high = Fraction(low), Fraction(high)
    if not low < high:
        raise InvalidSpecError(f"need low < high, got [{low}, {high}]")
    out: list[Fraction] = []
    seen: set[Fraction] = set()
    while len(out) < n:
        q = int(rng.integers(2 ** bits, 2 ** (bits + 1)))
        lo, hi = -((-low.numerator * q) // low.denominator), (high.numerator * q) // high.denominator
        if lo > hi:  # no multiple of 1/q in a very narrow range: draw another q
            continue
        v = Fraction(int(rng.integers(lo, hi + 1)), q)
        if v != 0 and low <= v <= high and v not in seen:
            out.append(v)
            seen.add(v)
    return tuple(out)


PENALTY_SCALE = Fraction(1, 10)


def penalty_draw(seed: int, scale: Fraction = PENALTY_SCALE) -> Draw:
    """Return the Draw of `generic_penalty` (λ_j in [scale/4, scale])."""
    return Draw("penalty", scale / 4, scale)


def generic_penalty(n_params: int, seed: int, scale: Fraction = PENALTY_SCALE) -> tuple[Fraction, ...]:
    """Return λ_j, j < K: distinct generic rationals in [scale/4, scale] (a generic positive L2 penalty)."""
    d = penalty_draw(seed, scale)
    return generic_rationals(stream(seed, d.stream), n_params, d.low, d.high, d.bits)


def coincidences(values: Sequence[Fraction]) -> tuple[tuple[int, ...], ...]:
    """Return the index groups of equal values (each group of size ≥ 2), in first-occurrence order."""
    groups: dict[Fraction, list[int]] = {}
    for i, v in enumerate(values):
        groups.setdefault(Fraction(v), []).append(i)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)
