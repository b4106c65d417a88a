"""Tests for empirics.models: torch realisations agree with theory's forward pass; the DCNN's size."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from empirics.models import (MLP, PAPER_N_PARAMS, PAPER_WIDTHS, PaperCNN, Polynomial, TorchNetwork, count_params,
                             get_flat, layer_slice, make_activation, param_slices, set_flat)
from theory.network.activations import PolyActivation, parse, relu_approximation
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec, forward, init_weights

torch.set_num_threads(1)

coeff = st.fractions(min_value=-2, max_value=2, max_denominator=8)


@st.composite
def specs(draw):
    degree = draw(st.integers(1, 3))
    coeffs = draw(st.lists(coeff, min_size=degree + 1, max_size=degree + 1).filter(lambda c: c[-1] != 0))
    act = PolyActivation(tuple(coeffs))
    bias = draw(st.booleans())
    out_act = draw(st.booleans())
    if draw(st.booleans()):
        widths = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
        return NetworkSpec(widths, act, bias=bias, output_activation=out_act)
    return NetworkSpec.tree(draw(st.integers(1, 3)), act, units=draw(st.integers(1, 3)), bias=bias,
                            shared=draw(st.booleans()), output_activation=out_act)


@settings(max_examples=60, deadline=None)
@given(spec=specs(), seed=st.integers(0, 2**16))
def test_torch_network_computes_theory_forward_for_same_flat_weights(spec, seed):
    """TorchNetwork(spec) with get_flat == w equals theory.network.spec.forward(spec, w, X) in float64."""
    rng = np.random.default_rng(seed)
    w = init_weights(spec, rng)
    X = rng.uniform(-1.5, 1.5, size=(7, spec.input_dim))
    model = TorchNetwork.from_flat(spec, w, dtype=torch.float64)
    np.testing.assert_array_equal(get_flat(model).numpy(), w)  # the layout is theory's, exactly
    expected = forward(spec, w, X)
    got = model(torch.from_numpy(X)).detach().numpy()
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10 * scale)


def test_torch_network_layout_matches_theory_groups():
    """Each registered tensor occupies the slice and shape that theory's ParamGroup assigns to it."""
    spec = NetworkSpec.tree(3, parse("z + z^2/4"), units=2, shared=False)
    model = TorchNetwork(spec)
    slices = param_slices(model)
    expected = []
    for g in spec.groups:
        pos = g.offset
        for name, shape in g.shapes:
            n = int(np.prod(shape))
            expected.append((f"layer{g.layer}.{name}", pos, pos + n, shape, g.layer))
            pos += n
    got = [(s.name, s.slice.start, s.slice.stop, s.shape, s.layer) for s in slices]
    assert got == expected
    assert count_params(model) == spec.n_params


def test_torch_network_gradient_matches_finite_differences():
    """Autograd of the torch realisation equals a central difference of theory's numpy forward (1e-6)."""
    spec = NetworkSpec.fully_connected(2, 3, 2, parse("z + z^2/2"))
    rng = np.random.default_rng(3)
    w, X = init_weights(spec, rng), rng.normal(size=(4, 2))
    loss_np = lambda v: float((forward(spec, v, X) ** 2).sum())  # noqa: E731
    model = TorchNetwork.from_flat(spec, w, dtype=torch.float64)
    (model(torch.from_numpy(X)) ** 2).sum().backward()
    grad = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy()
    h = 1e-6
    fd = np.array([(loss_np(w + h * e) - loss_np(w - h * e)) / (2 * h) for e in np.eye(len(w))])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


def test_polynomial_module_is_horner_on_exact_coefficients():
    """Polynomial(P)(z) equals numpy's polyval of P's float coefficients, in float64, to 1e-12."""
    act = relu_approximation(6, "legendre", 2)
    z = torch.linspace(-2, 2, 101, dtype=torch.float64)
    expected = np.polynomial.polynomial.polyval(z.numpy(), act.float_coeffs())
    np.testing.assert_allclose(Polynomial(act)(z).numpy(), expected, rtol=0, atol=1e-12)


