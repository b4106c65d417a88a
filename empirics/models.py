"""Torch realisations of the networks: theory specs, the paper's DCNN, and a plain MLP.

`TorchNetwork(spec)` is the second realisation of a `theory.network.spec.NetworkSpec` (the first is
`theory.network.spec.forward`): same polynomial activation (Horner on the exact coefficients, as
floats), same bias / output-activation switches, and parameters registered in exactly theory's flat
layout, so `get_flat(model)` is the vector w of `theory.network.spec.forward(spec, w, X)`.

`PaperCNN` is the DCNN of Theory II §4.1 (Poggio & Liao 2017): 6 layers counting the input, i.e.
five 3×3 convolutions with stride 2, no pooling, batch normalisation without affine parameters
between hidden layers; the last convolution maps to the class scores.

Flat-vector helpers (`get_flat`, `set_flat`, `param_views`, `stacked_flat`, `param_slices`) work for
every module here and are the toolkit's one parameter flattening: the probes, Hessians, the theory
comparison, DSS and the training trajectories all go through them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
from torch import nn
from torch.nn.utils import parameters_to_vector

from landscape_core.serialize import Serializable, fields_dict
from theory.network.activations import PolyActivation, parse
from landscape_core.errors import InvalidSpecError
from theory.network.spec import NetworkSpec

# Theory II §4.1 states 188,810 parameters but not the widths. With five biased 3×3 convolutions
# 3 → c1 → c2 → c3 → c4 → 10, the count is 9·(3c1 + c1c2 + c2c3 + c3c4 + 10c4) + (c1+c2+c3+c4+10).
# Among widths that are multiples of 8 the solutions closest to a widening schedule are
# (32, 64, 152, 56) and (32, 128, 88, 56); we take the first, which reproduces 188,810 exactly.
PAPER_WIDTHS: tuple[int, ...] = (32, 64, 152, 56)
PAPER_N_PARAMS = 188_810


# ----------------------------------------------------------------------------------------------
# Activations


class Polynomial(nn.Module):
    """Elementwise P(z) = c_0 + c_1 z + ... + c_ℓ z^ℓ by Horner's rule (a drop-in for nn.ReLU).

    The coefficients are the spec's exact Fractions converted to Python floats, so the module
    follows the input's dtype (float32 or float64) and has no parameters or buffers.
    """

    def __init__(self, activation: PolyActivation):
        super().__init__()
        self.activation = activation
        self.coeffs: tuple[float, ...] = tuple(float(c) for c in activation.coeffs)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        acc = torch.full_like(z, self.coeffs[-1])
        for c in reversed(self.coeffs[:-1]):
            acc = acc * z
            if c != 0.0:
                acc = acc + c
        return acc

    def extra_repr(self) -> str:
        return f"P(z) = {self.activation.to_string()}"


def make_activation(activation: str | PolyActivation | nn.Module) -> nn.Module:
    """Return an activation module: 'relu', 'linear', a polynomial text ('z + z^2/4', 'relu-legendre:8'),
    a `PolyActivation`, or an nn.Module (returned as is)."""
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, PolyActivation):
        return Polynomial(activation)
    if not isinstance(activation, str):
        raise InvalidSpecError(f"cannot build an activation from {activation!r}")
    if activation.strip().lower() == "relu":
        return nn.ReLU()
    if activation.strip().lower() == "tanh":
        return nn.Tanh()
    return Polynomial(parse(activation))


# Interval [−R, R] of a ReLU approximation that follows batch norm: BN'd pre-activations have zero mean
# and unit variance per channel, and [−4, 4] holds all but 6·10⁻⁵ of a standard normal.
BN_RADIUS = 4


def fit_relu_approximation(activation: str, batch_norm: bool) -> str:
    """Return the activation text with the interval of a ReLU approximation fixed to fit its inputs.

    'relu-legendre:L' (any relu-METHOD:L without ':R') after batch norm becomes 'relu-legendre:L:4'
    (BN_RADIUS: 4 standard deviations of the normalised pre-activations); without batch norm the
    input scale is unknown and the text is refused unless it names R. Other activations pass unchanged.
    """
    parts = activation.strip().lower().split(":")
    if not parts[0].startswith("relu-") or len(parts) != 2:
        return activation
    if batch_norm:
        return f"{activation.strip()}:{BN_RADIUS}"
    raise InvalidSpecError(f"{activation!r} approximates the ReLU on [-1, 1], but without batch norm nothing keeps "
                           f"this network's pre-activations there: give the interval, e.g. '{activation.strip()}:4'")


def activation_name(activation: str | PolyActivation | nn.Module) -> str:
    """Return a JSON-friendly description of an activation (its polynomial text for polynomials)."""
    if isinstance(activation, PolyActivation):
        return activation.to_string()
    if isinstance(activation, Polynomial):
        return activation.activation.to_string()
    if isinstance(activation, nn.Module):
        return type(activation).__name__.lower()
    return str(activation)


# ----------------------------------------------------------------------------------------------
# Theory networks


class TorchNetwork(nn.Module):
    """The torch realisation of a `NetworkSpec`: returns f(X; w) of shape (N, n_d) for X of shape (N, n_0).

    fc: H_k = P(H_{k−1} W_kᵀ + b_k) for hidden layers, the output layer applying P only if
    `spec.output_activation` (Theory II eq. (5) applies it). Tree (Theory II Fig. 2): each node maps
    its two inputs (u, u′) to Σ_q a_q P(v_q1 u + v_q2 u′ + b_q); shared levels broadcast one weight set
    (the convolution of eq. (5)); P is applied to the root output only if `output_activation`.

    Parameters are registered in theory's flat order (per layer W then b; tree V, b, a), so
    `get_flat(model)` equals the w that `theory.network.spec.forward(spec, w, X)` takes.
    """

    def __init__(self, spec: NetworkSpec, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None):
        super().__init__()
        self.spec = spec
        self.act = Polynomial(spec.activation)
        self.params = nn.ParameterList()
        self.names: list[str] = []
        for g in spec.groups:
            for name, shape in g.shapes:
                self.params.append(nn.Parameter(torch.zeros(shape, dtype=dtype, device=device)))
                self.names.append(f"layer{g.layer}.{name}")
        self._per_layer = len(spec.groups[0].shapes)

    @classmethod
    def from_flat(cls, spec: NetworkSpec, w: Sequence[float] | torch.Tensor, dtype: torch.dtype = torch.float32,
                  device: torch.device | str | None = None) -> "TorchNetwork":
        """Return the network with flat weights `w` (theory's layout)."""
        model = cls(spec, dtype=dtype, device=device)
        set_flat(model, torch.as_tensor(w, dtype=dtype, device=device))
        return model

    def _layers(self) -> Iterator[dict[str, torch.Tensor]]:
        it = iter(self.params)
        for g in self.spec.groups:
            yield {name: next(it) for name, _ in g.shapes}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        h = x.reshape(x.shape[0], -1)
        if h.shape[1] != spec.input_dim:
            raise InvalidSpecError(f"inputs must have {spec.input_dim} features, got {h.shape[1]}")
        for layer, activated in zip(self._layers(), spec.activated_layers()):
            if spec.architecture == "fc":
                z = h @ layer["W"].T
                if spec.bias:
                    z = z + layer["b"]
                h = self.act(z) if activated else z
            else:
                nodes = h.shape[1] // 2
                pairs = h.reshape(h.shape[0], nodes, 2)
                v = layer["V"].expand(nodes, spec.units, 2)
                z = torch.einsum("nji,jqi->njq", pairs, v)
                if spec.bias:
                    z = z + layer["b"].expand(nodes, spec.units)
                h = torch.einsum("njq,jq->nj", self.act(z), layer["a"].expand(nodes, spec.units))
        if spec.architecture == "tree" and spec.output_activation:
            h = self.act(h)
        return h

    def extra_repr(self) -> str:
        return self.spec.describe()


# ----------------------------------------------------------------------------------------------
# The paper's DCNN and an MLP


class PaperCNN(nn.Module):
    """The Theory II §4.1 DCNN: returns class scores (N, classes) for images (N, C, H, W).

    Layers: input, then 5 convolutions 3×3, stride 2, padding 1 (32 → 16 → 8 → 4 → 2 → 1 pixels on
    CIFAR-10), no pooling; after each hidden convolution BatchNorm2d(affine=False) ("the shifting
    and scaling parameters in BNs are not used") then the activation; the last convolution gives
    the scores, averaged over any remaining pixels (1×1 on 32×32 and 28×28 inputs, so the average
    is the identity there). With the default widths (32, 64, 152, 56) on 3-channel input and 10
    classes it has exactly 188,810 parameters, the paper's count (see PAPER_WIDTHS).

    Batch norm: running statistics are kept (momentum 0.1) for evaluation; `track_running_stats`
    False uses batch statistics everywhere (then evaluation in large batches is advised).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, widths: Sequence[int] = PAPER_WIDTHS,
                 activation: str | PolyActivation | nn.Module = "relu", batch_norm: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        widths = tuple(int(c) for c in widths)
        if not widths or any(c < 1 for c in widths):
            raise InvalidSpecError(f"CNN widths must be positive integers, got {widths}")
        self.widths = widths
        self.activation_label = activation_name(activation)
        chans = (in_channels,) + widths + (num_classes,)
        layers: list[nn.Module] = []
        for k, (c_in, c_out) in enumerate(zip(chans, chans[1:])):
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1, bias=True))
            if k < len(widths):
                if batch_norm:
                    layers.append(nn.BatchNorm2d(c_out, affine=False, track_running_stats=track_running_stats))
                layers.append(make_activation(activation) if not isinstance(activation, nn.Module)
                              else activation)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean(dim=(2, 3))


def grouped_cnn_forward(model: PaperCNN, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
                        x: torch.Tensor, shared: bool = False) -> torch.Tensor:
    """Return the class scores (K, B, classes) of K stacked PaperCNNs, all K in one grouped pass per layer.

    `params`/`buffers` map `model`'s names to tensors with a leading dimension K (as
    `torch.func.stack_module_state` gives); x is (K, B, C, H, W), or (B, C, H, W) for all K when
    `shared`. The K networks become one network on K·c channels: convolution k·c_out..(k+1)·c_out
    sees only channels k·c_in..(k+1)·c_in (`groups=K`; the first layer on shared input is an
    ordinary convolution with the K weight sets concatenated), batch norm normalises each of the
    K·c channels with its own statistics, so trajectory k computes exactly PaperCNN's function with
    its own weights. Running statistics are updated in place in the stacked buffers (slice k for
    trajectory k), with `model`'s BN modes and momenta, as K separate modules would update theirs.
    """
    k = next(iter(params.values())).shape[0]
    if shared:
        h, grouped = x, False
    else:
        h = x.transpose(0, 1).reshape(x.shape[1], k * x.shape[2], *x.shape[3:])  # (B, K·C, H, W)
        grouped = True
    for index, layer in enumerate(model.net):
        name = f"net.{index}"
        if isinstance(layer, nn.Conv2d):
            w = params[f"{name}.weight"]
            b = params.get(f"{name}.bias")
            h = torch.nn.functional.conv2d(h, w.reshape(-1, *w.shape[2:]), None if b is None else b.reshape(-1),
                                           layer.stride, layer.padding, layer.dilation, k if grouped else 1)
            grouped = True
        elif isinstance(layer, nn.BatchNorm2d):
            h = _grouped_batch_norm(layer, buffers, name, h)
        else:
            h = layer(h)  # elementwise activation
    scores = h.mean(dim=(2, 3))  # (B, K·classes)
    return scores.reshape(scores.shape[0], k, -1).transpose(0, 1)


def _grouped_batch_norm(layer: nn.BatchNorm2d, buffers: dict[str, torch.Tensor], name: str,
                        h: torch.Tensor) -> torch.Tensor:
    """Return BatchNorm2d(affine=False) over the K·c channels of h, updating the stacked statistics in place."""
    use_batch = layer.training or not layer.track_running_stats
    mean = buffers.get(f"{name}.running_mean")
    var = buffers.get(f"{name}.running_var")
    momentum = 0.0 if layer.momentum is None else layer.momentum
    if layer.training and layer.track_running_stats and mean is not None:
        tracked = buffers[f"{name}.num_batches_tracked"]
        tracked.add_(1)
        if layer.momentum is None:  # cumulative average, as nn.BatchNorm2d
            momentum = 1.0 / float(tracked.reshape(-1)[0])
    return torch.nn.functional.batch_norm(
        h, None if mean is None else mean.view(-1), None if var is None else var.view(-1), None, None,
        use_batch, momentum, layer.eps)


def supports_grouped(model: nn.Module) -> bool:
    """Return True when `grouped_cnn_forward` realises `model` (a PaperCNN of convolutions, BN, elementwise activations)."""
    if not isinstance(model, PaperCNN):
        return False
    return all(isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Tanh, Polynomial)) for m in model.net)


class MLP(nn.Module):
    """A fully connected classifier/regressor: returns (N, out) for inputs flattened to (N, in).

    widths = (n_0, n_1, ..., n_d); the activation follows every hidden layer, the output is linear.
    """

    def __init__(self, widths: Sequence[int], activation: str | PolyActivation | nn.Module = "relu",
                 bias: bool = True):
        super().__init__()
        widths = tuple(int(c) for c in widths)
        if len(widths) < 2 or any(c < 1 for c in widths):
            raise InvalidSpecError(f"MLP widths must be at least two positive integers, got {widths}")
        self.widths = widths
        self.activation_label = activation_name(activation)
        layers: list[nn.Module] = []
        for k, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.Linear(a, b, bias=bias))
            if k < len(widths) - 2:
                layers.append(make_activation(activation))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], -1))


# ----------------------------------------------------------------------------------------------
# Flat parameter vectors


def count_params(model: nn.Module) -> int:
    """Return the number of trainable scalars (batch-norm running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters())


