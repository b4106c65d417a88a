"""Random complex data for homotopies: the one place that draws random coefficients, combinations and slices.

Everything generic in numerical algebraic geometry is "outside a proper algebraic subset", so a
random complex choice works with probability one (Sommese–Wampler 2005, ch. 4). Entries are
standard complex Gaussians (real and imaginary parts N(0, 1/2)); streams come from
`common.seeds.stream`, so the same seed gives the same slices in every module that asks.

* `randomize`: R·f with R a random r × m matrix (Bertini's randomization, Sommese–Wampler §13.5):
  it keeps every component of V(f) of codimension ≤ r and may add points, never lose them.
* `witness_slice`: the randomization and the k affine slices A w + b = 0 of a witness set
  (Sommese–Wampler §13.2), drawn in one fixed order from the stream "witness slices", so that
  `theory.counting.dimension.witness_set` and `theory.counting.families.witness_family` cut the same slice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from landscape_core.seeds import stream
from theory.polynomials.system import System, complex_literal


def random_complex(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Return standard complex Gaussian entries (Re, Im independent N(0, 1/2)) of the given shape."""
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.sqrt(2)


def randomize(system: System, rows: int, rng: np.random.Generator) -> tuple[System, np.ndarray]:
    """Return (R·f, R): `rows` random complex combinations of the equations (identity if rows ≥ m)."""
    m = system.n_equations
    if rows >= m:
        return system, np.eye(m, dtype=complex)
    R = random_complex(rng, (rows, m))
    polys = []
    for row in R:
        polys.append(" + ".join(f"{complex_literal(c)}*({p.rstrip(';')})" for c, p in zip(row, system.polys)) + ";")
    f0, j0 = system.evaluate, system.jacobian
    known = None if system.known_degrees is None else (max(system.known_degrees),) * rows
    return System(tuple(polys), system.names, lambda x: R @ f0(x), lambda x: R @ j0(x),
                  f"randomized {system.label}", known), R


@dataclass(frozen=True)
class WitnessSlice:
    """The random data of a witness set of dimension `dim`: R·f = 0 and A w + b = 0, a square system.

    Fields:
        randomized: R·f, the K − dim random combinations of the equations.
        R: the (K − dim) × m randomizing matrix (the identity when no randomization is needed).
        A: the dim × K slice matrix; b: the slice offsets (length dim).
        seed: the user seed of the stream "witness slices".
    """

    randomized: System = field(repr=False)
    R: np.ndarray = field(repr=False)
    A: np.ndarray = field(repr=False)
    b: np.ndarray = field(repr=False)
    seed: int

    def sliced(self, label: str) -> System:
        """Return the square system [R·f; A w + b] (R·f alone when dim = 0)."""
        return self.randomized.with_linear(self.A, self.b, label=label) if len(self.b) else self.randomized


def witness_slice(system: System, dim: int, seed: int) -> WitnessSlice:
    """Return the randomization to K − dim equations and dim random affine slices, from stream(seed, 'witness slices')."""
    K = system.n_vars
    rng = stream(seed, "witness slices")
    randomized, R = randomize(system, K - dim, rng)
    A = random_complex(rng, (dim, K))
    b = random_complex(rng, dim)
    return WitnessSlice(randomized, R, A, b, seed)
