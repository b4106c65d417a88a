"""Theory IIb Figs 3–6: Langevin (GDL), SGD and SGDL on two-well potentials against the Boltzmann law.

Three runs of `empirics.langevin.run_langevin` (the potential, dynamics and quadrature are
documented there):
  * Fig. 3: GDL, two flat-bottomed wells of equal depth, the flat one's bottom a factor 2 wider in
    each dimension, d = 1…5;
  * Figs 4–5: GDL, a non-degenerate (point) minimum against a degenerate (flat-ball) one, d = 1…5;
  * Fig. 6: SGD and SGDL on the Figs 4–5 potential in 2D.
Each is compared with p ∝ e^{−U/T} (Theory IIb eq. 9) at the temperature its dynamics has.
"""
from __future__ import annotations

from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.langevin import LangevinConfig, run_langevin

REF = "Theory IIb §3.2, Figs 3–6"
DIMS = (1, 2, 3, 4, 5)

CLAIM_FIG3 = Claim(
    "flatter-likelier-with-dimension", "Theory IIb", "§3.2, Fig. 3",
    "among two minimum basins of equal depth, the one with a larger volume, is much more likely in high dimensions "
    "(Figure 3) [...] As expected, higher dimensionality implies higher probability of selecting the flatter minimum.")
CLAIM_FIG45 = Claim(
    "degenerate-preferred", "Theory IIb", "§3.2, Figs 4–5",
    "the Langevin dynamics prefers degenerate minima to non-degenerate minima of the same depth. Furthermore, as "
    "dimensions increase the distribution concentrates strongly around the degenerate minima.")
CLAIM_FIG6 = Claim(
    "sgd-sgdl-degenerate", "Theory IIb", "§3.2, Fig. 6",
    "Stochastic Gradient Descent and Langevin Stochastic Gradient Descent (SGDL) on the 2D potential function shown "
    "above leads to an asymptotic distribution [...] both dynamics prefers degenerate minima to non-degenerate minima "
    "of the same depth.")
CLAIM_BOLTZMANN = Claim(
    "boltzmann-law", "Theory IIb", "§3.2, eq. 9",
    "The asymptotic distribution reached by a Langevin equation (GDL) – as well as by SGDL – is the Boltzman "
    "distribution that is p(f) = (1/Z) e^{−U/T}")


def _configs(ctx: ExperimentContext) -> dict[str, LangevinConfig]:
    base = dict(scale=ctx.scale, seed=ctx.seed)
    return {"fig3": LangevinConfig(dims=DIMS, dynamics=("gdl",), **base),
            "fig4-5": LangevinConfig(dims=DIMS, dynamics=("gdl",), sharp_radius=0.0, **base),
            "fig6": LangevinConfig(dims=(2,), dynamics=("sgd", "sgdl"), sharp_radius=0.0, **base)}


def _fractions(res: dict, dynamics: str) -> list[tuple[int, float, float, float]]:
    return [(r["dim"], r["flat_fraction"], r["flat_fraction_se"], r["boltzmann_flat_fraction"])
            for r in res["runs"] if r["dynamics"] == dynamics]


def _fmt(rows: list[tuple[int, float, float, float]]) -> str:
    return ", ".join(f"d={d}: {f:.3f}±{se:.3f} (Boltzmann {b:.3f})" for d, f, se, b in rows)


