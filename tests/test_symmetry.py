"""Claims checked: sign flips preserve the penalised loss for odd (and, on incoming weights, even)
activations; permutations preserve it only with a swap-invariant penalty; orbits have the group's size."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from theory.network.activations import linear, parse
from theory.network.data import random_data
from theory.network.spec import NetworkSpec, init_weights
from theory.counting.symmetry import network_group, verified
from theory.network.equations import CriticalSystem


def _loss(spec, data, lam, w):
    return CriticalSystem(spec, data, tuple(Fraction(v) for v in lam)).loss(w)


def test_every_generator_preserves_the_loss_it_claims_to_preserve():
    for act in ("linear", "z^3 + z", "z^2 + z^4/3"):
        spec = NetworkSpec((2, 3, 2, 1), parse(act), bias=True, output_activation=False)
        data = random_data(spec, 3, 0)
        lam = np.full(spec.n_params, 0.1)  # a constant penalty: permutations preserve it too
        grp = network_group(spec, lam)
        assert len(grp.generators) == 5 + 3  # 5 hidden units flip, 2 + 1 adjacent swaps
        w = init_weights(spec, 1)
        for g in grp.generators:
            assert abs(_loss(spec, data, lam, g.apply(w)) - _loss(spec, data, lam, w)) < 1e-10


def test_generic_penalty_breaks_permutations_but_not_sign_flips():
    spec = NetworkSpec((2, 2, 2), linear(), bias=False, output_activation=False)
    lam = np.random.default_rng(0).uniform(0.1, 1, spec.n_params)
    grp = network_group(spec, lam)
    assert [g.label for g in grp.generators] == ["flip layer 1 unit 0 (odd P)", "flip layer 1 unit 1 (odd P)"]
    assert any("not invariant" in why for why in grp.omitted)
    # orbit of a point with no zero coordinate: the full group (Z/2)^2
    assert len(grp.orbit(np.arange(1.0, 9.0))) == 4


def test_no_sign_flips_for_activations_neither_odd_nor_even_and_verified_drops_false_generators():
    spec = NetworkSpec((1, 2, 1), parse("z + z^2"), bias=False)
    grp = network_group(spec, None)
    assert all("swap" in g.label for g in grp.generators)
    lin = NetworkSpec((1, 2, 1), linear(), bias=False)
    flips = network_group(lin, None)
    data = random_data(lin, 1, 0)
    # a residual that no flip preserves (the identity minus a fixed point): verified keeps none
    w = init_weights(lin, 0)
    kept = verified(flips, lambda v: float(np.max(np.abs(v - w))), [w])
    assert kept.trivial and len(kept.omitted) >= len(flips.generators)
    assert data.n_points == 1
