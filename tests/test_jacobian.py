"""Claims about network Jacobians: the modular Jacobian is the rational one reduced mod p, the
vectorised fully connected path equals the tape, and certified, numerical and reference ranks agree."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from theory.network.activations import linear, parse, relu_legendre
from theory.network.data import random_data
from landscape_core.errors import InvalidSpecError
from theory.bounds.jacobian import (_Arith, _fc_jacobian, _reverse_jacobian, modular_jacobian_fast, modular_jacobian_rank,
                             modular_weights, stable_numerical_jacobian_rank)
from theory.network.spec import NetworkSpec, forward_point, init_weights
from theory.bounds.rank import FAST_PRIME, numerical_rank, rank_mod_p
from theory.network.rings import PRIME, Dual, fraction_mod
from theory.network.equations import ZeroErrorSystem
from tests.strategies import specs


def _jacobian_mod_p_by_exact_rationals(spec, X, w, p, dtype=np.int64):
    """The Jacobian over Q at integer weights w (Dual numbers over Fractions), each entry then reduced mod p."""
    k = spec.n_params
    duals = [Dual(Fraction(int(v)), [Fraction(int(i == j)) for j in range(k)]) for i, v in enumerate(w)]
    rows = []
    for x in X:
        for f in forward_point(spec, duals, list(x), coerce=lambda c: c):
            rows.append([fraction_mod(g, p) for g in f.grad])
    return np.array(rows, dtype=dtype).reshape(len(rows), k)


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


def test_modular_ranks_at_two_primes_agree():
    """The rank mod 2^31 − 1 (fast) equals the reference rank mod 2^61 − 1 of the exact rational
    Jacobian (forward-mode Duals over Q, pure-Python elimination) at other weights."""
    for spec, n in [(NetworkSpec.fully_connected(2, 2, 3, relu_legendre(4)), 8),
                    (NetworkSpec.fully_connected(3, 4, 3, linear(), output_dim=2), 10),
                    (NetworkSpec.tree(2, parse("z + z^2/4"), units=2, shared=True), 12)]:
        data = random_data(spec, n, 0)
        w = np.random.default_rng(0).integers(1, 1000, spec.n_params)
        reference = _jacobian_mod_p_by_exact_rationals(spec, data.X, w, PRIME, dtype=object)
        assert modular_jacobian_rank(spec, data.X, seed=1).rank == rank_mod_p(reference.tolist(), PRIME)


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


@pytest.mark.parametrize("spec", [
    NetworkSpec.fully_connected(2, 3, 3, relu_legendre(4)),
    NetworkSpec.fully_connected(3, 4, 3, linear(), output_dim=2),
    NetworkSpec.fully_connected(2, 3, 2, parse("z + z^2/4"), output_dim=3, output_activation=False),
    NetworkSpec((2, 4, 1), parse("z^2"), bias=False, output_activation=False),
])
def test_vectorised_fc_jacobian_equals_the_tape(spec):
    """The by-layer fully connected Jacobian equals reverse mode over forward_point: exactly mod p,
    and to 1e-13 relative in float64 at Gaussian weights."""
    data = random_data(spec, 7, 0)
    p = FAST_PRIME
    xs = np.array([[fraction_mod(v, p) for v in r] for r in data.X], dtype=np.int64)
    coeffs = {c: fraction_mod(c, p) for c in spec.activation.coeffs}
    w = [int(v) for v in modular_weights(spec, 0, p)]
    tape = _reverse_jacobian(spec, w, [xs[:, j] for j in range(spec.input_dim)], len(xs), lambda c: coeffs[c], p)
    assert (modular_jacobian_fast(spec, data.X, 0, p) == tape).all()
    Xf = np.array([[float(v) for v in r] for r in data.X])
    wf = np.random.default_rng(0).standard_normal(spec.n_params)
    tape_f = _reverse_jacobian(spec, list(wf), [Xf[:, j] for j in range(spec.input_dim)], len(Xf), float, None)
    by_layer = _fc_jacobian(spec, wf, Xf, _Arith(None), list(spec.activation.float_coeffs()))
    assert np.abs(by_layer - tape_f).max() <= 1e-13 * np.abs(tape_f).max()
