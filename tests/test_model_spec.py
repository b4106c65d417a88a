"""ModelSpec: one description of the CNN, the MLP and the theory network; build_model realises it."""
import numpy as np
import pytest
import torch

from empirics.model_spec import ModelSpec
from empirics.models import PAPER_WIDTHS, get_flat
from empirics.train import TrainConfig, build_model
from landscape_core.errors import InvalidSpecError
from theory.network.activations import parse
from theory.network.spec import NetworkSpec, forward


def test_defaults_are_the_papers_cnn_and_a_256_256_mlp():
    """Claim: without widths the CNN gets the paper's channels and the MLP 256, 256; activation ReLU, biases on."""
    assert ModelSpec().widths == PAPER_WIDTHS and ModelSpec().activation == "relu" and ModelSpec().bias is True
    assert ModelSpec("mlp").widths == (256, 256)


def test_theory_kind_reads_widths_activation_and_bias_from_its_network():
    """Claim: the theory kind's fields are its NetworkSpec's (hidden widths, P, bias); a contradiction is refused."""
    net = NetworkSpec((3, 5, 4, 1), parse("z + z^2/4"), bias=False)
    spec = ModelSpec.theory(net)
    assert (spec.widths, spec.bias, spec.network) == ((5, 4), False, net)
    assert parse(spec.activation).coeffs == net.activation.coeffs
    with pytest.raises(InvalidSpecError, match="widths"):
        ModelSpec("theory", widths=(7,), network=net)
    with pytest.raises(InvalidSpecError, match="network spec"):
        ModelSpec("theory")
    with pytest.raises(InvalidSpecError, match="not a theory network"):
        ModelSpec("mlp", network=net)


def test_model_spec_round_trips_through_config_json_and_refuses_unknown_keys():
    """Claim: TrainConfig nests the spec under 'model'; from_dict(to_dict()) gives it back; unknown keys are errors."""
    net = NetworkSpec((2, 3, 1), parse("z^2"))
    for spec in (ModelSpec("mlp", widths=(9, 4), activation="tanh", bias=False), ModelSpec.theory(net)):
        data = TrainConfig(model=spec, dataset="regression", teacher=net).to_dict()
        assert data["model"]["kind"] == spec.kind
        assert TrainConfig.from_dict(data).model == spec
    with pytest.raises(InvalidSpecError, match="colour"):
        ModelSpec.from_dict({**ModelSpec().to_dict(), "colour": 1})


def test_build_model_of_a_theory_spec_computes_theorys_forward():
    """Claim: the module built from a theory ModelSpec equals theory.network.spec.forward at its weights (float64)."""
    net = NetworkSpec((3, 4, 2), parse("z + z^2/4"), output_activation=False)
    model = build_model(ModelSpec.theory(net), (3,), 2, seed=5, dtype=torch.float64)
    X = np.random.default_rng(0).normal(size=(6, 3))
    w = get_flat(model).detach().numpy()
    out = model(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out, forward(net, w, X), rtol=1e-12, atol=1e-12)
    with pytest.raises(InvalidSpecError, match="inputs"):
        build_model(ModelSpec.theory(net), (4,), 2, seed=5)


def test_build_model_gives_the_mlp_its_widths_and_bias():
    """Claim: an MLP spec 5-(7, 3)-2 without bias has 5·7 + 7·3 + 3·2 parameters."""
    model = build_model(ModelSpec("mlp", widths=(7, 3), bias=False), (5,), 2, seed=0)
    assert sum(p.numel() for p in model.parameters()) == 5 * 7 + 7 * 3 + 3 * 2
