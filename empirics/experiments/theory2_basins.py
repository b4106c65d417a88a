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
from empirics.experiments.verdicts import Rule, Sample, finding, judge, replicate_seeds
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


REPLICATES = {"smoke": 3, "cpu": 5, "paper": 10}  # independent realisations (walls, minima, noise) per run
RULE_PERTURB = Rule(
    "toy-perturbation-never-lowers", 1, "largest fraction of perturbations of a basin minimum that lowered the loss "
    "(over σ)", "less", 0.05, "the unperturbed minimum's loss",
    "§5: 'the loss almost always never go down' — under 5 % of perturbations")
RULE_BASIN = Rule(
    "toy-basin-interpolation", 1, "loss barrier on the segment between two minima: within one basin (margin 1e-6, "
    "'less') and across basins (margin 1e-3, read as 'greater' through its negative)", "less", 1e-6,
    "the end models' losses", "§5: 'similar errors' within a basin, 'raised errors' across basins")
RULE_FRACTAL = Rule(
    "toy-fractal-walls", 1, "basin-fractal model: barrier within a basin (> 1e-6) and highest/lowest wall height along "
    "A → B (> 3, walls at several levels differ by 4×), both as negatives under 'less'", "less", -1e-6,
    "the basin model without walls (barrier 0)", "§5, Fig. 34: walls between models of one basin, at all levels")


def _finding_perturb(models: list[dict], sigmas: tuple[float, ...]) -> Finding:
    lower = [max(m["basin"]["perturbation"]["fraction_lower"]) for m in models]
    rises = [bool(np.all(np.diff(np.asarray(m["basin"]["perturbation"]["mean_loss"])) >= -1e-12)) for m in models]
    return finding(CLAIM_PERTURB.key, judge(RULE_PERTURB, Sample("basin model", lower)),
                   f"mean loss non-decreasing in σ in {sum(rises)} of {len(rises)} replicates; basin-fractal largest "
                   f"fraction lowered {max(max(m['basin-fractal']['perturbation']['fraction_lower']) for m in models):.3f}",
                   {"fraction_lower": lower, "mean_loss_non_decreasing": rises, "sigmas": list(sigmas)})


def _finding_basin(preds: list[dict]) -> Finding:
    within = [p["basin"]["within_barrier"] for p in preds]
    across = [-p["basin"]["across_barrier"] for p in preds]
    v = judge(RULE_BASIN, [Sample("within a basin", within), Sample("across basins (negated)", across, margin=-1e-3)])
    return finding(CLAIM_BASIN.key, v, f"across-basin barriers {', '.join(f'{-a:.3g}' for a in across)}",
                   {"within_barrier": within, "across_barrier": [-a for a in across]})


def _finding_fractal(preds: list[dict]) -> Finding:
    f = [p["basin-fractal"] for p in preds]
    v = judge(RULE_FRACTAL, [Sample("within-basin barrier (negated)", [-x["within_barrier"] for x in f]),
                             Sample("wall height ratio (negated)", [-x["wall_height_ratio"] for x in f], margin=-3.0)])
    return finding(CLAIM_FRACTAL.key, v, "walls along A → B: " + ", ".join(str(x["walls_within"]) for x in f)
                   + "; end barrier between noisy-descent trajectories: "
                   + ", ".join(f"{x['trajectory_end_barrier']:.3g}" for x in f),
                   {k: [x[k] for x in f] for k in ("within_barrier", "walls_within", "wall_height_ratio",
                                                     "trajectory_end_barrier")})


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Probe both toy models and judge each against the features §5 gives it."""
    from empirics.landscape_plots import (plot_toy_interpolation, plot_toy_perturbation, plot_toy_slices,
                                          plot_toy_trajectories)

    seeds = replicate_seeds(ctx.seed, REPLICATES[ctx.scale])
    cfg = ToyLandscapeConfig(scale=ctx.scale, seed=seeds[0])
    reps = [ctx.stage("toy-landscapes" if i == 0 else f"toy-landscapes-r{i}",
                      lambda s=s: run_toy_landscapes(ToyLandscapeConfig(scale=ctx.scale, seed=s), ctx.progress))
            for i, s in enumerate(seeds)]
    res = reps[0]
    pred = res["predictions"]
    models = [{m["kind"]: m for m in r["models"]} for r in reps]
    preds = [r["predictions"] for r in reps]
    findings = (_finding_perturb(models, cfg.sigmas), _finding_basin(preds), _finding_fractal(preds))
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
        f"{len(seeds)} independent realisations (walls, minima, perturbations, trajectories redrawn): the replicates; "
        "figures show the first.",
        "Rules: " + "; ".join(f"{r.tag}: {r.describe()}" for r in (RULE_PERTURB, RULE_BASIN, RULE_FRACTAL)) + ".",
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
