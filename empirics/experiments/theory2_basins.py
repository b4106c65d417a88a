"""Theory II §5: the "basin" and "basin-fractal" toy landscapes through the CNN's instruments.

`empirics.toy_landscapes.run_toy_landscapes` builds both models with the same basins and seeds
(the walls are the only difference), finds three minima (A, B in one basin, C in the other), and
applies the probes the paper applies to the CNN: Gaussian perturbation with re-training (§4.4,
Fig. 1D), interpolation within and across basins (§4.3, Fig. 1E) and noisy descent from nearby
starts (Figs 9, 11, 1F). The verdicts say whether each model shows the features §5 attributes to it,
so its predictions can be set beside the CNN's measurements (experiments ii-*).
"""
from __future__ import annotations

import numpy as np

from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.toy_landscapes import ToyLandscapeConfig, run_toy_landscapes

REF = "Theory II §5, Figs 33–34"

CLAIM_PERTURB = Claim(
    "perturbation-never-lowers", "Theory II", "§5, Fig. 33",
    "whenever one perturb a model by adding some significant noise, the loss almost always never go down. The larger "
    "the perturbation is, the more the error increases. The reasons are simple if the local landscape is a "
    "hyper-basin")
CLAIM_BASIN = Claim(
    "basin-interpolation", "Theory II", "§5 (recapitulation) and Fig. 33",
    "Interpolating two “nearby” convergence paths lead to another convergence path with similar errors every epoch. "
    "Interpolating two “distant” models lead to raised errors. [...] the landscape of empirical risk is simply a "
    "collection of (hyper) basins that each has a flat global minima")
CLAIM_FRACTAL = Claim(
    "fractal-walls", "Theory II", "§5, Fig. 34",
    "in “basin-fractal”, one should be able to find “walls” (raised errors) between two models within the same "
    "basin. Since it is a fractal, these “walls” should be present at all levels of errors.")


def _finding_perturb(models: dict, sigmas: tuple[float, ...]) -> Finding:
    p = models["basin"]["perturbation"]
    lower = max(p["fraction_lower"])
    mean = np.asarray(p["mean_loss"])
    rises = bool(np.all(np.diff(mean) >= -1e-12))
    measured = {"basin_max_fraction_lower": lower, "basin_mean_loss": mean.tolist(),
                "fractal_max_fraction_lower": max(models["basin-fractal"]["perturbation"]["fraction_lower"]),
                "sigmas": list(sigmas)}
    nums = (f"basin model: largest fraction of perturbations that lowered the loss {lower:.3f}; mean loss against σ "
            f"{', '.join(f'{v:.3g}' for v in mean)} ({'non-decreasing' if rises else 'not monotone'})")
    word = "held" if lower <= 0.05 and rises else "not held"
    return Finding(CLAIM_PERTURB.key, word, nums + ".", measured)


def _finding_basin(pred: dict) -> Finding:
    b = pred["basin"]
    ok = b["within_barrier"] <= 1e-6 and b["across_barrier"] > 1e-3
    return Finding(CLAIM_BASIN.key, "held" if ok else "not held",
                   f"basin model: barrier within a basin {b['within_barrier']:.3g}, across basins "
                   f"{b['across_barrier']:.3g} (held when ≤ 1e-6 within and > 1e-3 across).",
                   {"within_barrier": b["within_barrier"], "across_barrier": b["across_barrier"]})


