"""One description of a trained network: ModelSpec, for the paper's CNN, an MLP and a theory network.

The shape of the model lives here, apart from the training settings (`empirics.train_config`), as
nanoGPT keeps its model config apart: a resumed run pins exactly this spec. The theory kind is a
`theory.network.spec.NetworkSpec` (the polynomial network that `theory/` turns into polynomials and
`empirics.models.TorchNetwork` into a module); its widths, activation and bias are read from it.
"""
from __future__ import annotations

from dataclasses import dataclass

from empirics.models import PAPER_WIDTHS, fit_relu_approximation
from landscape_core.errors import InvalidSpecError
from landscape_core.serialize import Config
from theory.network.spec import NetworkSpec

KINDS = ("paper-cnn", "mlp", "theory")
MLP_WIDTHS: tuple[int, ...] = (256, 256)


@dataclass(frozen=True)
class ModelSpec(Config):
    """The network a run trains; saved nested in config.json under 'model', unknown keys are an error.

    Fields (None asks for the kind's default, filled in on construction):
        kind: 'paper-cnn' (Theory II §4.1 DCNN), 'mlp' or 'theory' (a polynomial NetworkSpec).
        widths: hidden widths: the CNN's channel counts (default PAPER_WIDTHS, 4 layers), the MLP's hidden
            widths (default 256, 256); theory: the network's hidden widths (read from `network`).
        activation: 'relu', 'tanh' or a polynomial text ('z + z^2/4', 'relu-legendre:8[:R]'; the CNN's
            R defaults to 4, the scale of batch-normalised inputs); theory: the network's P.
        bias: additive biases (mlp, theory; the CNN's batch norm makes them redundant, default True).
        network: theory kind only: the NetworkSpec (architecture, input and output sizes, P at the output).
    """

    CONFIG_NAME = "model spec"

    kind: str = "paper-cnn"                 # paper-cnn | mlp | theory
    widths: tuple[int, ...] | None = None   # hidden widths (CNN: channels); None: the kind's default
    activation: str | None = None           # None: relu (theory: the network's polynomial)
    bias: bool | None = None                # None: True (theory: the network's)
    network: NetworkSpec | None = None      # theory kind: the polynomial network

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidSpecError(f"unknown model {self.kind!r}: choose one of {', '.join(KINDS)}")
        if isinstance(self.network, dict):
            object.__setattr__(self, "network", NetworkSpec.from_dict(self.network))
        if self.widths is not None:
            object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.kind == "theory":
            self._from_network()
            return
        if self.network is not None:
            raise InvalidSpecError(f"a {self.kind} model takes widths, activation and bias, not a theory network spec")
        default = PAPER_WIDTHS if self.kind == "paper-cnn" else MLP_WIDTHS
        object.__setattr__(self, "widths", default if self.widths is None else self.widths)
        if not self.widths or any(w < 1 for w in self.widths):
            raise InvalidSpecError(f"widths must be positive, got {self.widths}")
        # A ReLU approximation gets an interval that fits its inputs (empirics.models.fit_relu_approximation).
        activation = fit_relu_approximation(self.activation or "relu", self.kind == "paper-cnn")
        object.__setattr__(self, "activation", activation)
        object.__setattr__(self, "bias", True if self.bias is None else bool(self.bias))

    def _from_network(self) -> None:
        """Fill widths, activation and bias from the theory network; refuse values that contradict it."""
        net = self.network
        if not isinstance(net, NetworkSpec):
            raise InvalidSpecError("the theory model needs a network spec (theory.network.spec.NetworkSpec)")
        own = {"widths": tuple(net.widths[1:-1]), "activation": net.activation.to_string(), "bias": net.bias}
        for name, value in own.items():
            given = getattr(self, name)
            if given is not None and given != value:
                raise InvalidSpecError(f"the theory model's {name} is its network's ({value!r}), got {given!r}")
            object.__setattr__(self, name, value)

    @classmethod
    def theory(cls, network: NetworkSpec) -> "ModelSpec":
        """Return the spec of the theory kind for `network`."""
        return cls("theory", network=network)

    def describe(self) -> str:
        """Return a one-line description, e.g. 'mlp 256-256, activation relu, bias'."""
        if self.kind == "theory":
            return f"theory {self.network.describe()}"
        shape = "-".join(map(str, self.widths))
        bias = "" if self.kind == "paper-cnn" else (", bias" if self.bias else ", no bias")
        return f"{self.kind} {shape}, activation {self.activation}{bias}"

    def checked_network(self, input_dim: int | None = None, output_dim: int | None = None) -> NetworkSpec:
        """Return the theory network, checked against the data's input and output sizes when given."""
        spec = self.network
        if spec is None:
            raise InvalidSpecError(f"a {self.kind} model holds no theory network spec")
        if input_dim is not None and spec.input_dim != input_dim:
            raise InvalidSpecError(f"the theory network takes {spec.input_dim} inputs but the data have {input_dim}: "
                                   f"set --input-dim {input_dim}")
        if output_dim is not None and spec.output_dim != output_dim:
            raise InvalidSpecError(f"the theory network has {spec.output_dim} outputs but the task needs {output_dim}: "
                                   f"set --output-dim {output_dim}")
        return spec
