"""Exact rational data sets for the polynomial systems: seeded random, planted, or read from a file.

Zero-error systems (Theory II eq. (5)) are built on N points (x_i, y_i) kept as exact Fractions, so
the equations have exact rational coefficients. `random_data` draws a generic instance (targets as large distinct rationals, `theory.counting.genericity`); in
`planted_data` the targets are the outputs of a network with random rational weights w*, which makes
the system consistent with w* a known solution; `read_dataset` reads the user's points from JSON or CSV.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from landscape_core.errors import InputFileError
from landscape_core.serialize import Serializable, fields_dict
from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import stream
from theory.network.activations import _as_fraction
from theory.counting.genericity import generic_rationals
from theory.network.spec import NetworkSpec, forward_point

MAX_POINTS = 100_000
INPUT_DENOMINATOR = 1024  # inputs p/q with q ≤ 1024: ~6·10^5 values per coordinate, then made distinct


@dataclass(frozen=True)
class ExactData(Serializable):
    """N exact rational data points.

    Fields:
        X: inputs, N rows of n_0 Fractions.
        Y: targets, N rows of n_d Fractions.
        seed: the seed that generated them (None if given by the user).
        kind: 'random' (independent targets), 'planted' (targets of a network), or 'given'.
    """

    X: tuple[tuple[Fraction, ...], ...]
    Y: tuple[tuple[Fraction, ...], ...]
    seed: int | None = None
    kind: str = "given"

    def __post_init__(self) -> None:
        if len(self.X) != len(self.Y):
            raise InvalidSpecError(f"{len(self.X)} inputs but {len(self.Y)} targets")

    @property
    def n_points(self) -> int:
        """Return N."""
        return len(self.X)

    @property
    def repeated_inputs(self) -> int:
        """Return how many inputs repeat an earlier one (two equal inputs give two equations in the same
        polynomial, so they are dependent: equal targets duplicate an equation, different ones
        make the system inconsistent)."""
        return len(self.X) - len(set(self.X))

    @property
    def X_float(self) -> np.ndarray:
        """Return the inputs as an (N, n_0) float array."""
        return np.array([[float(v) for v in row] for row in self.X], dtype=float).reshape(len(self.X), -1)

    @property
    def Y_float(self) -> np.ndarray:
        """Return the targets as an (N, n_d) float array."""
        return np.array([[float(v) for v in row] for row in self.Y], dtype=float).reshape(len(self.Y), -1)

    def to_dict(self) -> dict:
        """Return the fields as JSON (exact rationals as strings) with the derived `n_points`."""
        d = fields_dict(self)
        return {"kind": d["kind"], "seed": d["seed"], "n_points": self.n_points, "X": d["X"], "Y": d["Y"]}

    @classmethod
    def from_arrays(cls, X: Any, Y: Any) -> "ExactData":
        """Return ExactData from nested sequences of numbers (floats convert exactly)."""
        X = [[_as_fraction(v) for v in np.atleast_1d(row)] for row in X]
        Y = [[_as_fraction(v) for v in np.atleast_1d(row)] for row in Y]
        return cls(tuple(map(tuple, X)), tuple(map(tuple, Y)), None, "given")


def read_dataset(path: str, spec: NetworkSpec) -> ExactData:
    """Return the data in a JSON ({"X": [[...]], "Y": [[...]]}) or CSV file (x_1..x_n0, y_1..y_nd per row).

    Entries may be integers, decimals or fractions ('1/3'); decimals are read exactly ('0.1' = 1/10).
    Raises InputFileError, naming the file, when it is missing, undecodable, unparsable or of the
    wrong shape for `spec`.
    """
    file = Path(path)
    if file.is_dir():
        raise InputFileError(f"data file {path} is a directory: give a JSON or CSV file")
    if not file.is_file():
        raise InputFileError(f"data file {path} does not exist")
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read data file {path}: {exc}") from None
    try:
        if file.suffix.lower() == ".json":
            doc = json.loads(text)
            X, Y = doc["X"], doc["Y"]
        else:
            rows = [[c.strip() for c in line.split(",")] for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
            n0 = spec.input_dim
            X, Y = [r[:n0] for r in rows], [r[n0:] for r in rows]
        X = [[Fraction(str(v)) for v in row] for row in X]
        Y = [[Fraction(str(v)) for v in row] for row in Y]
    except (ValueError, KeyError, TypeError, ZeroDivisionError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read data from {path}: {exc}") from None
    if not X:
        raise InputFileError(f"{path} holds no data points")
    if len(X) > MAX_POINTS:
        raise InputFileError(f"{path} holds {len(X)} data points: at most {MAX_POINTS} are supported")
    if any(len(r) != spec.input_dim for r in X) or any(len(r) != spec.output_dim for r in Y):
        raise InputFileError(f"{path}: every point needs {spec.input_dim} inputs and {spec.output_dim} targets")
    return ExactData(tuple(map(tuple, X)), tuple(map(tuple, Y)), None, "given")


def _check_points(n_points: int) -> None:
    if not isinstance(n_points, (int, np.integer)) or n_points < 1:
        raise InvalidSpecError(f"the number of data points must be a positive integer, got {n_points!r}")
    if n_points > MAX_POINTS:
        raise InvalidSpecError(f"{n_points} data points: at most {MAX_POINTS} are supported")


def random_rationals(rng: np.random.Generator, shape: tuple[int, ...], max_den: int = 16,
                     bound: float = 1.0) -> np.ndarray:
    """Return an object array of generic small nonzero rationals p/q in [−bound, bound], q ≤ max_den.

    Zero is excluded: a zero coordinate is not generic (it can lower degrees and ranks).
    """
    den = rng.integers(1, max_den + 1, size=shape)
    num = np.rint(rng.uniform(-bound, bound, size=shape) * den).astype(int)
    num = np.where(num == 0, rng.choice([-1, 1], size=shape), num)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = Fraction(int(num[idx]), int(den[idx]))
    return out


def distinct_inputs(rng: np.random.Generator, n_points: int, input_dim: int,
                    max_den: int = INPUT_DENOMINATOR) -> np.ndarray:
    """Return an (N, n_0) object array of random nonzero rationals in [−1, 1] whose rows are all distinct.

    Repeated rows are redrawn, so distinctness is guaranteed, not just likely; with denominators up to
    1024 a redraw is rare. (Equal inputs would make two equations of the zero-error system copies of
    one polynomial — a rank drop that says nothing about the network.)
    """
    X = random_rationals(rng, (n_points, input_dim), max_den=max_den)
    seen: set[tuple] = set()
    for i in range(n_points):
        row = tuple(X[i])
        while row in seen:
            X[i] = random_rationals(rng, (input_dim,), max_den=max_den)
            row = tuple(X[i])
        seen.add(row)
    return X


def random_data(spec: NetworkSpec, n_points: int, seed: int) -> ExactData:
    """Return N points with distinct random rational inputs and independent generic targets (a generic instance).

    Inputs from the stream 'data inputs'; targets from 'data targets' as distinct large-denominator
    rationals in [−1, 1] (`theory.counting.genericity.generic_rationals`: equal targets can lower counts).
    """
    _check_points(n_points)
    X = distinct_inputs(stream(seed, "data inputs"), n_points, spec.input_dim)
    flat = generic_rationals(stream(seed, "data targets"), n_points * spec.output_dim, Fraction(-1), Fraction(1))
    Y = np.array(flat, dtype=object).reshape(n_points, spec.output_dim)
    return ExactData(tuple(map(tuple, X)), tuple(map(tuple, Y)), seed, "random")


def planted_data(spec: NetworkSpec, n_points: int, seed: int) -> tuple[ExactData, tuple[Fraction, ...]]:
    """Return (data, w*) where the targets y_i = f(x_i; w*) are computed exactly for random rational w*.

    The zero-error system of such data is consistent by construction, with w* a known solution
    (the starting point of Newton's method and of monodromy).
    """
    _check_points(n_points)
    X = distinct_inputs(stream(seed, "data inputs"), n_points, spec.input_dim)
    # small denominators keep the exact targets f(x_i; w*) short; the instance is consistent by design
    w_star = tuple(random_rationals(stream(seed, "planted weights"), (spec.n_params,)))
    Y = [tuple(forward_point(spec, w_star, list(x), coerce=lambda c: c)) for x in X]
    return ExactData(tuple(map(tuple, X)), tuple(Y), seed, "planted"), w_star
