"""Figures for the connectivity results; they read result dicts (`to_dict()` output) and never compute.

  * `plot_path_profile`: loss along the deep-linear connecting path vs the straight segment.
  * `plot_valley_sweep`: fraction of starts reaching the global minimum against the width.
  * `plot_dss_curves`: DSS normalised geodesic length and bead count against L_0 (draft §4.1).
  * `plot_relu_strings`: barriers of the string-method paths of the ReLU counterexample.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from landscape_core.figures import save_figure  # noqa: E402


def _save(fig, path: str | Path) -> Path:
    fig.tight_layout()
    return save_figure(fig, path, dpi=130, make_parents=True)


def plot_path_profile(cert: dict, path: str | Path) -> Path:
    """Save F(γ(t)) and F((1−t)θ_A + tθ_B) against t with the bound max(F_A, F_B); return the file."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(cert["ts"], cert["straight_losses"], color="tab:red", lw=1.2, label="straight segment")
    ax.plot(cert["ts"], cert["losses"], color="tab:blue", lw=1.8, label="constructed path")
    ax.axhline(cert["bound"], color="k", ls="--", lw=1, label="max(F(θ_A), F(θ_B))")
    ax.set_xlabel("t")
    ax.set_ylabel(f"{cert['loss_kind']} risk")
    ax.set_title(f"deep linear {'-'.join(map(str, cert['widths']))}: sublevel path")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_valley_sweep(result: dict, path: str | Path) -> Path:
    """Save the fraction of starts reaching the global minimum against the hidden width p; return the file."""
    out = result["outcomes"]
    th = result["thresholds"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ws = [o["width"] for o in out]
    ax.plot(ws, [o["fraction"] for o in out], "o-", color="tab:blue")
    for o in out:
        if not o["realizable"]:
            ax.plot([o["width"]], [o["fraction"]], "x", color="tab:red", ms=9)
    ax.axvline(th["span_dimension"], color="k", ls="--", lw=1, label=f"q = {th['span_dimension']}")
    ax.axvline(2 * th["span_dimension"], color="gray", ls=":", lw=1, label=f"2q = {2 * th['span_dimension']}")
    ax.set_xlabel("hidden width p")
    ax.set_ylabel("fraction reaching global min")
    ax.set_ylim(-0.05, 1.05)
    cfg = result["config"]
    ax.set_title(f"U ρ(Wx), ρ = {cfg['activation']}, n = {cfg['input_dim']} (x: width < teacher)", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_dss_curves(study: dict, path: str | Path) -> Path:
    """Save normalised geodesic length and bead count against L_0 (per pair and mean); return the file."""
    sums = study["summaries"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, mean_key, label in ((axes[0], "normalized_lengths", "mean_normalized_length", "normalised length"),
                                     (axes[1], "bead_counts", "mean_beads", "number of beads")):
        for s in sums:
            vals = [v for v in s[key] if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))]
            ax.plot([s["threshold"]] * len(vals), vals, "o", color="tab:blue", alpha=0.4, ms=4)
        xs = [s["threshold"] for s in sums]
        ys = [s[mean_key] for s in sums]
        ax.plot(xs, ys, "-", color="tab:blue", lw=1.8, label="mean over connected pairs")
        ax.set_xscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{x:g}" for x in xs])
        ax.minorticks_off()
        ax.invert_xaxis()
        ax.set_xlabel("threshold L0 (MSE)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    hidden = "-".join(map(str, study["config"]["hidden"]))
    fig.suptitle(f"DSS, 1-{hidden}-1 ReLU MLP, polynomial regression (seed {study['seed']})", fontsize=10)
    return _save(fig, path)


def plot_relu_strings(contrast: dict, path: str | Path) -> Path:
    """Save F along each string-method path of the ReLU counterexample with the proved floor; return the file."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for s in contrast["strings"]:
        prof = s["profile"]
        ax.plot([i / (len(prof) - 1) for i in range(len(prof))], prof, lw=1, label=f"string, seed {s['seed']}")
    ax.axhline(contrast["example"]["floor"], color="k", ls="--", lw=1, label="proved floor ½")
    ax.axhline(contrast["example"]["level"], color="tab:red", ls=":", lw=1, label="level λ")
    ax.set_xlabel("t (string parameter)")
    ax.set_ylabel("F")
    ax.set_title("ReLU 1-2-1: every path between the minima crosses ½", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)
