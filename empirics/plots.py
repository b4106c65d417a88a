"""Figures of the probes, MDS and the theory comparison, drawn from saved results (dicts from result.json and metrics.json).

Each function takes the `to_dict()` record a computation saved and a path, writes one PNG with
matplotlib's Agg backend (no display needed) and returns the path. Nothing here computes a probe.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _plt().close(fig)
    return path


def _num(values) -> np.ndarray:
    """Return floats, reading JSON's 'nan'/'inf' strings back."""
    return np.array([float(v) if v is not None else np.nan for v in values], dtype=float)


def plot_mds(result: dict, path: str | Path, groups: Sequence[int] | None = None, title: str | None = None) -> Path:
    """Draw an MDS embedding, Theory II Fig. 3 style: a marker per saved model, its label (the training error)
    beside it, each group's points joined in order (a trajectory's path), a legend for the groups.

    `groups` (one integer per point, e.g. the trajectory) colours the points. Labels that would
    overlap an earlier one (points on a nearly straight path) are left out; every point keeps its marker.
    """
    plt = _plt()
    X = np.asarray(result["coords"], dtype=float)
    if X.shape[1] == 1:
        X = np.c_[X, np.zeros(len(X))]
    labels = result.get("labels") or [str(i) for i in range(len(X))]
    numeric = all(isinstance(lab, (int, float)) for lab in labels)
    groups = list(groups) if groups is not None else [0] * len(X)
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(7, 5.5))
    span = np.array([max(np.ptp(X[:, 0]), 1e-12), max(np.ptp(X[:, 1]), 1e-12)])
    placed: list[np.ndarray] = []
    for g in sorted(set(groups)):
        idx = [i for i, gi in enumerate(groups) if gi == g]
        ax.plot(X[idx, 0], X[idx, 1], "o-", color=cmap(g % 10), alpha=0.7, lw=1, ms=4,
                label=f"trajectory {g}" if len(set(groups)) > 1 else "saved models, in epoch order")
        for i in idx:
            where = X[i] / span
            if any(np.max(np.abs(where - q)) < 0.045 for q in placed):
                continue  # a label here would cover another one
            placed.append(where)
            lab = labels[i]
            ax.annotate(f"{lab:.2f}" if isinstance(lab, float) else str(lab), X[i], xytext=(4, 4),
                        textcoords="offset points", color=cmap(g % 10), fontsize=7)
    pad = 0.08 * max(span)
    ax.set_xlim(X[:, 0].min() - pad, X[:, 0].max() + pad)
    ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
    layer = result.get("layer")
    ax.set_title(title or f"classical MDS ({result['metric']}{'' if layer is None else f', layer {layer}'}), "
                          f"stress-1 {result['stress']:.3f}")
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.legend(fontsize=8, loc="best", title="numbers: training error" if numeric else "labels: epoch",
              title_fontsize=8)
    return _save(fig, path)


def plot_interpolation(result: dict, path: str | Path, title: str | None = None) -> Path:
    """Draw loss (and error, when recorded) along w(t) = (1 − t) w_a + t w_b (Theory II Fig. 25)."""
    plt = _plt()
    ts, loss = _num(result["ts"]), _num(result["loss"])
    has_err = result.get("error") is not None
    fig, axes = plt.subplots(1, 2 if has_err else 1, figsize=(9 if has_err else 5, 3.6), squeeze=False)
    axes[0, 0].plot(ts, loss, "o-", ms=3)
    axes[0, 0].set_xlabel("t  (0: model a, 1: model b)")
    axes[0, 0].set_ylabel("loss")
    if np.all(loss > 0) and loss.max() / max(loss.min(), 1e-300) > 100:
        axes[0, 0].set_yscale("log")
    if has_err:
        axes[0, 1].plot(ts, _num(result["error"]), "o-", ms=3, color="C3")
        axes[0, 1].set_xlabel("t")
        axes[0, 1].set_ylabel("error")
    for ax in axes[0]:
        ax.axvspan(0, 1, color="0.9", zorder=0)
    fig.suptitle(title or f"linear interpolation (‖w_b − w_a‖ = {result['distance']:.3g}, BN: {result['bn']})")
    return _save(fig, path)


def plot_simplex(result: dict, path: str | Path, quantity: str = "loss") -> Path:
    """Draw loss or error on the simplex of three models (Theory IIb eq. 10, Fig. 7) as a filled contour."""
    plt = _plt()
    xy = np.asarray(result["xy"], dtype=float)
    z = _num(result[quantity] if result.get(quantity) is not None else result["loss"])
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    cs = ax.tricontourf(xy[:, 0], xy[:, 1], z, levels=20, cmap="viridis")
    fig.colorbar(cs, ax=ax, label=quantity)
    for (x, y), name in zip([(0, 0), (1, 0), (0.5, math.sqrt(3) / 2)], ("w1", "w2", "w3")):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(0, 6), ha="center", color="k")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"three-point interpolation, {quantity}")
    return _save(fig, path)