def _finding_fractal(pred: dict) -> Finding:
    f = pred["basin-fractal"]
    several = f["walls_within"] >= 2 and f["wall_height_ratio"] >= 3.0
    word = "held" if f["within_barrier"] > 1e-6 and several else (
        "not held" if f["within_barrier"] <= 1e-6 else "inconclusive")
    return Finding(CLAIM_FRACTAL.key, word,
                   f"basin-fractal model: barrier within a basin {f['within_barrier']:.3g}, {f['walls_within']} walls "
                   f"along A → B, highest/lowest wall {f['wall_height_ratio']:.3g} (several levels when ≥ 3, as "
                   "levels differ by 4×); end barrier between noisy-descent trajectories "
                   f"{f['trajectory_end_barrier']:.3g}.",
                   {k: f[k] for k in ("within_barrier", "walls_within", "wall_height_ratio", "trajectory_end_barrier")})


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Probe both toy models and judge each against the features §5 gives it."""
    from empirics.landscape_plots import (plot_toy_interpolation, plot_toy_perturbation, plot_toy_slices,
                                          plot_toy_trajectories)

    cfg = ToyLandscapeConfig(scale=ctx.scale, seed=ctx.seed)
    res = ctx.stage("toy-landscapes", lambda: run_toy_landscapes(cfg, ctx.progress))
    models = {m["kind"]: m for m in res["models"]}
    pred = res["predictions"]
    findings = (_finding_perturb(models, cfg.sigmas), _finding_basin(pred), _finding_fractal(pred))
    plot_toy_slices(res, ctx.path("toy_slices.png"))
    plot_toy_perturbation(res, ctx.path("toy_perturbation.png"))
    plot_toy_interpolation(res, ctx.path("toy_interpolation.png"))
    plot_toy_trajectories(res, ctx.path("toy_trajectories.png"))
    c = res["config"]
    protocol = [
        f"Two landscapes on R^{c['dim']}: {c['n_basins']} basins with flat ball bottoms (radius {c['radius']}, "
        f"stiffness {c['stiffness']}, centres {c['separation']} apart); 'basin-fractal' adds {c['wall_levels']} levels "
        f"× {c['wall_families']} families of periodic walls, height {c['wall_height']}·4^−j, spacing "
        f"{c['wall_spacing']}·2^−j (empirics.toy_landscapes).",
        f"Minima A, B (same basin) and C (other basin) by gradient descent (η = {c['lr']}).",
        f"Perturbation A + σε, σ ∈ {c['sigmas']} × ρ/√d, {c['draws']} draws each, then {c['retrain_steps']} steps "
        "of re-training (Theory II §4.4, Fig. 1D).",
        f"Interpolation A → B and A → C on {c['interp_points']} points, t = 0 and 1 included (Fig. 1E).",
        f"{c['n_trajectories']} noisy-descent trajectories (T = {c['temperature']}) from nearby starts near the ridge, "
        f"{c['trajectory_steps']} steps (Figs 9, 11, 1F).",
    ]
    deviations = [
        "the paper draws the two models (Figs 33–34) but gives no formula; these are one concrete realisation of each",
        f"d = {c['dim']} 'weights' instead of the CNN's ~10⁵–10⁶",
        "the verdicts test whether each toy model has the features §5 attributes to it; the CNN's own numbers come from "
        "the Theory II §4 experiments",
    ]
    figures = (("toy_slices.png", "Each model on the plane through its minima A, B, C (Figs 33–34)"),
               ("toy_perturbation.png", "Loss after A + σε and after re-training, against σ (as Theory II Fig. 1D)"),
               ("toy_interpolation.png", "Loss along A → B (same basin) and A → C (other basin) (as Fig. 1E)"),
               ("toy_trajectories.png", "Noisy-descent trajectories in their principal plane and loss against step "
                                        "(as Figs 9, 11, 1F)"))
    return ExperimentReport("ii-basins", "Basin and basin-fractal toy landscapes through the CNN's instruments", REF,
                            ctx.scale, ctx.seed, tuple(protocol), tuple(deviations),
                            (CLAIM_PERTURB, CLAIM_BASIN, CLAIM_FRACTAL), findings, {"predictions": pred}, figures, 0.0)


EXPERIMENTS = (
    Experiment("ii-basins", "Basin and basin-fractal toy landscapes: perturbation, interpolation, trajectories", REF,
               (CLAIM_PERTURB, CLAIM_BASIN, CLAIM_FRACTAL), run),
)
