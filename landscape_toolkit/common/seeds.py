"""Named random streams: one user seed, an independent generator per purpose.

`stream(seed, "slices")` is `numpy.random.default_rng(SeedSequence(seed, spawn_key=(crc32("slices"),)))`:
a child of the user's seed in numpy's own spawning scheme, so streams for different purposes are
statistically independent and stable across runs and versions, without hand-chosen salts.
"""
from __future__ import annotations

import zlib

import numpy as np


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """Return the SeedSequence of the stream `name` under the user seed `seed`."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        from landscape_toolkit.common.errors import InvalidSpecError

        raise InvalidSpecError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the numpy Generator of the stream `name` under the user seed `seed`."""
    return np.random.default_rng(seed_sequence(seed, name))


def child_seed(seed: int, name: str) -> int:
    """Return a 63-bit integer seed for the stream `name` (for libraries that take an int, e.g. torch)."""
    return int(seed_sequence(seed, name).generate_state(1, dtype=np.uint64)[0] >> 1)