def get_flat(model: nn.Module) -> torch.Tensor:
    """Return all parameters concatenated in registration order, as a detached 1-D tensor (a copy)."""
    return parameters_to_vector(model.parameters()).detach()


@torch.no_grad()
def set_flat(model: nn.Module, w: torch.Tensor) -> nn.Module:
    """Copy the 1-D tensor `w` into the model's parameters (registration order); return the model.

    Copies in place rather than through torch's `vector_to_parameters`, which rebinds each `.data`
    to a view of `w` (aliasing the caller's vector, skipping dtype conversion, and leaving
    optimisers that hold the old storage behind).
    """
    w = torch.as_tensor(w)
    n = count_params(model)
    if w.ndim != 1 or w.numel() != n:
        raise InvalidSpecError(f"expected a flat vector of {n} weights, got shape {tuple(w.shape)}")
    for p, v in zip(model.parameters(), param_views(model, w).values()):
        p.copy_(v.to(dtype=p.dtype, device=p.device))
    return model


def param_views(model: nn.Module, w: torch.Tensor) -> dict[str, torch.Tensor]:
    """Return {parameter name: view of the flat vector w shaped like that parameter} (for functional_call).

    The views keep w's autograd graph, so w ↦ functional_call(model, param_views(model, w), x) is a
    differentiable function of the flat weights.
    """
    n = count_params(model)
    if w.ndim != 1 or w.numel() != n:
        raise InvalidSpecError(f"expected a flat vector of {n} weights, got shape {tuple(w.shape)}")
    out, pos = {}, 0
    for name, p in model.named_parameters():
        out[name] = w[pos:pos + p.numel()].view(p.shape)
        pos += p.numel()
    return out


