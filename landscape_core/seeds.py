"""The seed rule: one user seed, an independent named stream per purpose, at full width.

A user seed is any non-negative Python int (no cut to 31 or 64 bits). `stream(seed, "slices")` is
`numpy.random.default_rng(SeedSequence(seed, spawn_key=(crc32("slices"),)))`: a child of the
user's seed in numpy's own spawning scheme, so streams for different purposes (data, initial
weights, batch order, noise) are statistically independent and stable across runs and versions,
without hand-chosen salts. Libraries that take an integer seed (torch) get `child_seed(seed, name)`,
a 63-bit integer drawn from the same stream: `torch.Generator().manual_seed(child_seed(seed, name))`.

Seeds are recorded in config.json exactly: `common.runs` writes configurations with every integer
kept as a JSON integer (Python reads it back exactly), so a run with seed 2^70 is rerun with 2^70.
"""
from __future__ import annotations

import zlib

import numpy as np

from landscape_core.errors import InvalidSpecError


def check_seed(seed: object) -> int:
    """Return `seed` as an int if it is a non-negative integer (any width), else raise InvalidSpecError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidSpecError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """Return the SeedSequence of the stream `name` under the user seed `seed` (any non-negative int)."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=(zlib.crc32(name.encode()),))


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the numpy Generator of the stream `name` under the user seed `seed`."""
    return np.random.default_rng(seed_sequence(seed, name))


def child_seed(seed: int, name: str) -> int:
    """Return a 63-bit integer seed for the stream `name` (for libraries that take an int, e.g. torch)."""
    return int(seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0] >> 1)