def test_make_activation_accepts_names_texts_and_polys():
    """'relu' gives nn.ReLU, a polynomial text or PolyActivation a Polynomial; garbage is an InvalidSpecError."""
    assert isinstance(make_activation("relu"), torch.nn.ReLU)
    sq = make_activation("z^2")
    assert isinstance(sq, Polynomial) and torch.equal(sq(torch.tensor([3.0])), torch.tensor([9.0]))
    assert isinstance(make_activation(parse("z")), Polynomial)
    with pytest.raises(InvalidSpecError):
        make_activation("sin(z)")


def test_paper_cnn_has_the_papers_parameter_count():
    """Theory II §4.1 reports 188,810 parameters; widths (32, 64, 152, 56) give exactly that on CIFAR-10."""
    model = PaperCNN(in_channels=3, num_classes=10)
    assert PAPER_WIDTHS == (32, 64, 152, 56)
    assert count_params(model) == PAPER_N_PARAMS == 188_810
    # Independent count: 5 biased 3x3 convolutions 3 -> widths -> 10.
    chans = (3,) + PAPER_WIDTHS + (10,)
    assert sum(9 * a * b + b for a, b in zip(chans, chans[1:])) == 188_810
    # BN without shift/scale contributes no parameters, only running statistics.
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 4 and all(m.weight is None and m.bias is None for m in bns)


def test_paper_cnn_output_shapes_and_no_pooling():
    """Five stride-2 convolutions map 32x32 (CIFAR), 28x28 (MNIST) and 8x8 (digits) inputs to class scores."""
    for c, s in [(3, 32), (1, 28), (1, 8)]:
        model = PaperCNN(in_channels=c, num_classes=10, widths=(4, 4, 4, 4)).eval()
        assert model(torch.randn(2, c, s, s)).shape == (2, 10)
    model = PaperCNN()
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5 and all(m.stride == (2, 2) and m.kernel_size == (3, 3) for m in convs)


def test_paper_cnn_with_polynomial_activation_uses_it():
    """With P(z) = z the hidden nonlinearity is the identity, so (in eval, no BN) the map is affine."""
    model = PaperCNN(in_channels=1, num_classes=3, widths=(2, 2, 2, 2), activation="z", batch_norm=False)
    x, y = torch.randn(1, 1, 8, 8), torch.randn(1, 1, 8, 8)
    f0 = model(torch.zeros_like(x))
    torch.testing.assert_close(model(x + y) - f0, (model(x) - f0) + (model(y) - f0), atol=1e-5, rtol=1e-5)


def test_set_flat_then_get_flat_round_trips_and_rejects_wrong_size():
    """set_flat(model, w) followed by get_flat(model) returns w; a wrong length is an InvalidSpecError."""
    model = MLP((5, 7, 3))
    w = torch.randn(count_params(model))
    assert torch.equal(get_flat(set_flat(model, w)), w)
    with pytest.raises(InvalidSpecError):
        set_flat(model, w[:-1])


def test_layer_slices_partition_the_flat_vector():
    """The per-layer slices of the DCNN are disjoint and cover all 188,810 weights; 5 weight layers."""
    model = PaperCNN()
    covered = np.zeros(count_params(model), dtype=int)
    for k in range(1, 6):
        for s in layer_slice(model, k):
            covered[s] += 1
    assert (covered == 1).all()
    with pytest.raises(InvalidSpecError):
        layer_slice(model, 6)


# ----------------------------------------------------------------------------------------------
# Which DCNN weights the built-in data sets can move


