"""Tests for empirics.plots: every figure is drawn from a saved (JSON round-tripped) result record."""
from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
from torch import nn

from empirics import plots
from empirics.compare import CompareConfig, run_compare
from empirics.hessian import hessian_spectrum, spectral_density, top_eigenvalues
from empirics.mds import mds
from empirics.probes import (Block, Objective, agreement_matrices, interpolate_linear, interpolate_simplex,
                             perturbation_probe, radius_probe)
from landscape_core.serialize import to_jsonable

torch.set_num_threads(1)


def saved(record) -> dict:
    """Return the record as plotting code sees it: written to JSON and read back (NaN as strings)."""
    return json.loads(json.dumps(to_jsonable(record)))


def assert_png(path, min_width=300):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[1] >= min_width
    assert img[..., :3].std() > 0.01  # not a blank canvas


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    X = torch.randn(40, 4, dtype=torch.float64)
    y = torch.randint(0, 3, (40,))
    return model, X, y


def test_probe_figures_draw_from_saved_records(tmp_path, classifier):
    """Perturbation, interpolation (line and simplex), radius and agreement figures from JSON records."""
    model, X, y = classifier
    obj = Objective(model, X, y)
    w = obj.flat()
    blocks = [Block("a", slice(0, 40), 1), Block("b", slice(40, 67), 2)]
    pert = perturbation_probe(obj, w, blocks, [0.1, 1.0], n_samples=2)
    assert_png(plots.plot_perturbation(saved(pert), tmp_path / "perturb.png"))
    line = interpolate_linear(obj, w, w + 0.5 * torch.randn_like(w), np.linspace(-0.5, 1.5, 9))
    assert_png(plots.plot_interpolation(saved(line), tmp_path / "line.png"))
    simplex = interpolate_simplex(obj, w, w + 1, w - 1, resolution=5)
    assert_png(plots.plot_simplex(saved(simplex), tmp_path / "simplex.png", "error"))
    radius = radius_probe(obj, w, 0.1, 4, quantity="loss", blocks=blocks)
    assert_png(plots.plot_radius([saved(radius)], tmp_path / "radius.png", names=["all"]))
    correct = np.random.default_rng(0).random((3, 30)) > 0.3
    correct[2] = True  # never wrong: NaN row in P(wrong | wrong), drawn as a dash
    assert_png(plots.plot_agreement(saved(agreement_matrices(correct)), tmp_path / "agree.png"))


def test_hessian_and_mds_figures(tmp_path, classifier):
    """Exact spectrum with threshold, eigsh stems and SLQ density side by side; MDS with text labels."""
    model, X, y = classifier
    obj = Objective(model, X, y)
    w = obj.flat()
    fn = obj.loss_fn(w)
    record = {"exact": hessian_spectrum(fn, w, 1e-8).to_dict(), "top": top_eigenvalues(fn, w, 3).to_dict(),
              "density": spectral_density(fn, w, 2, 10).to_dict()}
    assert_png(plots.plot_hessian(saved(record), tmp_path / "hessian.png"), min_width=900)
    W = np.random.default_rng(1).standard_normal((8, 20))
    res = mds(W, labels=[0.5, 0.25, 0.125, 0.1, 0.05, 0.0, 0.0, 0.0])
    assert_png(plots.plot_mds(saved(res), tmp_path / "mds.png", groups=[0] * 4 + [1] * 4))


def test_compare_figure_from_saved_sweep(tmp_path):
    """The compare figure reads a saved sweep with a failed (h = 1) and a zero-loss (h = 3) network."""
    result = run_compare(CompareConfig(widths=(1, 3), n_directions=2, restarts=1))
    assert_png(plots.plot_compare(saved(result), tmp_path / "compare.png"), min_width=1200)
