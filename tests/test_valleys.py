"""VBB'18 widths for two-layer polynomial networks and the width-sweep experiment."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.network.activations import PolyActivation, parse
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec, forward
from theory.sublevel.valleys import (ValleyExperimentConfig, intrinsic_dimension, measured_span_dimension,
                            monomial_features, quadratic_layer_widths, span_dimension, two_layer_loss_and_grad,
                            valley_experiment, valley_thresholds)


@pytest.mark.parametrize("text,n,q", [("z^2", 3, 6), ("z^2 + z^3", 2, 7), ("z", 5, 5), ("z^3", 3, 10),
                                       ("z + z^2", 3, 9), ("1 + z^2", 3, 6), ("z^4", 2, 5)])
def test_intrinsic_dimension_matches_hand_counts_of_eq_11(text, n, q):
    assert intrinsic_dimension(parse(text), n) == q


def test_thresholds_for_quadratic_networks():
    th = valley_thresholds(parse("z^2"), 3, layers=2)
    assert (th.q, th.no_spurious_valleys_width, th.single_valley_width) == (6, 6, 12)
    assert th.quadratic and th.quadratic_two_layer_width == 27
    assert th.quadratic_layer_widths == (3 * 3**2, 3 * 3**4)
    # VBB's 2q = N(N+1) never exceeds the slides' 3N²
    for N in range(1, 30):
        assert 2 * intrinsic_dimension(parse("z^2"), N) == N * (N + 1) <= 3 * N * N
    assert not valley_thresholds(parse("z + z^2"), 3).quadratic
    assert quadratic_layer_widths(2, 3) == (12, 48, 768)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.lists(st.sampled_from([0, 1, -2, 3]), min_size=2, max_size=5), st.integers(0, 10**6))
def test_span_dimension_equals_the_numerical_rank_of_random_neurons(n, coeffs, seed):
    if all(c == 0 for c in coeffs[1:]):
        coeffs = coeffs[:-1] + [1]
    act = PolyActivation(tuple(coeffs))
    D = span_dimension(act, n)
    assert measured_span_dimension(act, n, seed=seed) == D
    assert D - intrinsic_dimension(act, n) == (1 if act.coeffs[0] != 0 else 0)
    assert monomial_features(np.ones((3, n)), act).shape[1] == D


def test_two_layer_forward_and_gradient_agree_with_networkspec_and_differences():
    rng = np.random.default_rng(0)
    act = parse("z^2 + z^3")
    n, p, m = 3, 4, 2
    spec = NetworkSpec((n, p, m), act, bias=False, output_activation=False)
    theta = rng.normal(size=spec.n_params) * 0.5
    X, Y = rng.normal(size=(9, n)), rng.normal(size=(9, m))
    f, g = two_layer_loss_and_grad(theta, X, Y, p, act.float_coeffs())
    assert f == pytest.approx(np.mean(np.sum((forward(spec, theta, X) - Y) ** 2, axis=1)), rel=1e-12)
    h = 1e-6
    fd = [(two_layer_loss_and_grad(theta + h * e, X, Y, p, act.float_coeffs())[0]
           - two_layer_loss_and_grad(theta - h * e, X, Y, p, act.float_coeffs())[0]) / (2 * h) for e in np.eye(len(theta))]
    assert np.allclose(g, fd, atol=1e-5)


def test_every_start_reaches_the_global_minimum_above_q_and_none_below_the_teacher_width():
    cfg = ValleyExperimentConfig(widths=(1, 8), runs=6, seed=0)
    res = valley_experiment(cfg)
    q = res.thresholds.span_dimension
    assert q == 7 and res.lifted_optimum < 1e-20
    below, above = res.outcomes
    assert not below.realizable and below.fraction == 0.0 and below.median_final > 1e-4
    assert above.width >= q and above.fraction == 1.0
    again = valley_experiment(cfg)
    assert again.outcomes[1].final_losses == above.final_losses


def test_bad_configs_are_rejected():
    with pytest.raises(InvalidSpecError):
        ValleyExperimentConfig(widths=(0, 2))
    with pytest.raises(InvalidSpecError):
        ValleyExperimentConfig(input_dim=0)
    with pytest.raises(InvalidSpecError):
        ValleyExperimentConfig(activation="relu(z)")
    with pytest.raises(InvalidSpecError):
        intrinsic_dimension(parse("z^2"), 0)


def test_cli_valleys_thresholds_and_small_sweep(tmp_path, capsys):
    import json

    import cli

    assert cli.main(["valleys", "--activation", "z^2", "--input-dim", "3", "--no-experiment", "--json"]) == 0
    th = json.loads(capsys.readouterr().out)
    assert th["q"] == 6 and th["quadratic_two_layer_width"] == 27
    rc = cli.main(["valleys", "--width", "1,8", "--restarts", "2", "--no-progress", "--json", "--out", str(tmp_path)])
    res = json.loads(capsys.readouterr().out)
    assert rc == 0 and [o["width"] for o in res["outcomes"]] == [1, 8]
    assert (tmp_path / "valleys-seed0" / "valley_sweep.png").exists()
    with pytest.raises(SystemExit) as exc:
        cli.main(["valleys", "--width", "0,2"])
    assert exc.value.code == 2
