"""Claims checked: the dead-unit strata of a network are critical for every parameter choice,
their reduced index maps match the reduced network, and Möbius inversion recovers open counts."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theory.network.activations import linear, parse
from theory.counting.critical_points import generic_penalty
from theory.network.data import random_data
from theory.network.spec import NetworkSpec, forward, init_weights
from theory.counting.strata import kept_indices, mobius_open_counts, network_strata, reduced_spec
from theory.network.equations import CriticalSystem


def test_mehta_2_2_2_has_four_strata_and_2_2_2_2_has_ten():
    # one hidden layer of 2: none dead, unit 0 dead, unit 1 dead, W = 0; two hidden layers: 3 × 3 + 1
    s3, _ = network_strata(NetworkSpec((2, 2, 2), linear(), bias=False, output_activation=False))
    s4, _ = network_strata(NetworkSpec((2, 2, 2, 2), linear(), bias=False, output_activation=False))
    assert [s.label for s in s3] == ["no dead unit", "dead: layer 1 unit 0", "dead: layer 1 unit 1", "W = 0"]
    assert len(s4) == 10 and sum(s.zero for s in s4) == 1


@pytest.mark.parametrize("act,bias", [("linear", False), ("z + z^2/4", True), ("z^3", False)])
def test_dead_units_are_critical_for_random_parameters(act, bias):
    # ∇L vanishes on the dead coordinates whatever the data and λ, once the live ones are critical
    # for the reduced network: check the full gradient at (reduced critical-by-construction point)
    spec = NetworkSpec((2, 3, 2, 1), parse(act), bias=bias, output_activation=False)
    strata, _ = network_strata(spec)
    data = random_data(spec, 2, 3)
    for s in strata[1:]:
        if s.zero:
            continue
        rspec = reduced_spec(spec, s)
        w = init_weights(rspec, 1)
        crit_r = CriticalSystem(rspec, data, tuple(Fraction(0) for _ in range(rspec.n_params)))
        g = crit_r.gradient(w)
        lam_r = -g / w  # makes w critical for the reduced network
        lam = np.array([float(v) for v in generic_penalty(spec.n_params, 0)])
        lam[list(s.kept)] = lam_r
        full = CriticalSystem(spec, data, tuple(Fraction(v) for v in lam))
        assert np.max(np.abs(full.gradient(s.embed(w, spec.n_params).real))) < 1e-9


def test_reduced_network_computes_the_same_function_as_the_embedded_weights():
    spec = NetworkSpec((2, 3, 3, 2), parse("z + z^2/4"), bias=True, output_activation=False)
    dead = ((1, 0), (2, 2))
    kept = kept_indices(spec, dead)
    strata, _ = network_strata(spec)
    s = next(t for t in strata if t.dead == dead)
    rspec = reduced_spec(spec, s)
    assert len(kept) == rspec.n_params and s.kept == kept
    w = init_weights(rspec, 0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    assert np.allclose(forward(rspec, w, X), forward(spec, s.embed(w, spec.n_params).real, X), atol=1e-12)


def test_no_strata_without_p_of_zero_zero_or_for_zero_error_systems():
    spec = NetworkSpec((1, 2, 1), parse("1 + z^2"), bias=False)
    strata, why = network_strata(spec)
    assert len(strata) == 1 and "P(0)" in why
    strata, why = network_strata(NetworkSpec((1, 2, 1), linear(), bias=False), "zero-error")
    assert len(strata) == 1 and "irreducible" in why


def test_mobius_inversion_of_mehta_2_2_2_counts():
    # closed strata: the whole network 33, one dead unit each 9 (= 8 + W = 0), W = 0 alone 1
    strata, _ = network_strata(NetworkSpec((2, 2, 2), linear(), bias=False, output_activation=False))
    closed = {"no dead unit": 33, "dead: layer 1 unit 0": 9, "dead: layer 1 unit 1": 9, "W = 0": 1}
    assert mobius_open_counts(strata, closed) == {"no dead unit": 16, "dead: layer 1 unit 0": 8,
                                                  "dead: layer 1 unit 1": 8, "W = 0": 1}