def plot_radius(results: Sequence[dict] | dict, path: str | Path, names: Sequence[str] | None = None) -> Path:
    """Draw histograms of flatness radii r(w, δw, ε) (Theory IIb eq. 11, Table 1), one per result."""
    plt = _plt()
    results = [results] if isinstance(results, dict) else list(results)
    names = list(names) if names else [f"{r['subset']} ({r['quantity']})" for r in results]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for r, name in zip(results, names):
        radii = _num(r["radii"])
        ax.hist(radii, bins=max(5, min(30, radii.size // 2)), alpha=0.6,
                label=f"{name}: {np.mean(radii):.3g} ± {np.std(radii):.2g}"
                      + (f", {r['n_censored']} censored" if r.get("n_censored") else ""))
    ax.set_xlabel(f"flatness radius r(w, δw, ε), ε = {results[0]['epsilon']:g}")
    ax.set_ylabel("directions")
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))  # a count of directions
    ax.set_title(f"Theory IIb eq. 11: flatness radius over {len(_num(results[0]['radii']))} random directions")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_perturbation(result: dict, path: str | Path) -> Path:
    """Draw mean ± std of the loss (and error) after layer-wise perturbation against α."""
    plt = _plt()
    alphas = _num(result["alphas"])
    loss = np.asarray(result["loss"], dtype=float)
    has_err = result.get("error") is not None
    fig, axes = plt.subplots(1, 2 if has_err else 1, figsize=(9 if has_err else 5, 3.6), squeeze=False)
    axes[0, 0].errorbar(alphas, loss.mean(1), yerr=loss.std(1), fmt="o-", capsize=3)
    axes[0, 0].axhline(result["base"]["loss"], color="k", ls=":", label="unperturbed")
    axes[0, 0].set_ylabel("loss")
    if has_err:
        err = np.asarray(result["error"], dtype=float)
        axes[0, 1].errorbar(alphas, err.mean(1), yerr=err.std(1), fmt="o-", capsize=3, color="C3")
        axes[0, 1].axhline(result["base"]["error"], color="k", ls=":")
        axes[0, 1].set_ylabel("error")
    for ax in axes[0]:
        ax.set_xscale("log" if np.all(alphas > 0) and alphas.max() / alphas.min() > 20 else "linear")
        ax.set_xlabel(f"α  (σ_l = α · {'std' if result['scale'] == 'std' else 'mean |w|'} of layer l)")
    axes[0, 0].legend(fontsize=8)
    return _save(fig, path)


def plot_hessian(result: dict, path: str | Path) -> Path:
    """Draw a Hessian spectrum: sorted |λ| with the nullity threshold (exact), Ritz values (eigsh) and/or the SLQ density."""
    plt = _plt()
    panels = [k for k in ("exact", "top", "density") if result.get(k)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.8), squeeze=False)
    for ax, kind in zip(axes[0], panels):
        r = result[kind]
        if kind == "exact":
            lam = _num(r["eigenvalues"])
            mags = np.maximum(np.abs(lam), 1e-300)
            ax.semilogy(np.arange(1, lam.size + 1), mags, "o", ms=3)
            ax.axhline(r["tol"] * mags.max(), color="C3", ls="--", label=f"τ·max|λ| (nullity {r['nullity']})")
            ax.set_xlabel("index")
            ax.set_ylabel("|λ|")
            ax.legend(fontsize=8)
            ax.set_title("exact Hessian spectrum")
        elif kind == "top":
            lam = _num(r["eigenvalues"])
            ax.stem(np.arange(1, lam.size + 1), lam)
            ax.set_xlabel("rank")
            ax.set_ylabel("λ")
            ax.set_title(f"top eigenvalues (eigsh, {r['n_matvec']} HVPs)")
        else:
            ax.plot(_num(r["grid"]), np.maximum(_num(r["density"]), 1e-12))
            ax.set_yscale("log")
            ax.set_xlabel("λ")
            ax.set_ylabel("density")
            ax.set_title(f"SLQ density ({r['n_probes']} probes × {r['n_steps']} steps)")
    return _save(fig, path)


