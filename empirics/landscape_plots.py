"""Figures for the Langevin (Theory IIb Figs 3–6) and toy-landscape (Theory II §5) results.

Every function reads a result's `to_dict()` output (so saved JSON works as well), writes one PNG and
returns its path; none computes anything the result does not hold.

  * `plot_langevin_histograms`: histogram of x_1 against the exact Boltzmann marginal, one panel per
    (dynamics, d) (Theory IIb Figs 3, 5, 6).
  * `plot_flat_fraction`: flat-basin mass against d, simulated (± 2 SE) beside Boltzmann quadrature.
  * `plot_toy_slices`: each toy model on the plane through its three minima (equal axes).
  * `plot_toy_perturbation`: loss after x* + σ ε and after re-training, against σ (Theory II Fig. 1D).
  * `plot_toy_interpolation`: loss along A → B (same basin) and A → C (other basin) (Fig. 1E).
  * `plot_toy_trajectories`: noisy-descent paths in their principal plane and loss against step (Fig. 1F).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from landscape_core.figures import save_figure  # noqa: E402
import numpy as np  # noqa: E402

_DYN_COLOURS = {"gdl": "tab:blue", "sgd": "tab:orange", "sgdl": "tab:green"}
_DYN_NAMES = {"gdl": "GDL (Langevin)", "sgd": "SGD", "sgdl": "SGDL"}
_MODEL_COLOURS = {"basin": "tab:blue", "basin-fractal": "tab:red"}


def _save(fig, path: str | Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    fig.tight_layout(rect=rect)
    return save_figure(fig, path, dpi=130, make_parents=True, bbox_inches="tight", pad_inches=0.1)


# ----------------------------------------------------------------------------------------------
# Theory IIb Figs 3–6


def plot_langevin_histograms(result: dict, path: str | Path, dynamics: tuple[str, ...] | None = None,
                             dims: tuple[int, ...] | None = None) -> Path:
    """Save histograms of x_1 against the Boltzmann marginal, rows = dynamics, columns = d; return the file."""
    runs = result["runs"]
    dynamics = dynamics or tuple(dict.fromkeys(r["dynamics"] for r in runs))
    dims = dims or tuple(sorted({r["dim"] for r in runs}))
    cfg = result["config"]
    fig, axes = plt.subplots(len(dynamics), len(dims), figsize=(2.9 * len(dims) + 0.4, 2.5 * len(dynamics) + 0.4),
                             squeeze=False, sharex=True)
    for i, dyn in enumerate(dynamics):
        for j, d in enumerate(dims):
            ax = axes[i, j]
            run = next((r for r in runs if r["dynamics"] == dyn and r["dim"] == d), None)
            if run is None:
                ax.set_axis_off()
                continue
            edges = np.asarray(run["bin_edges"])
            ax.stairs(run["histogram"], edges, fill=True, color=_DYN_COLOURS[dyn], alpha=0.45,
                      label=_DYN_NAMES[dyn])
            centres = (edges[1:] + edges[:-1]) / 2
            ax.plot(centres, run["boltzmann_bin_density"], "k-", lw=1.3, label="Boltzmann exp(−U/T)")
            ax.axvspan(cfg["sharp_centre"] - cfg["sharp_radius"], cfg["sharp_centre"] + cfg["sharp_radius"],
                       color="tab:red", alpha=0.08, lw=0)
            ax.axvspan(cfg["flat_centre"] - cfg["flat_radius"], cfg["flat_centre"] + cfg["flat_radius"],
                       color="tab:green", alpha=0.08, lw=0)
            ax.set_title(f"{_DYN_NAMES[dyn]}, d = {d}, T = {run['temperature']:.3g}\n"
                         f"flat mass {run['flat_fraction']:.3f} ± {run['flat_fraction_se']:.3f} "
                         f"(Boltzmann {run['boltzmann_flat_fraction']:.3f})", fontsize=8)
            if i == len(dynamics) - 1:
                ax.set_xlabel("first coordinate x₁")
            if j == 0:
                ax.set_ylabel("density of x₁")
    # One legend for the figure, below the panels: inside a panel it covers the tallest histogram.
    from matplotlib.patches import Patch

    handles = [Patch(color=_DYN_COLOURS[dyn], alpha=0.45, label=f"{_DYN_NAMES[dyn]} (simulated)") for dyn in dynamics]
    handles += [plt.Line2D([], [], color="k", lw=1.3, label="Boltzmann exp(−U/T), exact marginal")]
    if cfg["sharp_radius"] > 0:
        handles.append(Patch(color="tab:red", alpha=0.15, label=f"sharp well's flat bottom (radius ρ_s = {cfg['sharp_radius']:g})"))
    handles.append(Patch(color="tab:green", alpha=0.15, label=f"flat well's flat bottom (radius ρ_f = {cfg['flat_radius']:g})"))
    ncol = min(len(handles), 3 if len(dims) > 1 else 1)
    rows = -(-len(handles) // ncol)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    sharp = ("sharp well with a flat bottom of radius ρ_s (red)" if cfg["sharp_radius"] > 0
             else "non-degenerate (point) minimum")
    title = f"x₁ marginal: {sharp} vs degenerate well with a flat ball of radius ρ_f (green)"
    if len(dims) < 3:
        title = title.replace(" vs ", "\nvs ")
    fig.suptitle(title, fontsize=9)
    bottom = (0.14 * rows + 0.1) / fig.get_figheight()  # the legend's height in inches, as a fraction
    return _save(fig, path, rect=(0, bottom, 1, 1))


def plot_flat_fraction(result: dict, path: str | Path) -> Path:
    """Save the flat-basin mass against d: each dynamics ± 2 SE, its Boltzmann value, and 2^d/(1+2^d); return the file."""
    runs = result["runs"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for dyn in dict.fromkeys(r["dynamics"] for r in runs):
        rs = sorted((r for r in runs if r["dynamics"] == dyn), key=lambda r: r["dim"])
        d = np.array([r["dim"] for r in rs], float)
        shift = {"gdl": -0.08, "sgd": 0.0, "sgdl": 0.08}[dyn]
        ax.errorbar(d + shift, [r["flat_fraction"] for r in rs], yerr=[2 * r["flat_fraction_se"] for r in rs],
                    fmt="o", color=_DYN_COLOURS[dyn], ms=5, capsize=3, label=f"{_DYN_NAMES[dyn]} simulated (± 2 SE)")
        ax.plot(d, [r["boltzmann_flat_fraction"] for r in rs], "-", color=_DYN_COLOURS[dyn], lw=1,
                label=f"Boltzmann at T = {rs[0]['temperature']:.3g}")
    dims = sorted({r["dim"] for r in runs})
    limit = [next(r["volume_ratio_fraction"] for r in runs if r["dim"] == d) for d in dims]
    point = result["config"]["sharp_radius"] == 0
    ax.plot(dims, limit, "k--", lw=1, label="T → 0: all mass in the degenerate well" if point
            else "T → 0: volume ratio ρ_f^d / (ρ_s^d + ρ_f^d)")
    ax.set_xticks(dims)
    ax.set_xlabel("dimension d")
    ax.set_ylabel("mass in the degenerate (ball) well" if point else "mass in the flat basin")
    held = {True: "held", False: "not held", None: "inconclusive"}[result["held"]]
    what = ("Figs 4–5: degenerate vs non-degenerate minimum" if point
            else "Fig. 3: concentration in the flatter minimum")
    ax.set_title(f"Theory IIb {what} vs d (rise with d: {held})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------
# Theory II §5


def plot_toy_slices(result: dict, path: str | Path) -> Path:
    """Save each model's loss on the plane through its minima A, B, C (equal axis scales); return the file."""
    models = result["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(5.4 * len(models), 4.6), squeeze=False)
    for ax, m in zip(axes[0], models):
        sl = m["slice"]
        u, v, loss = np.asarray(sl["u"]), np.asarray(sl["v"]), np.asarray(sl["loss"])
        # log1p keeps the thin low walls visible beside the inter-basin ridge.
        im = ax.pcolormesh(u, v, np.log10(1e-3 + loss), cmap="viridis", shading="auto")
        fig.colorbar(im, ax=ax, label="log₁₀(10⁻³ + loss)")
        pts = np.asarray(sl["points"])
        for (x, y), name in zip(pts, "ABC"):
            ax.plot(x, y, "o", color="w", mec="k", ms=7)
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 6), color="w", fontsize=11, weight="bold")
        ax.plot(pts[:2, 0], pts[:2, 1], "w--", lw=1)
        ax.plot(pts[[0, 2], 0], pts[[0, 2], 1], "w:", lw=1)
        ax.set_aspect("equal")
        ax.set_xlabel("distance along A → B")
        ax.set_ylabel("distance along C ⊥ (A → B)")
        ax.set_title(f"'{m['kind']}' (d = {result['config']['dim']}): plane through A, B, C", fontsize=10)
    return _save(fig, path)