def _verdict_word(held: bool | None) -> str:
    return {True: "held", False: "not held", None: "inconclusive"}[held]


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Run Figs 3, 4–5 and 6 and judge them against the paper's claims and the Boltzmann law."""
    from empirics.landscape_plots import plot_flat_fraction, plot_langevin_histograms

    cfgs = _configs(ctx)
    res = {k: ctx.stage(k, lambda c=c: run_langevin(c, ctx.progress)) for k, c in cfgs.items()}
    figures = []
    for key in ("fig3", "fig4-5"):
        plot_langevin_histograms(res[key], ctx.path(f"{key}_histograms.png"))
        plot_flat_fraction(res[key], ctx.path(f"{key}_flat_fraction.png"))
    plot_langevin_histograms(res["fig6"], ctx.path("fig6_histograms.png"))
    figures += [("fig3_histograms.png", "Fig. 3: GDL histograms of x₁, flat bottom radius 2ρ_s vs ρ_s, d = 1…5, "
                 "against the Boltzmann marginal"),
                ("fig3_flat_fraction.png", "Fig. 3: mass in the flatter well against d, simulated ± 2 SE and Boltzmann"),
                ("fig4-5_histograms.png", "Figs 4–5: GDL, non-degenerate (point) minimum vs degenerate (ball) minimum"),
                ("fig4-5_flat_fraction.png", "Figs 4–5: mass in the degenerate well against d"),
                ("fig6_histograms.png", "Fig. 6: SGD and SGDL in 2D on the Figs 4–5 potential")]

    f3 = _fractions(res["fig3"], "gdl")
    fd3 = Finding(CLAIM_FIG3.key, _verdict_word(res["fig3"]["held"]),
                  f"GDL flat-well mass {_fmt(f3)}; verdict rule: rise from d = 1 to 5 by > 3 SE with no step falling "
                  "by > 3 SE.", {"fractions": f3})
    f45 = _fractions(res["fig4-5"], "gdl")
    above = all(f - 3 * se > 0.5 for _, f, se, _ in f45)
    rising = res["fig4-5"]["held"]
    word = "held" if above and rising else ("not held" if rising is False or
                                            any(f + 3 * se < 0.5 for _, f, se, _ in f45) else "inconclusive")
    fd45 = Finding(CLAIM_FIG45.key, word, f"GDL degenerate-well mass {_fmt(f45)}; above ½ by 3 SE at every d: "
                   f"{above}; rising with d: {_verdict_word(rising)}.", {"fractions": f45})
    f6 = {dyn: _fractions(res["fig6"], dyn) for dyn in ("sgd", "sgdl")}
    pref = {dyn: rows[0][1] - 3 * rows[0][2] > 0.5 for dyn, rows in f6.items()}
    against = any(rows[0][1] + 3 * rows[0][2] < 0.5 for rows in f6.values())
    fd6 = Finding(CLAIM_FIG6.key, "held" if all(pref.values()) else ("not held" if against else "inconclusive"),
                  f"2D degenerate-well mass: SGD {_fmt(f6['sgd'])}; SGDL {_fmt(f6['sgdl'])}.", {"fractions": f6})
    runs = [r for v in res.values() for r in v["runs"]]
    c3_steps = res["fig3"]["config"]["n_steps"]
    worst = max(runs, key=lambda r: abs(r["z"]))
    tv = max(r["total_variation"] for r in runs)
    # Smoke chains are short (burn-in of a few relaxation times in d = 5): a gap there says too little to refute.
    bz_word = "held" if abs(worst["z"]) <= 3 else ("inconclusive" if ctx.scale == "smoke" else "not held")
    fdb = Finding(CLAIM_BOLTZMANN.key, bz_word,
                  f"largest |simulated − Boltzmann| flat mass over SE: {abs(worst['z']):.2f} ({worst['dynamics']}, "
                  f"d = {worst['dim']}, {worst['flat_fraction']:.3f} vs {worst['boltzmann_flat_fraction']:.3f}); largest "
                  f"total variation of the x₁ histogram {tv:.3f}" + {"held": "", "not held": " (beyond 3 SE: the O(γ) bias of the finite step or an unfinished relaxation)",
                     "inconclusive": f" (beyond 3 SE, but smoke chains run only {c3_steps} steps: too short to tell "
                                     "an unfinished relaxation from a wrong law)"}[bz_word] + ".",
                  {"max_abs_z": abs(worst["z"]), "max_total_variation": tv})
    c3 = res["fig3"]["config"]
    protocol = [
        f"Potential U(x) = min(k·max(|x − a| − ρ_s, 0)², k·max(|x − b| − ρ_f, 0)²), k = {c3['stiffness']}, centres "
        f"a = {c3['sharp_centre']}, b = {c3['flat_centre']} on the first axis (empirics.langevin).",
        f"Fig. 3: ρ_s = {c3['sharp_radius']}, ρ_f = {c3['flat_radius']}; GDL x ← x − γ∇U + √(2γT) ε, γ = {c3['step']}, "
        f"T = {c3['temperature']}, {c3['n_particles']} independent chains × {c3['n_steps']} steps (burn-in "
        f"{c3['burn_in']}, every {c3['thin']}th step recorded), d = 1…5.",
        "Figs 4–5: the same with ρ_s = 0 (a non-degenerate minimum) against the flat ball ρ_f.",
        f"Fig. 6: SGD on V(x, z_i) = U(x) + ⟨z_i, x⟩ (n = {c3['n_data']}, batch {c3['batch']}, temperature T) and SGDL "
        f"(SGD + √γ σ ε, σ = {c3['sgdl_noise']}) on the Figs 4–5 potential, d = 2.",
        "Every run: the fraction of recorded time in the flat basin (φ_f < φ_s) ± SE over chains, against the "
        "Boltzmann mass by quadrature at the dynamics' own temperature; histogram of x₁ against the exact marginal.",
    ]
    deviations = list(res["fig3"]["notes"]) + [
        "the paper does not state its potentials, steps or temperatures; these are chosen so the two wells are "
        "separated and the Euler step is stable",
        "Fig. 6's SGD noise is the minibatch noise of a synthetic empirical risk (isotropic offsets), not a network's",
    ]
    measured = {"fig3": f3, "fig4-5": f45, "fig6": f6, "max_abs_z": abs(worst["z"]), "max_total_variation": tv,
                "boltzmann_increasing": {k: res[k]["boltzmann_increasing"] for k in ("fig3", "fig4-5")}}
    return ExperimentReport("iib-langevin", "Langevin, SGD and SGDL on two-well potentials against the Boltzmann law",
                            REF, ctx.scale, ctx.seed, tuple(protocol), tuple(deviations),
                            (CLAIM_FIG3, CLAIM_FIG45, CLAIM_FIG6, CLAIM_BOLTZMANN), (fd3, fd45, fd6, fdb), measured,
                            tuple(figures), 0.0)


EXPERIMENTS = (
    Experiment("iib-langevin", "GDL/SGD/SGDL on two-well potentials, d = 1–5, against Boltzmann quadrature", REF,
               (CLAIM_FIG3, CLAIM_FIG45, CLAIM_FIG6, CLAIM_BOLTZMANN), run),
)
