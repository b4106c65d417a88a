"""The one way training loss and error are measured for networks with batch norm.

A network with batch norm is not a function of its weights alone: in eval mode it normalises with
running statistics, which after training are an exponential average over past weights (with
full-batch GD they lag far behind the weights: a run whose stored statistics gave a training error
of 0.78 has 0.063 with statistics of its final weights). Everywhere in the
toolkit (train's metrics.json, the probes' default `bn='recompute'`, MDS labels, experiment
reports) the statistics are instead recomputed on the training set at the evaluated weights, as
Garipov et al. (2018, `utils.bn_update`) do for points on a curve:

    reset every running mean to 0 and variance to 1; pass the training set through the network in
    train mode in chunks x_1, ..., x_m of sizes b_1, ..., b_m with momentum b_j / (b_1 + ... + b_j),
    so each running statistic is the size-weighted mean of the chunks' batch statistics; then
    evaluate in eval mode with those statistics (on the training and on the test set).

With one chunk (evaluation batch ≥ N) the statistics are exactly the training set's mean and
unbiased variance of every pre-normalisation activation. Networks without batch norm are unaffected.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

EVALUATION = "bn-recompute-train"  # the marker metrics.json records (see the module docstring)
_BN_TYPES = (nn.modules.batchnorm._BatchNorm,)


def batch_norms(model: nn.Module) -> list[nn.Module]:
    """Return the batch-norm layers of `model` that keep running statistics."""
    return [m for m in model.modules() if isinstance(m, _BN_TYPES) and m.track_running_stats]


def reset_statistics(buffers: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return fresh copies of batch-norm buffers: running_mean 0, running_var 1, num_batches_tracked 0."""
    out = {}
    for name, t in buffers.items():
        if name.endswith("running_var"):
            out[name] = torch.ones_like(t)
        else:
            out[name] = torch.zeros_like(t)
    return out


@torch.no_grad()
def recompute_bn(model: nn.Module, x: torch.Tensor, batch_size: int | None = None,
                 forward: Callable[[torch.Tensor], Any] | None = None) -> None:
    """Re-estimate the running statistics of `model`'s batch norms on inputs x; leave the model in eval mode.

    Formula and reference in the module docstring. `forward(chunk)` runs the network (default
    `model(chunk)`, after resetting the model's own statistics); a caller that keeps the statistics
    elsewhere (stacked trajectories under `torch.func.functional_call`) passes its own forward and
    resets its buffers itself (`reset_statistics`).
    """
    bns = batch_norms(model)
    if not bns:
        model.eval()
        return
    if forward is None:
        for m in bns:
            m.reset_running_stats()
        forward = model
    saved = [m.momentum for m in bns]
    model.train()
    try:
        seen = 0
        step = x.shape[0] if batch_size is None else batch_size
        for start in range(0, x.shape[0], step):
            chunk = x[start:start + step]
            for m in bns:
                m.momentum = chunk.shape[0] / (seen + chunk.shape[0])
            forward(chunk)
            seen += chunk.shape[0]
    finally:
        for m, mom in zip(bns, saved):
            m.momentum = mom
        model.eval()
