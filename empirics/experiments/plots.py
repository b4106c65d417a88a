"""Figures of the Theory II CNN experiments, in the paper's layout, drawn from saved stage results.

- `plot_mds`: one MDS embedding (Figs 3, 5, 7, 8, 9, 11, 14–16, 36–38): every model written as its
  label (training error in %, or epoch; a label that would overprint another becomes a ring),
  coloured by its group (stage, branch or run) with a legend, each curve joined in order; equal
  axis scales, so distances read as the embedding's.
- `plot_mds_panels`: the same embedding split into panels (Figs 4, 6, 10, 12, 17): each panel shows
  its points in colour over the others in light grey.
- `plot_training_curves`: training/test error and loss per run (Figs 13, 19, 26, 35).
- `plot_interpolation_rows`: error and loss along (1 − t) w_1 + t w_2 before and after retraining
  (Figs 25, 32), grids that include t = 0 and t = 1.
- `plot_agreement`: the two conditional agreement matrices (Figs 18, 24, 31).
Nothing here computes; every function takes JSON-able dicts and a path and returns the path.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from empirics.plots import _plt, _save


def _palette(n: int):
    plt = _plt()
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _ordered(values: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _draw(ax, X: np.ndarray, labels: Sequence[str], groups: Sequence[str], curves: Sequence[str], colors: dict,
          fontsize: float = 7.0, grey: Sequence[bool] | None = None, focus: np.ndarray | None = None) -> None:
    """Write each point's label at its position, coloured by group; join each curve's points in order.

    A label closer than 2.5 % of the frame to a label already written is replaced by a ring (each
    curve's last and first labels are written first), so piles of nearly equal models stay legible.
    """
    grey = grey if grey is not None else [False] * len(X)
    ref = X if focus is None else focus
    min_sep = 0.025 * max(np.ptp(ref[:, 0]), np.ptp(ref[:, 1]), 1e-12)
    for c in _ordered(curves):
        idx = [i for i, ci in enumerate(curves) if ci == c]
        col = (0.85, 0.85, 0.85) if grey[idx[0]] else colors[groups[idx[0]]]
        ax.plot(X[idx, 0], X[idx, 1], "-", color=col, lw=0.8, alpha=0.5 if not grey[idx[0]] else 0.6, zorder=1)
    order = []
    for wanted_grey in (False, True):  # coloured labels claim their places first
        for c in _ordered(curves):
            idx = [i for i, ci in enumerate(curves) if ci == c and grey[i] == wanted_grey]
            if idx:
                order += [idx[-1]] + ([idx[0]] if len(idx) > 1 else []) + idx[1:-1]
    written: list[np.ndarray] = []
    for i in order:
        if written and np.min(np.linalg.norm(np.asarray(written) - X[i], axis=1)) < min_sep:
            # a ring, not a label (a filled dot beside a label would read as a decimal point)
            ax.plot(X[i, 0], X[i, 1], "o", mfc="none", mew=0.6, ms=4, alpha=0.6, zorder=1,
                    color=(0.75, 0.75, 0.75) if grey[i] else colors[groups[i]])
            continue
        written.append(X[i])
        col = (0.7, 0.7, 0.7) if grey[i] else colors[groups[i]]
        ax.text(X[i, 0], X[i, 1], str(labels[i]), color=col, fontsize=fontsize, ha="center", va="center",
                zorder=2 if grey[i] else 3, clip_on=True)


def _frame(ax, X: np.ndarray) -> None:
    """Square limits around X (equal scales on both axes), few ticks in scientific notation."""
    from matplotlib.ticker import MaxNLocator

    span = max(np.ptp(X[:, 0]), np.ptp(X[:, 1]), 1e-12)
    cx, cy = (X[:, 0].max() + X[:, 0].min()) / 2, (X[:, 1].max() + X[:, 1].min()) / 2
    half = 0.55 * span
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal", adjustable="box")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(4))
    ax.ticklabel_format(style="sci", scilimits=(-2, 3))
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")


def _legend(ax, groups: Sequence[str], colors: dict, title: str | None) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[g], lw=2.5, label=g) for g in _ordered(groups)]
    ax.legend(handles=handles, title=title, fontsize=7, title_fontsize=8, loc="center left",
              bbox_to_anchor=(1.01, 0.5), frameon=False)


def plot_mds(res: dict, path: str | Path, title: str, curves: Sequence[str] | None = None,
             legend_title: str | None = None, fontsize: float = 7.0) -> Path:
    """Draw one embedding: labels coloured by `res['group']`, curves joined, equal axes, legend at the side."""
    plt = _plt()
    X = np.asarray(res["coords"], dtype=float)
    groups = list(res["group"])
    curves = list(curves) if curves is not None else groups
    colors = dict(zip(_ordered(groups), _palette(len(set(groups)))))
    fig, ax = plt.subplots(figsize=(7.6, 6.0))
    _draw(ax, X, res["labels"], groups, curves, colors, fontsize)
    _frame(ax, X)
    _legend(ax, groups, colors, legend_title)
    ax.set_title(f"{title}\n(1 − cos, classical MDS; stress-1 {res['stress']:.2f}, "
                 f"{res['n_weights']:,} weights)", fontsize=9)
    return _save(fig, path)


def plot_mds_panels(res: dict, path: str | Path, panels: Sequence[tuple[str, Sequence[bool]]],
                    color_key: Sequence[str], curves: Sequence[str], suptitle: str, legend_title: str | None = None,
                    fontsize: float = 7.0) -> Path:
    """Draw the embedding once per panel: the panel's points coloured by `color_key` and framed, the rest grey."""
    plt = _plt()
    X = np.asarray(res["coords"], dtype=float)
    n = len(panels)
    cols = min(n, 2) if n == 4 else min(n, 3)
    rows = int(np.ceil(n / cols))
    keys = _ordered(color_key)
    colors = dict(zip(keys, _palette(len(keys))))
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols + 1.2, 4.9 * rows), squeeze=False)
    for ax, (ptitle, mask) in zip(axes.flat, panels):
        mask = list(mask)
        grey = [not m for m in mask]
        focus = X[np.asarray(mask)] if sum(mask) > 1 else X  # zoom on the panel's own points
        _draw(ax, X, res["labels"], color_key, curves, colors, fontsize, grey, focus)
        _frame(ax, focus)
        ax.set_title(ptitle, fontsize=9)
        shown = [k for k, m in zip(color_key, mask) if m]
        _legend(ax, shown, colors, legend_title)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(suptitle, fontsize=10)
    return _save(fig, path)