def plot_agreement(result: dict, path: str | Path) -> Path:
    """Draw the two agreement matrices of Theory II Fig. 18 as annotated heat maps."""
    plt = _plt()
    labels = result["labels"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, key, title in zip(axes, ("correct_given_correct", "wrong_given_wrong"),
                              ("P(column correct | row correct)", "P(column wrong | row wrong)")):
        M = np.array([_num(row) for row in result[key]])
        im = ax.imshow(M, vmin=0, vmax=1, cmap="magma")
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                ax.text(j, i, "–" if np.isnan(M[i, j]) else f"{M[i, j]:.2f}", ha="center", va="center",
                        color="w" if (np.isnan(M[i, j]) or M[i, j] < 0.6) else "k", fontsize=8)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_title(title)
    fig.colorbar(im, ax=axes, shrink=0.8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_compare(result: dict, path: str | Path) -> Path:
    """Draw the theory comparison: nullity vs K − rank J vs theory's K − r against K/N; losses; spectra; radii.

    Hollow markers: runs that did not reach zero loss (there ∇²L ≠ 2JᵀJ).
    """
    plt = _plt()
    rows = result["rows"]
    cfg = result["config"]
    ratio = np.array([r["ratio"] for r in rows])
    ok = np.array([r["reached_zero"] for r in rows])
    fig, grid = plt.subplots(2, 2, figsize=(12, 9))
    axes = grid.ravel()
    ax = axes[0]
    theory = [np.nan if r["theory_dimension"] is None else r["theory_dimension"] for r in rows]
    ax.plot(ratio, theory, "-", color="k", lw=2, label="theory K − r (generic Jacobian rank)")
    ax.plot(ratio, [r["paper_dimension"] for r in rows], ":", color="0.5", label="K − N (Theory II §3.2)")
    kern = np.array([r["kernel_dim"] for r in rows])
    nul = np.array([r["hessian_nullity"] for r in rows])
    ax.plot(ratio, kern, "s", ms=9, mfc="none", color="C0", label="K − rank J (trained w)")
    ax.plot(ratio[ok], nul[ok], "o", color="C3", ms=5, label="Hessian nullity, zero loss")
    ax.plot(ratio[~ok], nul[~ok], "o", mfc="none", color="C3", ms=6, label="Hessian nullity, loss > 0")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.set_xlabel("K / N")
    ax.set_ylabel("dimension")
    ax.set_title("flat directions at the trained minimum")
    ax.legend(fontsize=7)
    ax = axes[1]
    loss = np.maximum([r["loss"] for r in rows], 1e-300)
    ax.semilogy(ratio[ok], loss[ok], "o", color="C2", label="reached zero")
    ax.semilogy(ratio[~ok], loss[~ok], "x", color="C3", ms=8, label="failed")
    ax.axhline(cfg["zero_loss"], color="k", ls="--", lw=1, label=f"zero threshold {cfg['zero_loss']:g}")
    ax.set_xlabel("K / N")
    ax.set_ylabel("final Σ r_i²")
    ax.set_title(f"training ({cfg['optimizer']}, best of {cfg['restarts']})")
    ax.legend(fontsize=7)
    ax = axes[2]
    cmap = plt.get_cmap("viridis")
    for i, r in enumerate(rows):
        lam = np.abs(_num(r["hessian_eigenvalues"]))
        lam = np.maximum(np.sort(lam)[::-1] / max(lam.max(), 1e-300), 1e-22)
        ax.semilogy(np.arange(1, lam.size + 1), lam, "o-" if r["reached_zero"] else "x--", ms=3,
                    color=cmap(i / max(1, len(rows) - 1)), label=f"K={r['n_params']}")
    ax.axhline(cfg["tol"], color="C3", ls="--", lw=1, label=f"τ = {cfg['tol']:g}")
    ax.set_xlabel("eigenvalue index")
    ax.set_ylabel("|λ| / max|λ|")
    ax.set_title("Hessian spectra")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[3]
    rr = np.array([r["radius_random"] for r in rows])
    rs = np.array([r["radius_random_std"] for r in rows])
    rn = np.array([np.nan if r["radius_null"] is None else r["radius_null"] for r in rows])
    ax.errorbar(ratio, rr, yerr=rs, fmt="o-", capsize=3, label="random unit directions")
    ax.plot(ratio, rn, "s--", label="directions in the Hessian null space")
    ax.set_yscale("log")
    ax.set_xlabel("K / N")
    ax.set_ylabel(f"flatness radius (ε = {cfg['epsilon']:g} on Σr²)")
    ax.set_title("Theory IIb eq. 11 radius")
    ax.legend(fontsize=7)
    fig.suptitle(f"{result['network']}, h = {', '.join(str(r['width']) for r in rows)}; N = {rows[0]['n_points']}",
                 fontsize=10)
    return _save(fig, path)


def plot_curves(metrics: dict, path: str | Path, title: str = "") -> Path:
    """Draw a training run's curves from its metrics.json record: loss and error per epoch, train and test, every trajectory."""
    plt = _plt()
    rows = metrics["epochs"]
    epochs = [r["epoch"] for r in rows]
    has_error = rows[0]["train_error"] is not None
    fig, axes = plt.subplots(1, 2 if has_error else 1, figsize=(10 if has_error else 5, 3.6), squeeze=False)
    for col, key in enumerate(["loss", "error"][: 2 if has_error else 1]):
        ax = axes[0][col]
        for split, style in (("train", "-"), ("test", "--")):
            series = list(zip(*[_num(r[f"{split}_{key}"]) for r in rows]))
            for k, ys in enumerate(series):
                ax.plot(epochs, ys, style, color=f"C{k % 10}", lw=1.2, label=f"{split}" if k == 0 else None)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # epochs are whole numbers
        ax.set_ylabel(key)
        ax.set_yscale("log" if key == "loss" else "linear")
        ax.grid(alpha=0.3)
        ax.legend()
    k = len(rows[0]["train_loss"])
    fig.suptitle(title + (f" ({k} trajectories, one colour each)" if k > 1 else ""))
    return _save(fig, path)
