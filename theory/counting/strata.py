"""Coordinate strata of network weight spaces that are solution sets for every choice of parameters.

A hidden unit j of layer k (fc network) is dead when its incoming row W_k[j, :], its bias b_k[j]
(if any) and its outgoing column W_{k+1}[:, j] are all zero. If P(0) = 0, a dead unit outputs 0
for every input, and every partial derivative of L(w) = Σ(f(x_i; w) − y_i)² + Σ λ_j w_j² in its
coordinates vanishes there: ∂/∂W_{k+1}[:, j] ∝ h_j = P(0) = 0, ∂/∂W_k[j, :] and ∂/∂b_k[j] carry
the factor W_{k+1}[:, j]ᵀδ = 0, and the penalty terms are λ·0. So {dead units D} ∩ {∇L = 0} is the
critical set of the network with those units removed, for every (y, λ): a coordinate subspace
that stays a solution set as the parameters move. Its generic points form a union of irreducible
components of the incidence variety {(w, p) : ∇L(w; p) = 0} of their own, and a monodromy orbit
never leaves its component (Sommese–Wampler 2005, §15.4; Mehta, Chen, Tang, Hauenstein 2018,
arXiv:1810.07716, count their critical points of deep linear nets this way).

Enumerated here: dead sets D with at least one live unit per hidden layer, and W = 0 (which is
critical for all parameters when J(0) = 0, e.g. two or more layers without bias and P(0) = 0; it
is checked numerically). Without bias a whole dead hidden layer forces W = 0 (its downstream
gradients reduce to λ ⊙ w), so no other strata exist; with bias, strata with a whole hidden layer
dead are not enumerated. For zero-error systems the incidence variety {(w, y) : f(X; w) = y} is
the graph of a polynomial map, hence irreducible: there is one component, and no strata.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError


@dataclass(frozen=True)
class Stratum(Serializable):
    """A coordinate stratum: dead hidden units (or all weights zero), and the coordinates left.

    Fields:
        label: e.g. 'no dead unit', 'dead: layer 1 unit 0', 'W = 0'.
        dead: (layer, unit) of each dead hidden unit.
        zero: True for the stratum W = 0.
        widths: the widths of the network with the dead units removed (None for W = 0).
        kept: indices, in the full weight vector, of the remaining coordinates, in the reduced
            network's layout order.
    """

    label: str
    dead: tuple[tuple[int, int], ...]
    zero: bool
    widths: tuple[int, ...] | None
    kept: tuple[int, ...]

    def embed(self, w: np.ndarray, n_params: int) -> np.ndarray:
        """Return the full weight vector with w on the kept coordinates and 0 elsewhere."""
        full = np.zeros(n_params, dtype=complex)
        full[list(self.kept)] = w
        return full

    def contains(self, other: "Stratum") -> bool:
        """Return whether `other`'s closed set lies in this one's (more dead units, or W = 0)."""
        return other.zero or (not self.zero and set(self.dead) <= set(other.dead))


def dead_unit_condition(spec) -> str | None:
    """Return why dead-unit strata do not exist for `spec`, or None if they do (P(0) = 0, fc)."""
    if spec.architecture != "fc":
        return "tree networks: strata not enumerated"
    if spec.activation.coeffs[0] != 0:
        return "P(0) ≠ 0: a unit with zero incoming weights still outputs P(b) ≠ 0"
    return None


def kept_indices(spec, dead: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Return the full-vector indices of the weights of the network with the `dead` units removed."""
    gone = {k: {j for (kk, j) in dead if kk == k} for k in range(spec.depth + 1)}
    out = []
    for g in spec.groups:
        k = g.layer
        n_out, n_in = spec.widths[k], spec.widths[k - 1]
        for r in range(n_out):
            if r in gone[k]:
                continue
            out.extend(g.offset + r * n_in + c for c in range(n_in) if c not in gone[k - 1])
        if spec.bias:
            out.extend(g.offset + n_out * n_in + r for r in range(n_out) if r not in gone[k])
    return tuple(out)


def network_strata(spec, kind: str = "critical") -> tuple[tuple[Stratum, ...], str]:
    """Return (the strata, one sentence on which exist and why), the full space first.

    `kind`: 'critical' (∇L = 0 with a penalty) or 'zero-error' (f(X; w) = y: one component).
    """
    full = Stratum("no dead unit", (), False, spec.widths, tuple(range(spec.n_params)))
    if kind == "zero-error":
        return (full,), ("zero-error systems: the incidence variety {(w, y) : f(X; w) = y} is the graph of a "
                         "polynomial map, irreducible, so one component holds every isolated solution")
    if kind != "critical":
        raise InvalidSpecError(f"kind must be 'critical' or 'zero-error', got {kind!r}")
    why = dead_unit_condition(spec)
    if why is not None:
        return (full,), why
    hidden = [[(k, j) for j in range(spec.widths[k])] for k in range(1, spec.depth)]
    out = [full]
    per_layer = [[c for m in range(len(units)) for c in itertools.combinations(units, m)] for units in hidden]
    for choice in itertools.product(*per_layer):
        dead = tuple(u for part in choice for u in part)
        if not dead:
            continue
        widths = tuple(n - sum(1 for (k, _) in dead if k == i) for i, n in enumerate(spec.widths))
        label = "dead: " + ", ".join(f"layer {k} unit {j}" for k, j in dead)
        out.append(Stratum(label, dead, False, widths, kept_indices(spec, dead)))
    out.append(Stratum("W = 0", tuple(u for units in hidden for u in units), True, None, ()))
    note = ("dead hidden units (incoming row" + (", bias" if spec.bias else "") + " and outgoing column zero) "
            "are critical for all (y, λ) since P(0) = 0; at least one live unit per hidden layer"
            + ("; strata with a whole hidden layer dead are not enumerated (biases)" if spec.bias else
               "; a whole dead layer forces W = 0"))
    return tuple(out), note


def reduced_spec(spec, stratum: Stratum):
    """Return the NetworkSpec with the stratum's dead units removed."""
    return replace(spec, widths=stratum.widths)


def reduced_penalty(penalty, stratum: Stratum) -> tuple[Fraction, ...]:
    """Return λ restricted to the stratum's kept coordinates."""
    return tuple(penalty[i] for i in stratum.kept)


def mobius_open_counts(strata: tuple[Stratum, ...], closed: dict[str, int]) -> dict[str, int]:
    """Return the solutions on each open stratum from those on each closed one, by Möbius inversion.

    closed(S) = Σ_{T ⊆ S closed} open(T): each closed stratum is the disjoint union of the open
    strata it contains (the network with S's units removed has exactly those solutions).
    """
    order = sorted(strata, key=lambda s: (s.zero, len(s.dead)), reverse=True)
    opened: dict[str, int] = {}
    for s in order:
        inner = sum(opened[t.label] for t in strata if t.label != s.label and t.label in opened and s.contains(t))
        opened[s.label] = closed[s.label] - inner
    return opened
