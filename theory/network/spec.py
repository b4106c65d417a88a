"""One network description, realised as a straight-line program over any commutative ring.

A `NetworkSpec` (frozen) describes a polynomial-activation network: fully connected
(widths n_0, ..., n_d) or the compositional binary tree of Theory II Fig. 2 / eq. (1)–(5). Its
weights form one flat vector w ∈ R^K with a fixed layout (`groups`), the same layout that
`empirics.models` uses for the torch realisation.

`forward_point` evaluates the network on one input using only + and * on its arguments, so the
same code yields floats, exact Fractions, sympy polynomials in the weights, univariate
polynomials modulo a prime (exact degrees), dual numbers (Jacobians) or degree bounds.
`forward` is the vectorised numpy pass for many inputs; tests prove they agree.

Layout, fully connected: for layer k = 1..d, W_k (n_k × n_{k−1}, row-major, as torch's
nn.Linear.weight) then b_k (n_k, if bias). Hidden layers apply P; the output layer applies P only
if `output_activation` (Theory II eq. (5) applies P at the output).

Layout, tree of depth d on 2^d inputs: level k = 1..d has 2^{d−k} nodes (one weight set if
`shared`, as the convolution of eq. (5)); each node maps its two inputs (u, u′) to
Σ_{q<Q} a_q P(v_q1 u + v_q2 u′ + b_q); the level stores V (nodes × Q × 2), then b (nodes × Q,
if bias), then a (nodes × Q), with nodes = 1 when shared.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from landscape_core.seeds import stream
from landscape_core.serialize import fields_dict
from theory.network.activations import PolyActivation
from landscape_core.errors import InvalidSpecError

ARCHITECTURES = ("fc", "tree")
# Variable prefixes per layer: PHCpack reserves e/E (exponent) and i/I (imaginary unit).
_PREFIXES = [c for c in string.ascii_lowercase if c not in "ei"]
MAX_PARAMS = 10_000_000


@dataclass(frozen=True)
class ParamGroup:
    """The weights of one layer (a variable group for multihomogeneous Bezout counts).

    Fields:
        layer: 1-based layer (fc) or tree level.
        offset: index of the group's first weight in the flat vector.
        size: number of weights in the group.
        prefix: letter used in variable names of this group ('a' for layer 1, 'b' for 2, ...).
        shapes: (name, shape) of the tensors stored consecutively in the group.
    """

    layer: int
    offset: int
    size: int
    prefix: str
    shapes: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def slice(self) -> slice:
        """Return the slice of the flat weight vector holding this group."""
        return slice(self.offset, self.offset + self.size)

    @property
    def name(self) -> str:
        """Return 'layer<k>'."""
        return f"layer{self.layer}"


@dataclass(frozen=True)
class NetworkSpec:
    """A polynomial-activation network: architecture, widths, activation, bias.

    Fields:
        widths: (n_0, ..., n_d); for a tree, the node counts per level (2^d, 2^{d−1}, ..., 1).
        activation: the polynomial P applied elementwise.
        bias: whether pre-activations carry an additive bias.
        output_activation: whether P is also applied at the output (Theory II eq. (5) does).
        architecture: 'fc' (fully connected) or 'tree' (binary tree, Theory II Fig. 2).
        units: tree only: Q, the number of units per node.
        shared: tree only: one weight set per level (the convolution of eq. (5)).
    """

    widths: tuple[int, ...]
    activation: PolyActivation
    bias: bool = True
    output_activation: bool = True
    architecture: str = "fc"
    units: int = 2
    shared: bool = False
    _groups: tuple[ParamGroup, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        object.__setattr__(self, "widths", widths)
        if self.architecture not in ARCHITECTURES:
            raise InvalidSpecError(f"unknown architecture {self.architecture!r}: choose fc or tree")
        if not isinstance(self.activation, PolyActivation):
            raise InvalidSpecError("activation must be a PolyActivation")
        if len(widths) < 2:
            raise InvalidSpecError("a network needs at least one layer (two widths)")
        if any((not isinstance(n, (int, np.integer))) or n < 1 for n in widths):
            raise InvalidSpecError(f"widths must be positive integers, got {widths}")
        if len(widths) - 1 > len(_PREFIXES):
            raise InvalidSpecError(f"at most {len(_PREFIXES)} layers are supported")
        if self.architecture == "tree":
            d = len(widths) - 1
            if widths != tuple(2 ** (d - k) for k in range(d + 1)):
                raise InvalidSpecError(f"a tree of depth {d} has widths {tuple(2 ** (d - k) for k in range(d + 1))}")
            if self.units < 1:
                raise InvalidSpecError(f"tree nodes need at least one unit, got {self.units}")
        object.__setattr__(self, "_groups", self._layout())
        if self.n_params > MAX_PARAMS:
            raise InvalidSpecError(f"{self.n_params} weights exceed the supported {MAX_PARAMS}")

    # --- constructors -------------------------------------------------------------------------
    @classmethod
    def fully_connected(cls, input_dim: int, width: int, layers: int, activation: PolyActivation,
                        output_dim: int = 1, bias: bool = True, output_activation: bool = True) -> "NetworkSpec":
        """Return the fc spec with `layers` weight layers: widths (input_dim, width, ..., width, output_dim)."""
        if layers < 1:
            raise InvalidSpecError(f"layers must be at least 1, got {layers}")
        widths = (input_dim,) + (width,) * (layers - 1) + (output_dim,)
        return cls(widths, activation, bias=bias, output_activation=output_activation)

    @classmethod
    def tree(cls, depth: int, activation: PolyActivation, units: int = 2, bias: bool = True,
             shared: bool = False, output_activation: bool = True) -> "NetworkSpec":
        """Return the binary-tree spec of depth d on 2^d inputs (Theory II Fig. 2 is d = 2).

        P is applied at the root's output by default, as in eq. (5) and as for `fully_connected`.
        """
        if depth < 1:
            raise InvalidSpecError(f"tree depth must be at least 1, got {depth}")
        if depth > 20:
            raise InvalidSpecError(f"tree depth {depth} means 2^{depth} inputs: at most 20")
        widths = tuple(2 ** (depth - k) for k in range(depth + 1))
        return cls(widths, activation, bias=bias, output_activation=output_activation,
                   architecture="tree", units=units, shared=shared)

    def with_activation(self, activation: PolyActivation) -> "NetworkSpec":
        """Return the same architecture with another activation."""
        return replace(self, activation=activation)

    # --- layout -------------------------------------------------------------------------------
    def _layout(self) -> tuple[ParamGroup, ...]:
        groups, offset = [], 0
        for k in range(1, len(self.widths)):
            if self.architecture == "fc":
                n_out, n_in = self.widths[k], self.widths[k - 1]
                shapes = [("W", (n_out, n_in))] + ([("b", (n_out,))] if self.bias else [])
            else:
                nodes, q = (1 if self.shared else self.widths[k]), self.units
                shapes = [("V", (nodes, q, 2))] + ([("b", (nodes, q))] if self.bias else []) + [("a", (nodes, q))]
            size = sum(int(np.prod(s)) for _, s in shapes)
            groups.append(ParamGroup(k, offset, size, _PREFIXES[k - 1], tuple(shapes)))
            offset += size
        return tuple(groups)

    @property
    def groups(self) -> tuple[ParamGroup, ...]:
        """Return the per-layer weight groups, in flat-vector order."""
        return self._groups

    @property
    def depth(self) -> int:
        """Return d, the number of weight layers (tree levels)."""
        return len(self.widths) - 1

    @property
    def input_dim(self) -> int:
        """Return n_0."""
        return self.widths[0]

    @property
    def output_dim(self) -> int:
        """Return n_d (1 for a tree)."""
        return self.widths[-1]

    @property
    def n_params(self) -> int:
        """Return K, the number of weights."""
        last = self._groups[-1]
        return last.offset + last.size

    def variable_names(self) -> list[str]:
        """Return K variable names, e.g. a0..a5 for layer 1, b0.. for layer 2 (PHCpack-safe)."""
        return [f"{g.prefix}{i}" for g in self._groups for i in range(g.size)]

    def activated_layers(self) -> tuple[bool, ...]:
        """Return, for each layer k = 1..d, whether P is applied to its output."""
        return tuple(k < self.depth or self.output_activation for k in range(1, self.depth + 1))

    def unflatten(self, w: Sequence) -> list[dict[str, Any]]:
        """Return per-layer dicts of named tensors (numpy arrays; object arrays for ring elements)."""
        if len(w) != self.n_params:
            raise InvalidSpecError(f"expected {self.n_params} weights, got {len(w)}")
        arr = np.asarray(w) if isinstance(w, np.ndarray) else np.array(list(w), dtype=object)
        layers = []
        for g in self._groups:
            out, pos = {}, g.offset
            for name, shape in g.shapes:
                n = int(np.prod(shape))
                out[name] = arr[pos:pos + n].reshape(shape)
                pos += n
            layers.append(out)
        return layers

    def describe(self) -> str:
        """Return a one-line description, e.g. 'fc 2-2-2-1, P=relu-legendre:4, bias, P on output'."""
        arch = "-".join(map(str, self.widths)) if self.architecture == "fc" else \
            f"depth {self.depth} on {self.input_dim} inputs, {self.units} units/node{', shared' if self.shared else ''}"
        return (f"{self.architecture} {arch}, P = {self.activation.name} (degree {self.activation.degree}), "
                f"{'bias' if self.bias else 'no bias'}, {'P on output' if self.output_activation else 'linear output'}")

    def to_dict(self) -> dict:
        """Return the fields as JSON (architecture first, the derived layout replaced by `n_params`)."""
        fields = fields_dict(self, exclude=("_groups",))
        return {"architecture": fields.pop("architecture"), **fields, "n_params": self.n_params}

    @classmethod
    def from_dict(cls, data: dict) -> "NetworkSpec":
        """Inverse of `to_dict`."""
        return cls(tuple(data["widths"]), PolyActivation.from_dict(data["activation"]), bias=data["bias"],
                   output_activation=data["output_activation"], architecture=data["architecture"],
                   units=data.get("units", 2), shared=data.get("shared", False))


# ----------------------------------------------------------------------------------------------
# The straight-line program


def forward_point(spec: NetworkSpec, w: Sequence, x: Sequence, coerce: Callable[[Fraction], Any] = float,
                  activation: Callable[[Any], Any] | None = None) -> list:
    """Return the n_d outputs f(x; w) using only + and * on the entries of `w` and `x`.

    `coerce` maps the activation's exact coefficients into the ring; `activation` overrides
    P(z) (default: Horner with `coerce`). Works for floats, Fractions, numpy arrays (many inputs
    at once when x holds columns), sympy PolyElements, ModPoly, Dual and DegreeBound objects.
    """
    if len(w) != spec.n_params:
        raise InvalidSpecError(f"expected {spec.n_params} weights, got {len(w)}")
    if len(x) != spec.input_dim:
        raise InvalidSpecError(f"expected inputs of dimension {spec.input_dim}, got {len(x)}")
    act = activation or (lambda z: spec.activation(z, coerce))
    h = list(x)
    for g, activated in zip(spec.groups, spec.activated_layers()):
        if spec.architecture == "fc":
            h = _fc_layer(spec, g, w, h)
            if activated and g.layer < spec.depth:
                h = [act(z) for z in h]
        else:
            h = _tree_level(spec, g, w, h, act)
        if activated and g.layer == spec.depth:
            h = [act(z) for z in h]
    return h


def _fc_layer(spec: NetworkSpec, g: ParamGroup, w: Sequence, h: list) -> list:
    n_out, n_in = spec.widths[g.layer], spec.widths[g.layer - 1]
    base, bias_base = g.offset, g.offset + n_out * n_in
    out = []
    for i in range(n_out):
        row = base + i * n_in
        z = w[row] * h[0]
        for j in range(1, n_in):
            z = z + w[row + j] * h[j]
        if spec.bias:
            z = z + w[bias_base + i]
        out.append(z)
    return out


def _tree_level(spec: NetworkSpec, g: ParamGroup, w: Sequence, h: list, act: Callable) -> list:
    q = spec.units
    stored = 1 if spec.shared else spec.widths[g.layer]
    v0 = g.offset                                  # V: (stored, q, 2)
    b0 = v0 + 2 * q * stored                       # b: (stored, q)
    a0 = b0 + (q * stored if spec.bias else 0)     # a: (stored, q)
    out = []
    for j in range(spec.widths[g.layer]):
        s = 0 if spec.shared else j
        u_left, u_right = h[2 * j], h[2 * j + 1]
        total = None
        for r in range(q):
            unit = s * q + r
            z = w[v0 + 2 * unit] * u_left + w[v0 + 2 * unit + 1] * u_right
            if spec.bias:
                z = z + w[b0 + unit]
            term = w[a0 + unit] * act(z)
            total = term if total is None else total + term
        out.append(total)
    return out


def forward(spec: NetworkSpec, w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Return f(X; w) of shape (N, n_d) for float inputs X of shape (N, n_0): the vectorised pass."""
    w = np.asarray(w, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != spec.input_dim:
        raise InvalidSpecError(f"inputs must have shape (N, {spec.input_dim}), got {X.shape}")
    coeffs = spec.activation.float_coeffs()
    P = lambda z: np.polynomial.polynomial.polyval(z, coeffs)  # noqa: E731
    H = X
    for params, activated in zip(spec.unflatten(w), spec.activated_layers()):
        if spec.architecture == "fc":
            Z = H @ params["W"].T + (params["b"] if spec.bias else 0.0)
            H = P(Z) if activated else Z
        else:
            nodes = H.shape[1] // 2
            pairs = H.reshape(H.shape[0], nodes, 2)
            V = np.broadcast_to(params["V"], (nodes, spec.units, 2))
            Z = np.einsum("nji,jqi->njq", pairs, V)
            if spec.bias:
                Z = Z + np.broadcast_to(params["b"], (nodes, spec.units))
            H = np.einsum("njq,jq->nj", P(Z), np.broadcast_to(params["a"], (nodes, spec.units)))
    if spec.architecture == "tree" and spec.output_activation:
        H = P(H)
    return H


def init_weights(spec: NetworkSpec, seed: int | np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Return random weights: each layer N(0, scale²/fan_in) (fan_in 2 for tree nodes), biases included.

    `seed`: a Generator, or a user seed for the stream 'initial weights'.
    """
    rng = seed if isinstance(seed, np.random.Generator) else stream(seed, "initial weights")
    w = np.empty(spec.n_params)
    for g in spec.groups:
        fan_in = spec.widths[g.layer - 1] if spec.architecture == "fc" else 2
        w[g.slice] = rng.normal(0.0, scale / np.sqrt(fan_in), size=g.size)
    return w