def plot_toy_perturbation(result: dict, path: str | Path) -> Path:
    """Save the loss after perturbation (mean, 10–90 % band) and after re-training against σ; return the file."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    floor = 1e-6
    for m in result["models"]:
        p, c = m["perturbation"], _MODEL_COLOURS[m["kind"]]
        s = np.asarray(result["config"]["sigmas"])
        axes[0].plot(s, np.maximum(p["mean_loss"], floor), "o-", color=c, label=f"{m['kind']}: after perturbation")
        axes[0].fill_between(s, np.maximum(p["q10_loss"], floor), np.maximum(p["q90_loss"], floor), color=c, alpha=0.15)
        axes[0].plot(s, np.maximum(p["retrained_loss"], floor), "s--", color=c, label=f"{m['kind']}: after re-training")
        # The two models often coincide here: the first is drawn wide and pale so the second stays visible.
        wide = dict(lw=4, alpha=0.45, ms=9) if m is result["models"][0] else dict(lw=1.5, ms=5)
        axes[1].plot(s, p["same_basin"], "o-", color=c, label=f"{m['kind']}: back in the same basin", **wide)
        axes[1].plot(s, p["fraction_lower"], "x:", color=c, label=f"{m['kind']}: loss went down", **wide)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_ylabel(f"loss (floored at {floor:g})")
    axes[0].set_title("loss at x* + σε (band: 10–90 %) and after gradient descent", fontsize=10)
    axes[1].set_xscale("log")
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].set_ylabel("fraction of perturbations")
    axes[1].set_title("re-training returns to the basin of x*?", fontsize=10)
    for ax in axes:
        ax.set_xlabel("σ per coordinate (units of ρ/√d)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_toy_interpolation(result: dict, path: str | Path) -> Path:
    """Save L((1 − t) a + t b) for A → B (same basin) and A → C (other basin), both models; return the file."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in ((axes[0], "within", "A → B, same basin"), (axes[1], "across", "A → C, different basins")):
        for m in result["models"]:
            it = m[key]
            ax.plot(it["t"], it["loss"], color=_MODEL_COLOURS[m["kind"]], lw=1.2,
                    label=f"{m['kind']}: barrier {it['barrier']:.3g}, {len(it['wall_heights'])} walls")
        ax.set_xlabel("t  (0 = A, 1 = B or C)")
        ax.set_ylabel("loss")
        ax.set_xlim(0, 1)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_toy_trajectories(result: dict, path: str | Path) -> Path:
    """Save each model's noisy-descent paths in their principal plane (equal axes) and loss against step; return the file."""
    models = result["models"]
    fig, axes = plt.subplots(2, len(models), figsize=(5.6 * len(models), 8.4), squeeze=False)
    for col, m in enumerate(models):
        tr = m["trajectories"]
        proj, loss = np.asarray(tr["projection"]), np.asarray(tr["loss"])
        colours = plt.cm.tab10(np.arange(len(proj)) % 10)
        ax = axes[0, col]
        for k, path_k in enumerate(proj):
            ax.plot(path_k[:, 0], path_k[:, 1], "-", color=colours[k], lw=0.9)
            ax.plot(path_k[-1, 0], path_k[-1, 1], "o", color=colours[k], ms=4)
        ax.plot(proj[0, 0, 0], proj[0, 0, 1], "k*", ms=10, label="start")
        cen = np.asarray(tr["centres_2d"])
        ax.plot(cen[:, 0], cen[:, 1], "kx", ms=8, label="basin centres")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("principal component 1")
        ax.set_ylabel("principal component 2")
        ax.set_title(f"'{m['kind']}': {len(proj)} noisy-GD paths from nearby starts\n"
                     f"ends in basins {sorted(set(tr['final_basin']))}, end barrier {tr['end_barrier']:.2g}",
                     fontsize=9)
        ax.legend(fontsize=7)
        ax = axes[1, col]
        for k, row in enumerate(loss):
            ax.plot(tr["steps"], np.maximum(row, 1e-6), color=colours[k], lw=0.9)
        ax.set_yscale("log")
        ax.set_xlabel("gradient step")
        ax.set_ylabel("loss (floored at 1e-6)")
        ax.grid(alpha=0.3)
    return _save(fig, path)
