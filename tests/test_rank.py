"""Claims about matrix ranks: the fast modular rank equals the reference, and network Jacobian ranks agree."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from theory.activations import linear, parse, relu_legendre
from theory.bezout import modular_jacobian
from theory.data import random_data
from theory.errors import InvalidSpecError
from theory.networks import NetworkSpec, forward_point, init_weights
from theory.rank import (FAST_PRIME, matmul_mod, modular_jacobian_fast, modular_jacobian_rank, modular_weights,
                         numerical_rank, rank_mod_p, rank_mod_p_fast, stable_numerical_jacobian_rank)
from theory.rings import Dual, fraction_mod
from theory.systems import ZeroErrorSystem
from tests.strategies import specs

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


def _jacobian_mod_p_by_exact_rationals(spec, X, w, p):
    """The Jacobian over Q at integer weights w (Dual numbers over Fractions), each entry then reduced mod p."""
    k = spec.n_params
    duals = [Dual(Fraction(int(v)), [Fraction(int(i == j)) for j in range(k)]) for i, v in enumerate(w)]
    rows = []
    for x in X:
        for f in forward_point(spec, duals, list(x), coerce=lambda c: c):
            rows.append([fraction_mod(g, p) for g in f.grad])
    return np.array(rows, dtype=np.int64).reshape(len(rows), k)


@settings(max_examples=40, deadline=None)
@given(specs(max_depth=3, max_width=3, max_degree=3, max_params=30), st.integers(1, 4), st.integers(0, 100),
       st.sampled_from([10007, 65521, FAST_PRIME]))
def test_modular_jacobian_is_the_rational_jacobian_reduced_mod_p(spec, n_points, seed, p):
    """modular_jacobian_fast (reverse mode in F_p) = exact rational forward-mode Jacobian mod p at the same weights."""
    data = random_data(spec, n_points, seed)
    w = modular_weights(spec, seed, p)
    J = modular_jacobian_fast(spec, data.X, seed, p)
    assert J.shape == (n_points * spec.output_dim, spec.n_params)
    assert (J == _jacobian_mod_p_by_exact_rationals(spec, data.X, w, p)).all()


def test_modular_ranks_at_two_primes_agree_with_bezout():
    """The rank mod 2^31 − 1 (fast) equals bezout's modular rank mod 2^61 − 1 (other weights, other prime)."""
    for spec, n in [(NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4)), 8),
                    (NetworkSpec.fully_connected(3, 4, 3, linear(), output_dim=2), 10),
                    (NetworkSpec.tree(2, parse("z + z^2/4"), units=2, shared=True), 12)]:
        data = random_data(spec, n, 0)
        assert modular_jacobian_rank(spec, data.X, seed=1).rank == rank_mod_p(modular_jacobian(spec, data, 0))


def test_deep_linear_network_rank_is_n_out_times_n0_plus_one():
    """Deep linear fc nets (no bottleneck) compute Ax + c: the Jacobian rank is n_d·(n_0 + 1) for N > n_0."""
    spec = NetworkSpec.fully_connected(3, 5, 3, linear(), output_dim=2)
    data = random_data(spec, 20, 0)
    assert modular_jacobian_rank(spec, data.X, seed=0).rank == 2 * 4
    assert stable_numerical_jacobian_rank(spec, data.X, seed=0).rank == 2 * 4


def test_a_denominator_divisible_by_p_is_refused():
    """An input 1/7 (mod 7) or an activation coefficient 1/3 (mod 3) has no image in F_p: refused, not wrapped."""
    spec = NetworkSpec.fully_connected(1, 2, 2, parse("z + z^2/3"))
    with pytest.raises(InvalidSpecError, match="another prime"):
        modular_jacobian_fast(spec, [[Fraction(1, 7)]], seed=0, p=7)
    with pytest.raises(InvalidSpecError, match="another prime"):
        modular_jacobian_fast(spec, [[Fraction(1, 2)]], seed=0, p=3)
    assert modular_jacobian_fast(spec, [[Fraction(1, 2)]], seed=0, p=5).shape == (1, spec.n_params)


@pytest.mark.parametrize("spec, n_points", [
    (NetworkSpec.fully_connected(2, 3, 2, parse("z + z^2/4")), 6),
    (NetworkSpec.tree(3, relu_legendre(2), units=2, shared=True, output_activation=True), 10),
    (NetworkSpec.tree(3, relu_legendre(4), units=2), 30),
])
def test_stable_numerical_rank_equals_modular_rank(spec, n_points):
    """The well-scaled numerical rank equals the certified modular lower bound, with a clear gap."""
    data = random_data(spec, n_points, 3)
    stable = stable_numerical_jacobian_rank(spec, data.X, seed=0)
    assert stable.rank == modular_jacobian_rank(spec, data.X, seed=0).rank
    assert stable.numerical.gap > 1e3
    assert stable.proves == "estimate"


def test_stable_rank_survives_depth_5_degree_4_where_naive_evaluation_overflows():
    """fc 2-10-10-10-10-1, P = relu-legendre:4 (output degree 4^5 = 1024), N = 100: at N(0, 1/fan_in)
    weights the float Jacobian is dominated by overflow-scale entries and its numerical rank collapses;
    at scaled weights it equals the modular rank, pre-activations stay O(1), and the gap is clear."""
    spec = NetworkSpec.fully_connected(2, 10, 5, relu_legendre(4))
    data = random_data(spec, 100, 0)
    modular = modular_jacobian_rank(spec, data.X, seed=0).rank
    with np.errstate(all="ignore"):
        naive = numerical_rank(np.nan_to_num(ZeroErrorSystem(spec, data).jacobian(init_weights(spec, 0)))).rank
    stable = stable_numerical_jacobian_rank(spec, data.X, seed=0)
    assert naive < modular // 2
    assert stable.rank == modular
    assert stable.numerical.gap > 1e6
    assert max(stable.preactivation_max) < 10 and all(abs(r / stable.target_rms - 1) < 0.2
                                                      for r in stable.preactivation_rms)


def test_same_seed_same_weights_and_result():
    """Seeds are explicit: the same seed gives identical weights and identical ranks and scales."""
    spec = NetworkSpec.fully_connected(2, 3, 2, relu_legendre(2))
    data = random_data(spec, 5, 0)
    assert (modular_weights(spec, 4) == modular_weights(spec, 4)).all()
    a, b = (stable_numerical_jacobian_rank(spec, data.X, seed=4) for _ in range(2))
    assert a.layer_scales == b.layer_scales and a.rank == b.rank
    assert "rank" in a.to_dict() and a.to_dict()["proves"] == "estimate"
