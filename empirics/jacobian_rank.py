"""Randomised rank of the Jacobian of a torch model's outputs w.r.t. its parameters (torch.func).

For K in the hundreds of thousands (the Theory II DCNN has K = 188,810) the (N·n_out) × K Jacobian
J of the outputs on N inputs is too large to form and factor as a whole. Its range is sketched
instead: Y = J Ω with Ω a K × s Gaussian matrix, one column per Jacobian–vector product
(`torch.func.jvp`, batched by `torch.func.vmap`), and the numerical rank of the (N·n_out) × s sketch
is taken with `theory.bounds.rank.numerical_rank`. In exact arithmetic rank(J Ω) = min(rank J, s) with
probability 1 (Halko, Martinsson & Tropp 2011, §4), so s doubles until the sketch's rank falls below
its width (or s reaches min(N·n_out, K)), and the rank is then not capped by the sketch.

What this proves: nothing. The sketch's numerical rank *estimates* rank J: floating-point errors can
hide small singular values or make noise look like rank. A proof of a lower bound on the rank needs
exact arithmetic (`theory.bounds.rank.modular_jacobian_rank` for the polynomial networks of `theory`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jvp, vmap

from landscape_core.seeds import child_seed
from landscape_core.serialize import Serializable
from landscape_core.errors import InvalidSpecError
from theory.bounds.rank import numerical_rank

STATEMENT = ("estimate: the numerical rank of the sketch J·Ω (Ω Gaussian K × s) estimates rank J; in exact "
             "arithmetic it equals min(rank J, s) with probability 1, and s < width means it is not capped; "
             "floating point can err either way, so it proves nothing (a proved lower bound needs exact "
             "arithmetic: theory.bounds.rank.modular_jacobian_rank)")


@dataclass(frozen=True)
class SketchedRank(Serializable):
    """Randomised numerical rank of the Jacobian of a model's outputs w.r.t. its parameters.

    rank: numerical rank of the final sketch J·Ω.
    rows: N·n_out (outputs); cols: K (parameters).
    sketch_width: s, the number of columns of Ω in the final sketch.
    widths_tried: every s tried, in order (each doubles the last; the first is `initial_width`).
    capped: rank = s < min(rows, cols): the sketch saturated at `max_width` (rank J may be larger).
    tolerance: absolute threshold on the sketch's singular values (rtol · σ_max).
    rtol: relative threshold (default max(rows, s) · ε of the model's dtype).
    gap: σ_r / σ_{r+1} of the sketch (inf when r = 0 or r = s).
    seconds: wall time (products and SVDs).
    seed: seed of Ω (torch generator seeded with child_seed(seed, 'sketch')).
    dtype: the dtype of the Jacobian–vector products.
    proves: 'estimate' (see `statement`).
    statement: what the number means and what it does not prove.
    """

    rank: int
    rows: int
    cols: int
    sketch_width: int
    widths_tried: tuple[int, ...]
    capped: bool
    tolerance: float
    rtol: float
    gap: float
    seconds: float
    seed: int
    dtype: str
    proves: str = "estimate"
    statement: str = STATEMENT


def output_map(model: nn.Module, X: torch.Tensor) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
    """Return (f, w): f(w) = the model's outputs on X flattened point-major (N·n_out,), w its flat parameters.

    Parameters are in registration order (as `empirics.models.get_flat`); buffers (batch-norm
    running statistics) are held fixed, which is the network's function only in eval mode, so a
    model in training mode that has buffers is refused.
    """
    buffers = {n: b.detach() for n, b in model.named_buffers()}
    if model.training and buffers:
        raise InvalidSpecError("the model has buffers (batch norm?) and is in training mode: call model.eval() "
                               "so the Jacobian is that of a fixed function")
    params = {n: p.detach() for n, p in model.named_parameters()}
    names = list(params)
    shapes = [params[n].shape for n in names]
    sizes = [params[n].numel() for n in names]
    w = torch.cat([params[n].reshape(-1) for n in names])
    device = w.device
    X = X.to(device=device, dtype=w.dtype)

    def f(flat: torch.Tensor) -> torch.Tensor:
        views = {n: v.view(s) for n, v, s in zip(names, torch.split(flat, sizes), shapes)}
        return functional_call(model, (views, buffers), (X,)).reshape(-1)

    return f, w


def randomized_jacobian_rank(model: nn.Module, X: torch.Tensor, seed: int = 0, initial_width: int = 32,
                             max_width: int | None = None, rtol: float | None = None,
                             chunk: int = 32) -> SketchedRank:
    """Return the numerical rank of J·Ω, J = ∂(model(X))/∂w, Ω Gaussian, widening Ω until rank < width.

    Columns J·ω_j come from forward-mode products `jvp(f, (w,), (ω_j,))`, `chunk` at a time under
    `vmap`; each widening appends new columns (earlier ones are kept). With s = width of Ω:
    rank(JΩ) = min(rank J, s) w.p. 1 in exact arithmetic; the loop stops when the numerical rank is
    below s or s = min(N·n_out, K, max_width). Cost: s forward-mode passes over the N inputs
    (≈ 3 forward passes each). An estimate, not a proof (see the module docstring).
    """
    t0 = time.perf_counter()
    f, w = output_map(model, X)
    with torch.no_grad():
        rows = f(w).numel()
    k = w.numel()
    limit = min(rows, k, max_width or k)
    gen = torch.Generator(device=w.device).manual_seed(child_seed(seed, "sketch"))
    product = vmap(lambda t: jvp(f, (w,), (t,))[1])
    eps = float(torch.finfo(w.dtype).eps)
    columns: list[np.ndarray] = []
    done, width, tried = 0, max(1, min(initial_width, limit)), []
    while True:
        tried.append(width)
        while done < width:
            c = min(chunk, width - done)
            omega = torch.randn(c, k, generator=gen, dtype=w.dtype, device=w.device)
            columns.append(product(omega).detach().to("cpu", torch.float64).numpy().T)
            done += c
        sketch = np.concatenate(columns, axis=1)
        num = numerical_rank(sketch, rtol if rtol is not None else max(rows, width) * eps)
        if num.rank < width or width >= limit:
            break
        width = min(2 * width, limit)
    capped = num.rank == width and width < min(rows, k)
    return SketchedRank(num.rank, rows, k, width, tuple(tried), capped, num.tol, num.rtol, num.gap,
                        time.perf_counter() - t0, seed, str(w.dtype).replace("torch.", ""))


def full_jacobian_rank(model: nn.Module, X: torch.Tensor, rtol: float | None = None):
    """Return `theory.bounds.rank.numerical_rank` of the whole Jacobian (torch.func.jacrev): the small-K reference."""
    from torch.func import jacrev

    f, w = output_map(model, X)
    J = jacrev(f)(w).detach().to("cpu", torch.float64).numpy()
    eps = float(torch.finfo(w.dtype).eps)
    return numerical_rank(J, rtol if rtol is not None else max(J.shape) * eps)
