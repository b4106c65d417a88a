"""Theory II §6.1: the SGD-stage visualisation of §4.2 with random labels, beside natural labels.

"We visualized the SGD trajectories in the case of fitting random labels. There is no qualitative
difference between the results from those of normal labels." (Poggio & Liao 2017, arXiv:1703.09833,
§6.1). The paper shows no figure and no protocol for it; we run the §4.2 protocol
(`theory2_sgd.run_chain`) twice in each replicate, once with every training label replaced by a
uniformly random class, and compare the descriptors that make the §4.2 pictures what they are:
reruns from one point end at distinct, nearby models (spread over travel), layers 2 and 5 order
the models alike (Spearman correlation).

Replicates: one replicate is one pair of whole chains (natural and random labels) drawn from its
own root seed: training subset, initialisations and every stage. Both chains must fit their labels
(zero training error of the last P) before the pair counts: "fitting random labels".
"""
from __future__ import annotations

from dataclasses import asdict

from empirics.experiments import identity, Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments.verdicts import Premise, Rule, Sample, finding, judge
from empirics.experiments import common
from empirics.experiments import theory2_sgd as sgd

PRESETS = {
    # random labels on 100 examples are fitted by SGD (lr 0.1, batches of 20) in about 15 epochs, like natural ones
    "smoke": sgd.SGDStagesPreset(stages=4, trajectories=4, unperturbed=2, epochs=5, late=3, subset=100,
                                 widths=(8, 16, 32, 16), lr=0.1, batch_size=20, replicates=3),
    # Replicates from the smoke pilot (seed 7, 3 replicates): sd of the paired differences 0.30 (spread/travel) and
    # 0.07 (layer correlation) in units of the band give 80 % power at θ = 0 with 3 (`verdicts.replicates_for`);
    # 5, because the pilot's spread/travel difference was 0.6 units, not 0 (about 5 minutes on one core).
    "cpu": sgd.SGDStagesPreset(stages=6, trajectories=4, unperturbed=2, epochs=5, late=4, subset=150,
                               widths=(8, 16, 32, 16), lr=0.1, batch_size=20, replicates=5),
    "paper": sgd.PRESETS["paper"],
}
MICRO = sgd.MICRO

CLAIMS = (
    Claim("labels-no-difference", "Theory II", "§6.1",
          "We visualized the SGD trajectories in the case of fitting random labels. There is no qualitative difference "
          "between the results from those of normal labels."),
)

PREMISE_FIT = Premise(
    "both chains fit their labels", "larger training error of the two chains' last P (natural and random labels, "
    "fraction)", 0.0, "at most", "§6.1 is about 'fitting random labels': a chain that has not fitted them is not the "
    "case the paper describes")
RULE = Rule(
    "labels-no-difference", 2, "random minus natural labels, per replicate (one chain each), of the SGD-stage "
    "descriptors in units of their margins: median spread/travel of reruns (0.25) and layer 2–5 Spearman correlation "
    "(0.25)", "within", 1.0, "the same protocol on natural labels in the same replicate",
    "§6.1: 'no qualitative difference' — each descriptor within a quarter (of a ratio, of a correlation)",
    premise=PREMISE_FIT)
SPREAD_UNIT, RHO_UNIT = 0.25, 0.25


def compare(nat: list[dict], rnd: list[dict], roots: list[int]) -> Finding:
    """Return the verdict: the same qualitative picture on both label sets, paired within each replicate."""
    prem = [max(a["final_p_error"], b["final_p_error"]) for a, b in zip(nat, rnd)]
    tests = [Sample("spread/travel", [(b["spread_over_travel"] - a["spread_over_travel"]) / SPREAD_UNIT
                                      for a, b in zip(nat, rnd)], roots, premise=prem),
             Sample("layer 2–5 Spearman", [(b["layer_rho_2_5"] - a["layer_rho_2_5"]) / RHO_UNIT
                                           for a, b in zip(nat, rnd)], roots, premise=prem)]
    v = judge(RULE, tests)
    mean = lambda xs, k: sum(x[k] for x in xs) / len(xs)  # noqa: E731
    reason = (f"natural vs random labels (mean over replicates): spread/travel {mean(nat, 'spread_over_travel'):.2f} vs "
              f"{mean(rnd, 'spread_over_travel'):.2f}, layer 2–5 Spearman {mean(nat, 'layer_rho_2_5'):.2f} vs "
              f"{mean(rnd, 'layer_rho_2_5'):.2f}; last P's training error "
              + ", ".join(f"{a['final_p_error']:.3f}/{b['final_p_error']:.3f}" for a, b in zip(nat, rnd)))
    return finding("labels-no-difference", v, reason, {"natural": nat, "random": rnd})


def run(ctx: ExperimentContext, preset: sgd.SGDStagesPreset | None = None) -> ExperimentReport:
    """Run §6.1 at ctx.scale and return its report."""
    p = ctx.preset(PRESETS, preset)
    reps = ctx.replicates(p.replicates)
    nat_m = [sgd.run_chain(ctx, rep, p, prefix="natural_", embed=rep.index == 0) for rep in reps]
    rnd_m = [sgd.run_chain(ctx, rep, p, prefix="random_", random_labels=1.0, embed=rep.index == 0) for rep in reps]
    nat, rnd = [sgd.chain_statistics(m) for m in nat_m], [sgd.chain_statistics(m) for m in rnd_m]
    roots = [rep.root for rep in reps]
    figs = sgd.draw_stage_figures(ctx, nat_m[0], p, prefix="natural_", what=" (natural labels)")
    figs += sgd.draw_stage_figures(ctx, rnd_m[0], p, prefix="random_", what=" (random labels)")
    figs = [(f, ("natural labels: " if f.startswith("natural") else "random labels: ") + c) for f, c in figs]
    deviations = sgd.paper_deviations(p, common.dataset_of(ctx), ctx.scale)
    deviations.append("the paper gives no protocol for §6.1; the §4.2 protocol is run on natural and on random labels "
                      "in each replicate (same training subset, own initialisations); the figures show replicate 0")
    protocol = (f"{p.replicates} replicates, each from its own root seed: a training subset, and on it two whole "
                "§4.2 chains (theory2_sgd), one with the natural training labels, one with every training label "
                "replaced by a uniformly random class (test labels stay true)",
                "premise per replicate: both chains' last P at zero training error (the labels are fitted)",
                "descriptors compared per replicate: median spread of reruns over their travel, layer 2–5 Spearman "
                "correlation of dissimilarities over the chain's models",
                f"Rule {RULE.tag}: {RULE.describe()}")
    measured = {"preset": asdict(p), "roots": roots, "natural": nat, "random": rnd}
    return ExperimentReport(*identity("ii-random-labels"),
                            ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS, (compare(nat, rnd, roots),),
                            measured, tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-random-labels", "SGD stages with random labels vs natural labels", "Theory II §6.1",
                          CLAIMS, run, common.dataset_choices()),)