def _dead_on_32x32() -> dict:
    """Weights of the paper's DCNN that no 32×32 data can move: the biases of the four convolutions
    before batch norm (which subtracts them), and the last convolution's kernel row 0 and column 0
    (5 of 9 taps × 56 × 10), which at 2×2 input only ever see padding."""
    return {"net.0.bias": 32, "net.3.bias": 64, "net.6.bias": 152, "net.9.bias": 56, "net.12.weight": 5 * 56 * 10}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    from conftest import write_cifar10_layout, write_mnist_layout

    root = tmp_path_factory.mktemp("data")
    write_cifar10_layout(root, per_batch=40)
    write_mnist_layout(root, n_train=200)
    return root


@pytest.mark.parametrize("name", ["fashion-mnist", "cifar10", "mnist"])
def test_every_dcnn_weight_gets_a_gradient_on_the_32x32_data_sets(name, layouts):
    """On Fashion-MNIST (real, padded), CIFAR-10 and MNIST (generated, torchvision layout) every DCNN weight
    receives a nonzero gradient on 200 images, except exactly the ones the architecture makes inert for any data."""
    from empirics.data import DataSpec, load_dataset
    from empirics.models import gradient_coverage

    data = load_dataset(DataSpec(name, data_dir=str(layouts), subset=200))
    assert data.input_shape[1:] == (32, 32)
    torch.manual_seed(0)
    model = PaperCNN(data.input_shape[0], 10)
    cov = gradient_coverage(model, data.x_train[:200], data.y_train[:200])
    assert cov.dead == _dead_on_32x32()
    assert cov.n_params - cov.n_live == sum(_dead_on_32x32().values()) == 3104
    assert cov.fraction > 0.98


def test_digits_8x8_leaves_most_deep_dcnn_weights_without_gradient():
    """Digits stays 8×8 (the fastest test data): the DCNN's third convolution outputs 1×1, so most weights of
    layers 3–5 never receive a gradient — about 121,000 of 188,234 (the reason Fashion-MNIST is the default)."""
    from empirics.data import DataSpec, load_dataset
    from empirics.models import gradient_coverage

    data = load_dataset(DataSpec("digits"))
    torch.manual_seed(0)
    cov = gradient_coverage(PaperCNN(1, 10), data.x_train[:200], data.y_train[:200])
    assert cov.n_params - cov.n_live > 120_000 and cov.fraction < 0.4
    live3, total3 = cov.per_layer[3]
    live4, total4 = cov.per_layer[4]
    assert live3 < 0.5 * total3 and live4 < 0.15 * total4


def test_grouped_cnn_forward_is_k_separate_paper_cnns_with_their_own_batch_norm():
    """One grouped pass over K = 3 stacked DCNNs gives each network's own scores and running statistics
    (train mode, per-trajectory inputs) and its eval-mode scores on a shared input (float64, 1e-10)."""
    from torch.func import functional_call, stack_module_state

    from empirics.models import grouped_cnn_forward, supports_grouped

    nets = []
    for seed in range(3):
        torch.manual_seed(seed)
        nets.append(PaperCNN(2, 5, widths=(4, 6, 5, 3)).double())
    params, buffers = stack_module_state(nets)
    grouped_buffers = {n: t.clone() for n, t in buffers.items()}
    base = PaperCNN(2, 5, widths=(4, 6, 5, 3)).double().train()
    assert supports_grouped(base)
    x = torch.randn(3, 7, 2, 16, 16, dtype=torch.float64)
    out = grouped_cnn_forward(base, params, grouped_buffers, x)
    for k, net in enumerate(nets):
        torch.testing.assert_close(out[k], net.train()(x[k]), atol=1e-10, rtol=0)
        for name, t in net.named_buffers():
            assert torch.allclose(grouped_buffers[name][k].double(), t.double(), atol=1e-12), name
    base.eval()
    shared = torch.randn(4, 2, 16, 16, dtype=torch.float64)
    out = grouped_cnn_forward(base, params, grouped_buffers, shared, shared=True)
    for k, net in enumerate(nets):
        expected = functional_call(net.eval(), {n: t[k] for n, t in {**params, **grouped_buffers}.items()}, (shared,))
        torch.testing.assert_close(out[k], expected, atol=1e-10, rtol=0)
