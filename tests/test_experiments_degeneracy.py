"""Claims about the `degeneracy` experiment (the CNN bridge): its Jacobian, rank and direction helpers
against independent computations, and the smoke run's report on real data."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from empirics.experiments.degeneracy import _directions, _gram_rank, _jacobian_rows  # noqa: E402
from empirics.jacobian_rank import output_map  # noqa: E402


def _small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double().eval()


def test_jacobian_rows_equal_jacrev():
    """J formed from batched vector–Jacobian products equals torch.func.jacrev, to 1e-12."""
    model = _small_model()
    X = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    f, w = output_map(model, X)
    J = _jacobian_rows(f, w, 10, chunk=3)
    ref = torch.func.jacrev(f)(w).numpy()
    assert np.abs(J - ref).max() <= 1e-12 * np.abs(ref).max()


def test_gram_rank_and_directions_of_a_known_low_rank_matrix():
    """A 6 × 40 matrix of rank 4: the Gram rank is 4, null-space directions satisfy J d ≈ 0, row-space
    directions lie in the span of the rows, and a random direction's row-space share is ≈ 4/40."""
    rng = np.random.default_rng(0)
    J = rng.standard_normal((6, 4)) @ rng.standard_normal((4, 40))
    info = _gram_rank(J @ J.T)
    assert info["rank"] == 4 == np.linalg.matrix_rank(J)
    dirs = _directions(J, info["rank"], 50, seed=0)
    assert np.abs(dirs["null space of J"] @ J.T).max() < 1e-10 * np.abs(J).max()
    Q = np.linalg.svd(J, full_matrices=False)[2][:4]
    row = dirs["row space of J"]
    assert np.allclose(row @ Q.T @ Q, row, atol=1e-10)
    assert np.allclose(np.linalg.norm(dirs["random"], axis=1), 1.0)
    assert abs(dirs["row_fraction_of_random"] - 4 / 40) < 0.05


@pytest.mark.slow
def test_smoke_run_puts_theory_beside_the_hessian_on_real_images(tmp_path):
    """Smoke scale on Fashion-MNIST: both DCNNs are measured; the two rank estimates (sketch, Gram) agree;
    rank J ≤ N·n_out so K − rank J ≥ K − N·n_out; the ReLU DCNN reaches zero training error; the
    predictions table has a row per quantity; null(J) directions are at least as flat as row(J) ones
    (curvature dᵀHd, which replaced the loss radii as the measure)."""
    from empirics.experiments import run_experiment

    rep, path = run_experiment("degeneracy", scale="smoke", seed=0, out=str(tmp_path))
    assert path.exists()
    assert {f.claim for f in rep.findings} == {"degenerate-minima", "polynomial-like-relu"}
    rows = rep.measured["predictions"]
    assert all(len(r) == 3 for r in rows) and len(rows) == 12
    for label in ("relu", "polynomial"):
        for m in rep.measured[label]:
            assert m["rank_sketch"] == m["rank_gram"]
            assert m["rank"] <= m["rows"] and m["predicted_dimension"] >= m["bound_dimension"] > 0
            assert np.median(m["curvature"]["null space of J"]) <= np.median(m["curvature"]["row space of J"])
    assert all(m["train_error"] == 0.0 for m in rep.measured["relu"])
    assert rep.seconds < 240  # smoke budget 2 minutes on 2 idle cores; slack for a loaded machine