def plot_training_curves(curves: dict, path: str | Path, title: str) -> Path:
    """Draw training/test error and loss against epoch, one line per run ({run: {epoch, train_error, ...}})."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    colors = _palette(len(curves))
    for (name, c), col in zip(curves.items(), colors):
        for ax, key in zip(axes.flat, ("train_error", "test_error", "train_loss", "test_loss")):
            ax.plot(c["epoch"], np.asarray(c[key], float) * (100 if "error" in key else 1), "-", color=col,
                    lw=1.2, label=name)
    for ax, key in zip(axes.flat, ("training error (%)", "test error (%)", "training loss (cross-entropy)",
                                   "test loss (cross-entropy)")):
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch after the perturbation")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_interpolation_rows(rows: dict, path: str | Path, title: str) -> Path:
    """Draw error and loss along t ∈ [0, 1] for each row ({'before retraining': {t, train_error, ...}, ...})."""
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 3.4 * len(rows)), squeeze=False)
    for r, (name, c) in enumerate(rows.items()):
        t = np.asarray(c["t"], float)
        for ax, kind in zip(axes[r], ("error", "loss")):
            scale = 100 if kind == "error" else 1
            ax.plot(t, np.asarray(c[f"train_{kind}"], float) * scale, "o-", ms=3, label="training")
            ax.plot(t, np.asarray(c[f"test_{kind}"], float) * scale, "s-", ms=3, label="test")
            ax.set_xlim(t.min() - 0.02, t.max() + 0.02)
            ax.set_xlabel("t  (0: perturbed model 1, 1: perturbed model 2)")
            ax.set_ylabel(f"{kind}{' (%)' if kind == 'error' else ' (cross-entropy)'}")
            ax.set_title(f"{name}: {kind}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_agreement(result: dict, path: str | Path, title: str) -> Path:
    """Draw P(column correct | row correct) and P(column wrong | row wrong) side by side (Figs 18, 24, 31)."""
    plt = _plt()
    labels = list(result["labels"])
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.2), constrained_layout=True)
    for j, (ax, key, sub) in enumerate(zip(axes, ("correct_given_correct", "wrong_given_wrong"),
                                          ("P(column correct | row correct)", "P(column wrong | row wrong)"))):
        M = np.array([[float(v) if v is not None else np.nan for v in row] for row in result[key]])
        im = ax.imshow(M, vmin=0, vmax=1, cmap="magma")
        for r in range(M.shape[0]):
            for c in range(M.shape[1]):
                v = M[r, c]
                ax.text(c, r, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="w" if (np.isnan(v) or v < 0.6) else "k")
        ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels if j == 0 else [""] * len(labels), fontsize=8)
        ax.set_title(sub, fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(title, fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_branch_distances(m: dict, path: str | Path, epochs: int, key: str = "kept_layer2",
                          ylabel: str = "layer-2 (1 − cos) to main / injected") -> Path:
    """Save, per α, each branch's kept fraction of the injected layer-2 distance against epoch; return the file.

    `m['alphas'][α]['branches']` records hold 'branch_at', optionally 'draw', and `key` (distance to the main
    trajectory at the same epoch over the distance at the branch epoch, one value per epoch after it).
    A line at 1 means GD neither closes nor widens the gap the noise opened (Theory II §4.3).
    """
    plt = _plt()
    alphas = sorted(m["alphas"], key=float)
    fig, axes = plt.subplots(1, len(alphas), figsize=(5.2 * len(alphas), 3.8), squeeze=False, sharey=True)
    starts = sorted({r["branch_at"] for a in alphas for r in m["alphas"][a]["branches"]})
    colors = dict(zip(starts, _palette(len(starts))))
    for ax, a in zip(axes[0], alphas):
        for r in m["alphas"][a]["branches"]:
            b = r["branch_at"]
            ax.plot(range(b, b + len(r[key])), r[key], "-", color=colors[b], lw=1.1, alpha=0.8,
                    label=f"branch at epoch {b}" if r.get("draw", 0) == 0 else None)
        ax.axhline(1.0, color="k", lw=0.8, ls=":", label="distance injected by the noise")
        ax.set_xlim(0, epochs)
        ax.set_xlabel("GD epoch")
        ax.set_title(f"noise α = {float(a):g}·S", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.suptitle("Theory II §4.3: how far GD branches stay from the main trajectory", fontsize=10)
    return _save(fig, path)
