"""Theory II §6.1: the SGD-stage visualisation of §4.2 with random labels, beside natural labels.

"We visualized the SGD trajectories in the case of fitting random labels. There is no qualitative
difference between the results from those of normal labels." The paper shows no figure and no
protocol for it; we run the §4.2 protocol (`theory2_sgd.run_stages`) twice from the same seed, once
with every training label replaced by a uniformly random class, and compare the descriptors that
make the §4.2 pictures what they are: reruns from one point end at distinct, nearby models (spread
over travel below 1), layers 2 and 5 order the models alike (Spearman ≥ 0.5), training error falls
over the stages.
"""
from __future__ import annotations

from dataclasses import asdict

from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments.verdicts import Rule, Sample, finding, judge
from empirics.experiments import common
from empirics.experiments import theory2_sgd as sgd

PRESETS = {
    "smoke": sgd.SGDStagesPreset(stages=3, trajectories=4, unperturbed=2, epochs=1, late=2, subset=300,
                                 widths=(8, 16, 32, 16)),
    "cpu": sgd.SGDStagesPreset(stages=8, trajectories=8, unperturbed=4, epochs=3, late=4, subset=1000,
                               widths=(16, 32, 64, 32)),
    "paper": sgd.PRESETS["paper"],
}
MICRO = sgd.MICRO

CLAIMS = (
    Claim("labels-no-difference", "Theory II", "§6.1",
          "We visualized the SGD trajectories in the case of fitting random labels. There is no qualitative difference "
          "between the results from those of normal labels."),
)


RULE = Rule(
    "labels-no-difference", 1, "random minus natural labels, per stage (same seeds), of the SGD-stage descriptors in "
    "units of their margins: spread/travel of reruns (0.25) and layer 2–5 Spearman correlation (0.25)", "within", 1.0,
    "the same protocol on natural labels, stage by stage",
    "§6.1: 'no qualitative difference' — each descriptor within a quarter (of a ratio, of a correlation)")
SPREAD_UNIT, RHO_UNIT = 0.25, 0.25


def descriptors(m: dict) -> dict:
    """Return the qualitative descriptors of one `measure_stages` summary (per stage where the verdict needs it)."""
    f1, f2 = sgd.sgd_findings(m, None)
    first = min(m["per_stage"][0]["final_train_error"])
    last = min(m["per_stage"][-1]["final_train_error"])
    return {"spread_over_travel": f1.measured["median_spread_over_travel"], "reruns_distinct": f1.verdict,
            "spearman_layer2_layer5": f2.measured["spearman_layer2_layer5"], "start_error": m["start_error"],
            "error_after_stage_1": first, "error_after_last_stage": last, "error_falls": last < m["start_error"],
            "per_stage_spread": [s["spread_over_travel"] for s in m["per_stage"]],
            "per_stage_rho": [s.get("layer_rho_2_5") for s in m["per_stage"]]}


def compare(nat: dict, rnd: dict) -> Finding:
    """Return the verdict: the same qualitative picture on both label sets (stages paired by seed)."""
    pairs = lambda k: [(b, a) for a, b in zip(nat[k], rnd[k]) if a is not None and b is not None]  # noqa: E731
    tests = [Sample("spread/travel", [(b - a) / SPREAD_UNIT for b, a in pairs("per_stage_spread")]),
             Sample("layer 2–5 Spearman", [(b - a) / RHO_UNIT for b, a in pairs("per_stage_rho")])]
    v = judge(RULE, tests)
    reason = (f"natural vs random labels: spread/travel {nat['spread_over_travel']:.2f} vs {rnd['spread_over_travel']:.2f}, "
              f"layer 2–5 Spearman {nat['spearman_layer2_layer5']:.2f} vs {rnd['spearman_layer2_layer5']:.2f}, training "
              f"error {100 * nat['start_error']:.0f} → {100 * nat['error_after_last_stage']:.0f} % vs "
              f"{100 * rnd['start_error']:.0f} → {100 * rnd['error_after_last_stage']:.0f} %")
    same = {"reruns slightly different": (nat["spread_over_travel"] < 1) == (rnd["spread_over_travel"] < 1),
            "layers alike": (nat["spearman_layer2_layer5"] >= 0.5) == (rnd["spearman_layer2_layer5"] >= 0.5),
            "training error falls": nat["error_falls"] == rnd["error_falls"]}
    return finding("labels-no-difference", v, reason, {"natural": nat, "random": rnd, "same": same})


def run(ctx: ExperimentContext, preset: sgd.SGDStagesPreset | None = None) -> ExperimentReport:
    """Run §6.1 at ctx.scale and return its report."""
    p = preset or PRESETS[ctx.scale]
    common.pin_preset(ctx, p)
    nat = sgd.run_stages(ctx, p, prefix="natural_")
    rnd = sgd.run_stages(ctx, p, prefix="random_", random_labels=1.0)
    figs = sgd.draw_stage_figures(ctx, nat, p, prefix="natural_", what=" (natural labels)")
    figs += sgd.draw_stage_figures(ctx, rnd, p, prefix="random_", what=" (random labels)")
    figs = [(f, ("natural labels: " if f.startswith("natural") else "random labels: ") + c) for f, c in figs]
    deviations = sgd.paper_deviations(p, common.dataset_of(ctx), ctx.scale)
    deviations.append("the paper gives no protocol for §6.1; the §4.2 protocol is run on natural and on random labels "
                      "from the same seeds")
    protocol = ("§4.2 protocol (theory2_sgd) with the natural training labels",
                "the same with every training label replaced by a uniformly random class (test labels stay true)",
                "descriptors compared: spread of reruns over their travel, layer 2–5 Spearman correlation of "
                "dissimilarities, training error over the stages")
    measured = {"preset": asdict(p), "natural": descriptors(nat), "random": descriptors(rnd)}
    return ExperimentReport("ii-random-labels", "SGD stages with random labels vs natural labels", "Theory II §6.1",
                            ctx.scale, ctx.seed, protocol, tuple(deviations), CLAIMS,
                            (compare(measured["natural"], measured["random"]),), measured, tuple(figs), 0.0)


EXPERIMENTS = (Experiment("ii-random-labels", "SGD stages with random labels vs natural labels", "Theory II §6.1",
                          CLAIMS, run, common.dataset_choices()),)
