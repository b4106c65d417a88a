"""Figures for theory results (matplotlib, Agg backend); computing functions never draw."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def plot_relu_approximations(path: str, radius: float, degrees: Sequence[int], errors: dict) -> str:
    """Save ReLU and its approximations (left) and sup error against degree (right); return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from landscape_core.figures import save_figure
    from theory.network.activations import RELU_METHODS, relu, relu_series

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    z = np.linspace(-radius, radius, 801)
    ax1.plot(z, relu(z), "k", lw=2, label="ReLU")
    d = sorted(degrees)[1] if len(degrees) > 1 else degrees[0]  # a low degree, where schemes differ
    for m in RELU_METHODS:
        # the series, not the monomial form: the latter loses every digit beyond ℓ ≈ 40
        ax1.plot(z, relu_series(d, m, radius)(z), label=f"{m}, ℓ={d}")
        ax2.loglog(degrees, errors[m], "o-", label=m)
    ax1.set_xlabel("z")
    ax1.legend()
    ax1.set_title("approximations")
    ax2.set_xticks(list(degrees))
    ax2.set_xticklabels([str(v) for v in degrees])
    ax2.minorticks_off()
    ax2.set_xlabel("degree ℓ")
    ax2.set_ylabel("sup-norm error on [-R, R]")
    ax2.legend()
    ax2.set_title("error against degree")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
