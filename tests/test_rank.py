"""Claims about matrix ranks: the fast modular rank equals the reference elimination, exactly."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from landscape_core.errors import InvalidSpecError
from theory.bounds.rank import FAST_PRIME, matmul_mod, rank_mod_p, rank_mod_p_fast

SMALL_PRIMES = (3, 7, 10007, FAST_PRIME)


@st.composite
def low_rank_matrices(draw):
    """An integer matrix built as a product of thin random matrices (rank ≤ the inner width), and a prime."""
    m, n = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    r = draw(st.integers(0, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    bound = draw(st.sampled_from([2, 50, 2**40]))
    A = rng.integers(-bound, bound, (m, r), dtype=np.int64) if r else np.zeros((m, 0), dtype=np.int64)
    B = rng.integers(-bound, bound, (r, n), dtype=np.int64) if r else np.zeros((0, n), dtype=np.int64)
    M = (A.astype(object) @ B.astype(object)) if r else np.zeros((m, n), dtype=object)
    return M, draw(st.sampled_from(SMALL_PRIMES)), draw(st.sampled_from([1, 3, 128]))


@settings(max_examples=150, deadline=None)
@given(low_rank_matrices())
def test_fast_modular_rank_equals_the_reference_elimination(case):
    """rank_mod_p_fast (blocked, BLAS) = rank_mod_p (pure Python) on products of thin matrices, any block size."""
    M, p, block = case
    rows = [[int(v) for v in row] for row in M]
    assert rank_mod_p_fast(M, p, block=block) == rank_mod_p(rows, p)


def test_fast_modular_rank_on_random_full_and_deficient_matrices():
    """Square, wide and tall random residue matrices: full rank, and rank r for a rank-r product."""
    rng = np.random.default_rng(0)
    p = FAST_PRIME
    for shape in [(60, 60), (50, 300), (300, 50)]:
        M = rng.integers(0, p, shape)
        assert rank_mod_p_fast(M, p, block=16) == rank_mod_p(M.tolist(), p) == min(shape)
    low = (rng.integers(0, 1000, (80, 7)) @ rng.integers(0, 1000, (7, 200)))
    assert rank_mod_p_fast(low, p) == rank_mod_p(low.tolist(), p) == 7


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 20), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_matmul_mod_equals_exact_integer_product(k, m, n, seed):
    """matmul_mod (float64 limbs, inner dimension chunked by 128) = the exact Python-int product mod p."""
    rng = np.random.default_rng(seed)
    p = FAST_PRIME
    A, B = rng.integers(0, p, (m, k)), rng.integers(0, p, (k, n))
    exact = (A.astype(object) @ B.astype(object)) % p
    assert (matmul_mod(A, B, p) == exact.astype(np.int64)).all()


def test_a_modulus_that_is_not_a_word_sized_prime_is_refused():
    """Composite moduli and primes ≥ 2^31 (products would overflow int64) raise InvalidSpecError."""
    for p in (2**31 + 11, 2**61 - 1, 10, 1):
        with pytest.raises(InvalidSpecError):
            rank_mod_p_fast([[1, 2], [3, 4]], p)


def test_structured_matrix_with_low_rank_column_blocks_has_the_reference_rank():
    """Columns in blocks of rank 2 (as one layer's Jacobian columns, outer products): the column
    permutation that keeps panels full changes nothing: fast rank = reference rank."""
    rng = np.random.default_rng(1)
    p = FAST_PRIME
    blocks = [rng.integers(0, 50, (60, 2)) @ rng.integers(0, 50, (2, 40)) for _ in range(8)]
    M = np.concatenate(blocks, axis=1)
    assert rank_mod_p_fast(M, p, block=16) == rank_mod_p(M.tolist(), p) == 16
