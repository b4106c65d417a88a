"""Claims about the randomised Jacobian rank: it equals the full Jacobian's rank and finds known deficiencies."""
import pytest

torch = pytest.importorskip("torch")

from empirics.jacobian_rank import full_jacobian_rank, output_map, randomized_jacobian_rank  # noqa: E402
from empirics.models import MLP, PaperCNN  # noqa: E402
from landscape_core.errors import InvalidSpecError  # noqa: E402


def _inputs(shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_sketch_rank_equals_full_jacobian_rank_on_a_small_mlp():
    """MLP 3-12-8-2 (tanh, K = 170) on 30 points: sketch rank = rank of jacrev's full Jacobian (= 60, full)."""
    torch.manual_seed(0)
    model = MLP((3, 12, 8, 2), "tanh").double()
    X = _inputs((30, 3))
    sketch = randomized_jacobian_rank(model, X, seed=1, initial_width=8)
    assert sketch.cols == 170 and sketch.rows == 60
    assert sketch.rank == full_jacobian_rank(model, X).rank == 60
    assert not sketch.capped and sketch.proves == "estimate"


def test_sketch_finds_the_deep_linear_rank_n_out_times_n0_plus_one():
    """A deep linear net computes Ax + c, so rank J = n_out·(n_0 + 1) = 3·6 = 18 (< 120 rows, < 419 weights);
    the sketch widens 8 → 16 → 32 and stops once its rank (18) is below its width."""
    torch.manual_seed(0)
    model = MLP((5, 16, 16, 3), "linear").double()
    X = _inputs((40, 5))
    sketch = randomized_jacobian_rank(model, X, seed=0, initial_width=8)
    assert sketch.rank == 18 == full_jacobian_rank(model, X).rank
    assert sketch.widths_tried == (8, 16, 32) and sketch.gap > 1e6


def test_sketch_finds_the_rank_lost_to_dead_relu_units():
    """One hidden ReLU layer, 20 units of which 8 are dead (bias −100), on 200 points: each live unit
    contributes n_0 + 1 directions (its scaling symmetry removes one of n_0 + 2) plus the output bias,
    so rank = 12·4 + 1 = 49, against 20·4 + 1 = 81 with all units alive."""
    torch.manual_seed(0)
    model = MLP((3, 20, 1), "relu").double()
    X = _inputs((200, 3))
    alive = randomized_jacobian_rank(model, X, seed=0, initial_width=16).rank
    with torch.no_grad():
        model.net[0].bias[:8] = -100.0
    dead = randomized_jacobian_rank(model, X, seed=0, initial_width=16)
    assert dead.rank == full_jacobian_rank(model, X).rank == 49
    assert alive == 81


def test_batch_norm_in_eval_mode_uses_fixed_statistics():
    """A small PaperCNN with batch norm (running statistics set by training-mode passes) in eval mode:
    sketch rank = full Jacobian rank; in training mode the model is refused (buffers would not be fixed)."""
    torch.manual_seed(0)
    model = PaperCNN(in_channels=1, widths=(4, 6)).double()
    with torch.no_grad():
        for _ in range(3):
            model(_inputs((16, 1, 8, 8), 1) * 2 + 1)
    with pytest.raises(InvalidSpecError):
        output_map(model, _inputs((2, 1, 8, 8)))
    model.eval()
    X = _inputs((6, 1, 8, 8), 2)
    assert randomized_jacobian_rank(model, X, seed=0, initial_width=8).rank == full_jacobian_rank(model, X).rank


def test_same_seed_same_sketch_and_width_cap_is_reported():
    """Same seed, same result; a max_width below the rank is reported as capped (the rank may be larger)."""
    torch.manual_seed(0)
    model = MLP((3, 12, 8, 2), "tanh").double()
    X = _inputs((30, 3))
    a, b = (randomized_jacobian_rank(model, X, seed=5, initial_width=8) for _ in range(2))
    assert (a.rank, a.tolerance) == (b.rank, b.tolerance)
    capped = randomized_jacobian_rank(model, X, seed=5, initial_width=8, max_width=20)
    assert capped.rank == 20 and capped.capped


@pytest.mark.parametrize("widths, activation, out_act", [((2, 3, 1), "z + z^2/4", True),
                                                          ((3, 4, 4, 2), "z^2", False),
                                                          ((2, 3, 3, 1), "linear", False)])
def test_modular_numerical_and_randomised_ranks_agree_on_theory_networks(widths, activation, out_act):
    """Claim (issue 13): on theory's polynomial networks, where all three methods run, the certified
    modular rank (a lower bound), the stable numerical rank and the randomised sketch rank of the torch
    realisation at random weights coincide — including rank-deficient cases (z² and deep linear nets)."""
    from theory.network.activations import parse
    from theory.network.data import random_data
    from theory.bounds.jacobian import modular_jacobian_rank, stable_numerical_jacobian_rank
    from theory.network.spec import NetworkSpec
    from empirics.models import TorchNetwork

    spec = NetworkSpec(tuple(widths), parse(activation), bias=True, output_activation=out_act)
    data = random_data(spec, 12, seed=3)
    modular = modular_jacobian_rank(spec, data.X, seed=1).rank
    stable = stable_numerical_jacobian_rank(spec, data.X, seed=1).rank
    model = TorchNetwork(spec, dtype=torch.float64)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn_like(p))
    sketched = randomized_jacobian_rank(model, torch.tensor(data.X_float), seed=2).rank
    assert modular == stable == sketched
    assert modular <= min(12 * widths[-1], spec.n_params)