def stacked_flat(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """Return the (K, P) flat weights of K stacked models ({name: (K, ...) tensor}, registration order)."""
    k = next(iter(params.values())).shape[0]
    return torch.cat([t.detach().reshape(k, -1) for t in params.values()], dim=1)


@dataclass(frozen=True)
class ParamSlice(Serializable):
    """Where one parameter tensor sits in the flat vector.

    Fields:
        name: the parameter's qualified name (e.g. 'net.3.weight', 'params.0').
        slice: its slice of `get_flat(model)`.
        shape: its tensor shape.
        layer: 1-based index of the weight layer it belongs to (conv/linear/theory layer).
    """

    name: str
    slice: slice
    shape: tuple[int, ...]
    layer: int

    def to_dict(self) -> dict:
        """Return the JSON form: the slice as start and stop."""
        out = fields_dict(self, exclude=("slice",))
        return {"name": out["name"], "start": self.slice.start, "stop": self.slice.stop,
                "shape": out["shape"], "layer": out["layer"]}


def param_slices(model: nn.Module) -> list[ParamSlice]:
    """Return the position of every parameter in the flat vector, with its weight-layer index.

    Layer k counts weight layers from the input (Theory II §4.2 plots "layer 2 weights": the
    second convolution of the DCNN is layer 2 here); for a TorchNetwork it is theory's group layer.
    """
    out, pos = [], 0
    if isinstance(model, TorchNetwork):
        for name, p in zip(model.names, model.params):
            layer = int(name.split(".")[0][len("layer"):])
            out.append(ParamSlice(name, slice(pos, pos + p.numel()), tuple(p.shape), layer))
            pos += p.numel()
        return out
    layer_of: dict[str, int] = {}
    k = 0
    for mname, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            k += 1
            for pname, _ in module.named_parameters(recurse=False):
                layer_of[f"{mname}.{pname}" if mname else pname] = k
    for name, p in model.named_parameters():
        out.append(ParamSlice(name, slice(pos, pos + p.numel()), tuple(p.shape), layer_of.get(name, 0)))
        pos += p.numel()
    return out


def layer_slice(model: nn.Module, layer: int) -> list[slice]:
    """Return the flat-vector slices holding weight layer `layer` (1-based), e.g. for per-layer MDS."""
    found = [s.slice for s in param_slices(model) if s.layer == layer]
    if not found:
        raise InvalidSpecError(f"the model has no weight layer {layer}")
    return found


# ----------------------------------------------------------------------------------------------
# Which weights the data can move


@dataclass(frozen=True)
class GradientCoverage(Serializable):
    """Which weights receive a nonzero gradient of the loss on some data.

    Fields:
        n_params: number of weights.
        n_live: weights whose gradient is nonzero.
        per_layer: {weight layer (1-based): [live, total]}.
        dead: names of parameter tensors with at least one zero-gradient entry, with their dead counts.
    """

    n_params: int
    n_live: int
    per_layer: dict
    dead: dict

    @property
    def fraction(self) -> float:
        """Return n_live / n_params."""
        return self.n_live / self.n_params


def gradient_coverage(model: nn.Module, x: torch.Tensor, y: torch.Tensor, tol: float = 1e-9) -> GradientCoverage:
    """Return which weights get a nonzero gradient of the mean cross-entropy on (x, y), model in train mode.

    Computed in float64 on a copy (the model is not modified); a gradient counts as zero when
    |g| ≤ tol · max|g| over all weights, which separates exact zeros from float64 rounding. Two
    kinds of weight come out zero whatever the data: a weight that only ever multiplies zero
    padding (on 8×8 digits most of the DCNN's deeper weights; on 32×32 the last convolution's
    first kernel row and column, whose input is 2×2), and the bias of a convolution followed by
    batch norm, which subtracts it again (its gradient is zero in exact arithmetic).
    """
    import copy

    m = copy.deepcopy(model).double().train()
    m.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(m(x.double()), y).backward()
    scale = max(float(p.grad.abs().max()) for p in m.parameters() if p.grad is not None)
    per_layer: dict[int, list[int]] = {}
    dead: dict[str, int] = {}
    live_total = 0
    grads = dict(m.named_parameters())
    for s in param_slices(m):
        g = grads[s.name].grad
        live = int((g.abs() > tol * scale).sum()) if g is not None else 0
        total = grads[s.name].numel()
        live_total += live
        row = per_layer.setdefault(s.layer, [0, 0])
        row[0] += live
        row[1] += total
        if live < total:
            dead[s.name] = total - live
    return GradientCoverage(count_params(m), live_total, per_layer, dead)
