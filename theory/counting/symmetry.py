"""Finite symmetry groups of network weight spaces, acting on solution sets as signed permutations.

A hidden unit j of layer k of a fully connected network owns its incoming row W_k[j, :] (with its
bias b_k[j]) and its outgoing column W_{k+1}[:, j]. Two actions map f(x; w) to itself for every
input (Theory II §3.2; Chen, Lu, Hecht-Nielsen 1993 for the sign–permutation group of tanh nets):

* permuting the hidden units of a layer (rows, biases and outgoing columns together);
* flipping the sign of unit j when P is odd (P(−z) = −P(z), linear included): the incoming row,
  bias and outgoing column change sign; when P is even (P(−z) = P(z)) only the incoming row and
  bias change sign.

Each is a signed permutation g of the coordinates; for the square loss with an L2 penalty
L(w) = Σ(f(x_i; w) − y_i)² + Σ λ_j w_j², L(g w) = L(w) needs also λ_{g(j)} = λ_j, so sign flips
preserve every penalised instance, while permutations preserve only penalties constant on the
permuted pairs (a generic λ breaks them). Since g is orthogonal, ∇L(g w) = g ∇L(w): g maps
critical points to critical points for all (y, λ) it preserves, and commutes with any parameter
homotopy — so monodromy may track one representative per orbit, as HomotopyContinuation.jl's
`monodromy_solve(...; group_action)` does (Duff et al. 2019, §4). Rescalings (unit in-row times
t, out-column times t^{−m} for homogeneous P = c·z^m without bias) form a torus: their orbits are
positive-dimensional, they never act on isolated solutions, and no penalty λ > 0 is invariant
under them; they are not used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from landscape_core.serialize import Serializable


@dataclass(frozen=True)
class SignedPermutation(Serializable):
    """The map w ↦ g w with (g w)_i = sign_i · w_{perm_i}.

    Fields:
        perm: source index of each coordinate.
        signs: ±1 per coordinate.
        label: what it does, e.g. 'flip layer 1 unit 0'.
    """

    perm: tuple[int, ...] = field(repr=False)
    signs: tuple[int, ...] = field(repr=False)
    label: str

    def apply(self, w: np.ndarray) -> np.ndarray:
        """Return g w."""
        w = np.asarray(w)
        return np.asarray(self.signs) * w[..., list(self.perm)]


@dataclass(frozen=True)
class GroupAction(Serializable):
    """A finite group given by generators, and the actions considered but not used, with why.

    Fields:
        generators: signed permutations generating the group.
        omitted: one sentence per symmetry left out (it does not preserve the instance, or it is
            not finite).
    """

    generators: tuple[SignedPermutation, ...]
    omitted: tuple[str, ...] = ()

    @property
    def trivial(self) -> bool:
        """Return whether there is no generator."""
        return not self.generators

    def orbit(self, x: np.ndarray, tol: float = 1e-8) -> list[np.ndarray]:
        """Return the orbit {g x} (x first), by closing under the generators; points within tol are one."""
        out = [np.asarray(x)]
        frontier = [out[0]]
        while frontier:
            nxt = []
            for y in frontier:
                for g in self.generators:
                    z = g.apply(y)
                    if all(np.max(np.abs(z - o)) > tol * (1 + np.max(np.abs(o))) for o in out):
                        out.append(z)
                        nxt.append(z)
            frontier = nxt
        return out


def hidden_units(spec) -> list[tuple[int, int, list[int], list[int], list[int]]]:
    """Return (layer, unit, incoming-row indices, bias index list, outgoing-column indices) per hidden unit (fc)."""
    groups = spec.groups
    out = []
    for k in range(1, spec.depth):
        g, h = groups[k - 1], groups[k]
        n_out, n_in, n_next = spec.widths[k], spec.widths[k - 1], spec.widths[k + 1]
        for j in range(n_out):
            row = [g.offset + j * n_in + i for i in range(n_in)]
            bias = [g.offset + n_out * n_in + j] if spec.bias else []
            col = [h.offset + r * n_out + j for r in range(n_next)]
            out.append((k, j, row, bias, col))
    return out


def _parity(spec) -> str | None:
    """Return 'odd', 'even' or None for the activation P."""
    c = [complex(v) for v in spec.activation.float_coeffs()]
    if all(v == 0 for v in c[0::2]):
        return "odd"
    if all(v == 0 for v in c[1::2]):
        return "even"
    return None


def network_group(spec, penalty: Sequence[float] | None = None, parameters_move_penalty: bool = False,
                  slices: bool = False) -> GroupAction:
    """Return the sign-flip and permutation symmetries of a fc network that preserve the instance.

    `penalty`: the λ in use (None: no penalty term). `parameters_move_penalty`: λ is itself a
    monodromy parameter (the critical family), so only actions fixing every λ are kept.
    `slices`: the family carries affine slices A w + b = 0 (witness sets), which no coordinate
    permutation or sign change preserves.
    """
    if spec.architecture != "fc":
        return GroupAction((), ("tree networks: symmetries not enumerated",))
    if slices:
        return GroupAction((), ("witness slices A w + b = 0 are not invariant under coordinate symmetries",))
    K = spec.n_params
    units = hidden_units(spec)
    gens, omitted = [], []
    parity = _parity(spec)
    for k, j, row, bias, col in units:
        if parity is None:
            break
        signs = np.ones(K, dtype=int)
        signs[row + bias] = -1
        if parity == "odd":
            signs[col] = -1
        gens.append(SignedPermutation(tuple(range(K)), tuple(int(s) for s in signs),
                                      f"flip layer {k} unit {j} ({parity} P)"))
    if parity is None and units:
        omitted.append("sign flips: P is neither odd nor even")
    lam = None if penalty is None else np.asarray(penalty, dtype=complex)
    for k in range(1, spec.depth):
        layer = [u for u in units if u[0] == k]
        for (_, j, row, bias, col), (_, j2, row2, bias2, col2) in zip(layer, layer[1:]):
            perm = np.arange(K)
            for a, b in zip(row + bias + col, row2 + bias2 + col2):
                perm[a], perm[b] = b, a
            label = f"swap layer {k} units {j}, {j2}"
            if parameters_move_penalty:
                omitted.append(f"{label}: the penalty λ is a monodromy parameter, and generic λ are not swap-invariant")
            elif lam is not None and np.max(np.abs(lam[perm] - lam)) > 0:
                omitted.append(f"{label}: the penalty λ is not invariant under it")
            else:
                gens.append(SignedPermutation(tuple(int(v) for v in perm), (1,) * K, label))
    omitted.append("rescalings of homogeneous units: a torus acting on positive-dimensional sets only")
    return GroupAction(tuple(gens), tuple(omitted))


def verified(group: GroupAction, residual, points: Sequence[np.ndarray], tol: float = 1e-8) -> GroupAction:
    """Return the group restricted to generators mapping every given solution to a solution.

    `residual(w)` is ‖F(w)‖∞ at the parameters in use; a generator that fails moves to `omitted`.
    """
    keep, omitted = [], list(group.omitted)
    for g in group.generators:
        ok = all(residual(g.apply(x)) <= tol * (1 + float(np.max(np.abs(x)))) for x in points)
        if ok:
            keep.append(g)
        else:
            omitted.append(f"{g.label}: does not map solutions to solutions here")
    return GroupAction(tuple(keep), tuple(omitted))
