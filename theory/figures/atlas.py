"""The atlas figure: critical-point counts against the number of weights, log scale, proofs marked."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

MARKERS = {"deep linear": "o", "polynomial": "s"}


def atlas_figure(rows: Sequence, path: str | os.PathLike) -> Path:
    """Save counts against K·N (log y) for every computed row and return the path.

    Filled markers: proved complete (exact over QQ); hollow: evidence over ZZ/p; crosses: not
    proved (a lower bound). Circles are deep linear networks, squares polynomial activations;
    published rows are ringed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from landscape_core.figures import save_figure

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"exact over QQ": dict(fillstyle="full"), "evidence over ZZ/p": dict(fillstyle="none")}
    seen = set()
    for r in rows:
        if r.status != "computed" or not r.count:
            continue
        a = r.architecture
        proof = "exact over QQ" if r.proof.startswith("exact over QQ") else r.proof
        colour = "C0" if a.family == "deep linear" else "C1"
        x = r.n_weights * a.points
        label = f"{a.family}, {proof}"
        kw = dict(label=label if label not in seen else None, color=colour, linestyle="none", markersize=6)
        seen.add(label)
        if proof == "not proved":
            ax.plot([x], [r.count], marker="x", **kw)
        else:
            ax.plot([x], [r.count], marker=MARKERS[a.family], **styles[proof], **kw)
        if r.published is not None:
            ax.plot([x], [r.count], marker="o", markersize=13, fillstyle="none", color="k", linestyle="none",
                    label="published" if "published" not in seen else None)
            seen.add("published")
    ax.set_yscale("log")
    ax.set_xlabel("weights K × data points N")
    ax.set_ylabel("isolated complex critical points")
    ax.set_title("critical points of the penalised square loss (generic λ, targets)")
    ax.grid(True, which="both", alpha=0.3)
    if seen:
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)
