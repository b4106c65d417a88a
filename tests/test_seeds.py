"""The seed rule (landscape_core.seeds): named streams of a user seed of any width."""
import numpy as np
import pytest

from landscape_core.errors import InvalidSpecError
from landscape_core.seeds import check_seed, child_seed, seed_sequence, stream


def test_streams_are_reproducible_and_differ_by_name():
    """Claim: the same (seed, name) gives the same draws; another name or seed gives other draws."""
    a = stream(5, "weights").standard_normal(4)
    assert np.array_equal(a, stream(5, "weights").standard_normal(4))
    assert not np.array_equal(a, stream(5, "batch order").standard_normal(4))
    assert not np.array_equal(a, stream(6, "weights").standard_normal(4))


def test_seeds_are_never_cut_to_a_fixed_width():
    """Claim: seeds beyond 2^31, 2^63 and 2^64 are used whole: s and s mod 2^k give different streams, and the
    stream is numpy's SeedSequence of the whole integer (an independent construction)."""
    for bits in (31, 63, 64, 200):
        big = 2**bits + 3
        assert child_seed(big, "x") != child_seed(big % 2**bits, "x")
        expected = np.random.SeedSequence(big, spawn_key=seed_sequence(0, "x").spawn_key).generate_state(1, np.uint64)
        assert child_seed(big, "x") == int(expected[0] >> 1)


def test_child_seeds_fit_torch_and_bad_seeds_are_refused():
    """Claim: child seeds lie in [0, 2^63) (torch.manual_seed's range); negative, boolean and non-integer seeds
    are InvalidSpecError."""
    assert all(0 <= child_seed(s, n) < 2**63 for s in (0, 1, 2**100) for n in ("a", "b"))
    assert check_seed(np.int64(7)) == 7
    for bad in (-1, True, 1.5, "3"):
        with pytest.raises(InvalidSpecError):
            check_seed(bad)
