"""Figures of the Theory IIb, Theory II §5 and Freeman–Bruna experiments, drawn from saved stage results.

Every function takes the JSON-able stage results an experiment saved (so a finished run can be
re-plotted), writes one PNG and returns its path; none computes anything the results do not hold.

  * `plot_radius_table`: Table 1 as bars (mean ± std over minima) with each minimum as a dot.
  * `plot_simplex`: training error on the simplex of three minima, natural vs random labels (Figs 7–8).
  * `plot_gradient_histograms`: components of minibatch gradients over minibatches, with a Gaussian fit (Fig. 1).
  * `plot_curves`: training and test error against epoch for several runs overlaid (Fig. 2, §1.2).
  * `plot_dss`: normalised geodesic length and bead count against the loss level L_0 (Freeman–Bruna).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.patches  # noqa: F401  (figure legends)
import matplotlib.ticker  # noqa: F401  (integer bead ticks, plain L₀ labels, sparse histogram ticks)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.tri as mtri  # noqa: E402
import numpy as np  # noqa: E402

from landscape_core.figures import save_figure  # noqa: E402

_LABEL_COLOURS = {"natural": "tab:blue", "random": "tab:red"}


def _save(fig, path: str | Path) -> Path:
    return save_figure(fig, path, dpi=130, make_parents=True, bbox_inches="tight", pad_inches=0.15)


# ----------------------------------------------------------------------------------------------
# Table 1 and Figs 7–8


def plot_radius_table(radii: dict, path: str | Path) -> Path:
    """Save Table 1 as grouped bars: per subset (all / top), natural vs random; return the file.

    `radii[labels]['radii'][subset]` is a list (minima, one per replicate) of lists (directions) of radii.
    """
    fig, ax = plt.subplots(figsize=(6.2, 3.8))
    width = 0.36
    for j, subset in enumerate(("all", "top")):
        for i, labels in enumerate(("natural", "random")):
            per_min = [float(np.mean(r)) for r in radii[labels]["radii"][subset]]
            x = j + (i - 0.5) * width
            sd = float(np.std(per_min, ddof=1)) if len(per_min) > 1 else 0.0
            ax.bar(x, np.mean(per_min), width * 0.9, yerr=sd, capsize=4, color=_LABEL_COLOURS[labels], alpha=0.55,
                   label=f"{labels} labels" if j == 0 else None)
            ax.plot(np.full(len(per_min), x), per_min, "k.", ms=6, label="one replicate's minimum (mean over directions)"
                    if (i, j) == (0, 0) else None)
    ax.set_xticks([0, 1], ["all parameters", "top layer"])
    ax.set_ylabel("flatness radius r (relative to layer norms; ε = 0.05 on the training loss)", fontsize=8)
    ax.set_title("Theory IIb Table 1: flatness radius at SGD minima", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_simplex(sims: dict, path: str | Path) -> Path:
    """Save training error on the simplex Δ_3 (filled contours), one panel per label condition; return the file."""
    labels = [lab for lab in ("natural", "random") if lab in sims]
    fig, axes = plt.subplots(1, len(labels), figsize=(5.0 * len(labels) + 0.8, 4.0), squeeze=False)
    levels = np.linspace(0.0, 1.0, 21)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    im = None
    for ax, lab in zip(axes[0], labels):
        sim = sims[lab]
        xy, err = np.asarray(sim["xy"]), np.asarray(sim["error"])
        tri = mtri.Triangulation(xy[:, 0], xy[:, 1])
        im = ax.tricontourf(tri, err, levels=levels, cmap="viridis_r")
        # Red, not white: the low-error end of the colour map is pale yellow.
        ax.tricontour(tri, err, levels=[min(err.max(), np.max(sim["train_error"]) + 0.05)], colors="tab:red",
                      linewidths=1.4, linestyles="--")
        ax.plot(*np.vstack([corners, corners[:1]]).T, "k-", lw=0.8)
        offsets = [(-0.06, -0.07), (0.06, -0.07), (0.0, 0.06)]
        for k, (c, off) in enumerate(zip(corners, offsets)):
            ax.annotate(f"w{'₁₂₃'[k]}\nerror {sim['train_error'][k]:.3f}", c + np.array(off), ha="center",
                        va="center", fontsize=8)
        ax.set_xlim(-0.22, 1.22)
        ax.set_ylim(-0.2, np.sqrt(3) / 2 + 0.16)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{lab} labels", fontsize=10)
    cbar = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.85)
    cbar.set_label("training error (red dashes: worst corner + 0.05)")
    fig.suptitle("Training error on w_λ = λ₁w₁ + λ₂w₂ + λ₃w₃ (Theory IIb Figs 7–8)", fontsize=10, y=0.97)
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------
# Fig. 1 and curves


def plot_gradient_histograms(noise: dict, path: str | Path) -> Path:
    """Save histograms of chosen components of ∇V(w, z_i) over minibatches i, with the Gaussian of equal
    mean and variance and the mean marked; one row per batch size; return the file."""
    rows = noise["batches"]
    ncol = len(rows[0]["components"])
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.4 * ncol + 0.4, 2.1 * len(rows) + 0.6), squeeze=False)
    for i, row in enumerate(rows):
        for j, comp in enumerate(row["components"]):
            ax = axes[i, j]
            g = np.asarray(comp["samples"])
            ax.hist(g, bins=30, density=True, color="tab:blue", alpha=0.5)
            mu, sd = float(g.mean()), float(g.std())
            x = np.linspace(g.min(), g.max(), 200)
            if sd > 0:
                ax.plot(x, np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), "k-", lw=1.1,
                        label="Gaussian, same mean/var")
            ax.axvline(mu, color="tab:red", lw=1.0, label="mean (≈ full gradient)")
            sk, ku = (float(comp[k]) if isinstance(comp[k], (int, float)) else float("nan") for k in ("skew", "kurtosis"))
            ax.set_title(f"{comp['name']}\nB = {row['batch']}: skew {sk:.2f}, kurt {ku:.2f}", fontsize=7)
            ax.tick_params(labelsize=6)
            # Few ticks, with a common ×10^k offset, so small components' labels do not run together.
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
            ax.xaxis.get_offset_text().set_fontsize(6)
            ax.yaxis.get_offset_text().set_fontsize(6)
            if j == 0:
                ax.set_ylabel("density", fontsize=8)
            if i == len(rows) - 1:
                ax.set_xlabel("gradient component", fontsize=8)
    # One legend for the figure (inside a panel it covers a histogram).
    handles = [matplotlib.patches.Patch(color="tab:blue", alpha=0.5, label="histogram over minibatches"),
               plt.Line2D([], [], color="k", lw=1.1, label="Gaussian of the same mean and variance"),
               plt.Line2D([], [], color="tab:red", lw=1.0, label="mean (≈ the full gradient, eq. 7)")]
    fig.suptitle("Components of ∇V(w, z_i) over minibatches i at fixed w (Theory IIb Fig. 1)", fontsize=10)
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    return _save(fig, path)


def plot_curves(curves: dict, path: str | Path, title: str) -> Path:
    """Save training (solid) and test (dashed) error against epoch, one colour per run; return the file.

    `curves[name]` = {'epochs': [...], 'train_error': [[per trajectory] per epoch], 'test_error': [...]}.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, (name, cur) in zip(colours, curves.items()):
        ep = np.asarray(cur["epochs"])
        for key, style in (("train_error", "-"), ("test_error", "--")):
            v = np.asarray(cur[key], dtype=float)
            mean = v.mean(axis=1)
            ax.plot(ep, mean, style, color=c, lw=1.5, label=f"{name}, {'training' if key == 'train_error' else 'test'}")
            if v.shape[1] > 1:
                ax.fill_between(ep, v.min(axis=1), v.max(axis=1), color=c, alpha=0.12, lw=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (band: min–max over trajectories)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------
# Freeman–Bruna DSS


def plot_dss(levels: list[dict], path: str | Path) -> Path:
    """Save normalised geodesic length and bead count against L_0 (left), and the loss along each string
    against cumulative distance (right); return the file. `levels` holds DSSResult dicts without beads."""
    fig, (ax, ax3) = plt.subplots(1, 2, figsize=(11, 4.0))
    l0 = np.array([lv["config"]["threshold"] for lv in levels])
    length = np.array([lv["normalized_length"] for lv in levels])
    beads = np.array([lv["n_beads"] for lv in levels])
    ok = np.array([lv["connected"] for lv in levels])
    ax.plot(l0, length, "-", color="tab:blue", lw=1.2)
    ax.plot(l0[ok], length[ok], "o", color="tab:blue", label="normalised length (connected)")
    if (~ok).any():
        ax.plot(l0[~ok], length[~ok], "x", color="tab:blue", ms=10, mew=2, zorder=5,
                label="normalised length (not connected: bead cap reached)")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xticks(l0, [f"{v:.3g}" for v in l0])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("loss level L₀ (decreasing →)")
    ax.set_ylabel("normalised geodesic length Σ|θᵢ₊₁ − θᵢ| / |θ_B − θ₁|", color="tab:blue", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(l0, beads, "s--", color="tab:orange", ms=4, alpha=0.7, label="beads")
    ax2.set_ylabel("number of beads", color="tab:orange")
    ax2.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    h1, lab1 = ax.get_legend_handles_labels()
    h2, lab2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, lab1 + lab2, fontsize=8, loc="center left")
    ax.set_title("Dynamic String Sampling on the CNN", fontsize=10)
    cmap = plt.get_cmap("viridis")
    for i, lv in enumerate(levels):
        seg = np.asarray(lv.get("segment_lengths") or [])
        pos = np.concatenate([[0.0], np.cumsum(seg)]) if seg.size else np.arange(lv["n_beads"])
        c = cmap(0.85 * i / max(len(levels) - 1, 1))  # stop before viridis' yellow, unreadable on white
        ax3.plot(pos, lv["bead_losses"], "o-", color=c, ms=4, label=f"L₀ = {lv['config']['threshold']:.3g}: beads")
        peaks = lv.get("segment_max_losses") or []
        if seg.size and len(peaks) == seg.size:
            ax3.plot((pos[1:] + pos[:-1]) / 2, peaks, "x", color=c, ms=6)
        ax3.axhline(lv["config"]["threshold"], color=c, lw=0.9, ls=":")
    ax3.plot([], [], "kx", label="highest loss on each segment (at its middle)")
    ax3.set_xlabel("distance along the string")
    ax3.set_ylabel("training loss at each bead (dotted: L₀)")
    ax3.set_yscale("log")
    # Below the panel: inside it covers the strings.
    ax3.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    ax3.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------
# Figs 3–5 over replicates


def plot_langevin_masses(masses: dict, path: str | Path, key: str) -> Path:
    """Save the flat (degenerate) well's mass against d, mean ± 95 % CI over replicates; return the file.

    `masses[key]` and `masses['control']` are lists of {dim, mean, ci_half, replicates, boltzmann}:
    the simulated points with error bars from replicates, each replicate as a dot, the Boltzmann
    mass as a line (the paper's curve), and the symmetric control (equal wells: ½).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for rows, colour, name, shift in ((masses[key], "tab:blue", "GDL simulated", -0.06),
                                      (masses["control"], "0.45", "control: equal wells", 0.06)):
        d = np.array([r["dim"] for r in rows], float)
        ax.errorbar(d + shift, [r["mean"] for r in rows], yerr=[r["ci_half"] for r in rows], fmt="o", color=colour,
                    ms=5, capsize=3, label=f"{name} (mean ± 95 % CI over replicates)")
        for r in rows:
            ax.plot(np.full(len(r["replicates"]), r["dim"] + shift), r["replicates"], ".", color=colour, ms=3,
                    alpha=0.6)
        ax.plot(d, [r["boltzmann"] for r in rows], "-", color=colour, lw=1,
                label="Boltzmann mass (quadrature)" if colour != "0.45" else "Boltzmann mass, equal wells")
    ax.set_xticks([r["dim"] for r in masses[key]])
    ax.set_xlabel("dimension d")
    point = key == "fig4-5"
    ax.set_ylabel("mass in the degenerate (ball) well" if point else "mass in the flatter well")
    ax.set_title("Theory IIb " + ("Figs 4–5: degenerate vs non-degenerate minimum" if point
                                  else "Fig. 3: flatter minimum vs dimension"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    return _save(fig, path)


def plot_noise_ratio(replicates: list[dict], path: str | Path, margin: float) -> Path:
    """Save ‖full gradient‖ / minibatch noise against B, trained vs initial weights, one line per replicate.

    Each replicate holds `trained` and `init` statistics with `by_batch[i]['mean_over_noise']`; the
    B-free ratio against the B = 1 spread is the value at B = 1, and the rule's margin is drawn there.
    """
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for tag, colour in (("trained", "tab:blue"), ("init", "0.5")):
        for i, r in enumerate(replicates):
            rows = r[tag]["by_batch"]
            ax.plot([x["batch"] for x in rows], [x["mean_over_noise"] for x in rows], "o-", color=colour, ms=3, lw=1,
                    alpha=0.8, label=("trained weights" if tag == "trained" else "initialisation (control)")
                    if i == 0 else None)
    ax.axhline(margin, color="tab:red", lw=1, ls="--", label=f"rule: ratio at B = 1 below {margin:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("minibatch size B")
    ax.set_ylabel("‖full gradient‖ / √(tr Σ₁ / B)")
    ax.set_title("Theory IIb Fig. 1 caption: the mean of the minibatch gradients beside their spread", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_degeneracy(res: dict, path: str | Path, margin: float) -> Path:
    """Save |dᵀHd| along null(J) and row(J) directions per activation and replicate (log scale); return the file.

    `res[label]` is a list (replicates) of measurements with `curvature[{'null space of J', 'row space of J'}]`.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    x = 0
    ticks, names = [], []
    for label, ms in res.items():
        for i, m in enumerate(ms):
            for j, (space, colour) in enumerate((("null space of J", "tab:blue"), ("row space of J", "tab:red"))):
                c = np.abs(np.asarray(m["curvature"][space], float)) + 1e-300
                ax.plot(np.full(len(c), x + 0.3 * j), c, "o", color=colour, ms=4, alpha=0.75,
                        label=(f"along {space}") if (x == 0) else None)
                ax.plot([x + 0.3 * j - 0.12, x + 0.3 * j + 0.12], [np.median(c)] * 2, "-", color="k", lw=1.5)
            ticks.append(x + 0.15)
            names.append(f"{label}\nnet {i + 1}")
            x += 1
    ax.set_yscale("log")
    ax.set_xticks(ticks, names, fontsize=7)
    ax.set_ylabel("|dᵀ H d| (unit directions; bar: median)")
    ax.set_title(f"Theory II Prop. 1: curvature along the zero-error set (null J) vs across it (row J); "
                 f"rule: ratio < 10^{margin:g}", fontsize=8)
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return _save(fig, path)
