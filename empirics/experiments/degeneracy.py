"""The CNN bridge: theory's predicted dimension of the zero-error set beside measured degeneracy.

Theory II (Prop. 1, Cor. 1) argues from Bezout-type counting that a zero-error minimum of an
over-parametrised network is degenerate: near a zero-error minimum M_final the set of weights
that fit the N training examples exactly is, by the constant-rank theorem, a manifold of
dimension K − rank J ≥ K − N·n_out, with J the (N·n_out) × K Jacobian of the network's outputs on
the training set. Theory IIb §1.2 adds that replacing the ReLU by a polynomial leaves the
network's behaviour "essentially unchanged". This experiment trains the Theory II DCNN to (near)
zero training error on N real images, fixes batch norm at its running statistics (the function
whose Jacobian is taken), and puts side by side, for a ReLU and a polynomial-activation DCNN:

- predicted: K − rank J, with rank J by a randomised sketch (`empirics.jacobian_rank`, an
  estimate) and by the eigenvalues of the Gram matrix J Jᵀ (J formed row by row from
  vector–Jacobian products; an estimate resolving σ_i > √(rows·ε)·σ_1); the fraction
  (K − rank J)/K of flat directions;
- measured: the Hessian of the training loss at M_final (top eigenvalues by Lanczos/ARPACK, the
  SLQ spectral density and its mass within a tolerance of 0), the Gauss–Newton rank (rank JᵀJ =
  rank J), and the curvature dᵀHd of the loss along unit directions in the null space of J against
  directions in its row space (the control: a random direction lies almost wholly in null(J), so
  random directions control nothing). Several independently initialised networks per activation
  are the replicates of the verdict (`empirics.experiments.verdicts`).

Exact or modular ranks do not apply here: batch norm divides by a standard deviation and the ReLU
is not a polynomial, so the network's outputs are not polynomials in the weights.
"""
from __future__ import annotations

import numpy as np
import torch

from landscape_core.seeds import child_seed
from empirics.experiments import Claim, Experiment, ExperimentContext, ExperimentReport, Finding
from empirics.experiments.common import base_config, data_deviations, dataset_choices, dataset_of
from empirics.experiments.verdicts import Rule, Sample, finding, judge

NAME = "degeneracy"

CLAIMS = (
    Claim("degenerate-minima", "Theory II", "Prop. 1, Cor. 1",
          "There are a very large number of zero-error minima which are highly degenerate unlike the local "
          "non-zero minima."),
    Claim("polynomial-like-relu", "Theory IIb", "§1.2",
          "one can replace the RELUs in the network with an approximating univariate polynomial and verify "
          "empirically that the network behavior is essentially unchanged. The associated system of equations "
          "allows for a large number of solutions [...] which are degenerate, that is flat in several of the "
          "dimensions"),
)

# scale → training examples N, epochs of full-batch gradient descent with momentum, CNN widths (None: the
# paper's), replicates (independently initialised networks per activation), probe sizes
PRESETS = {
    "smoke": dict(n=16, epochs=100, lr=0.05, widths=(16, 32, 64, 32), replicates=2, directions=4, lanczos_k=2,
                  slq_probes=2, slq_steps=24, sketch_width=48),
    "cpu": dict(n=64, epochs=300, lr=0.05, widths=(16, 32, 64, 32), replicates=3, directions=8, lanczos_k=4,
                slq_probes=4, slq_steps=60, sketch_width=256),
    "paper": dict(n=512, epochs=400, lr=0.05, widths=None, replicates=5, directions=16, lanczos_k=20, slq_probes=8,
                  slq_steps=80, sketch_width=1024),
}
RULE = Rule(
    "degenerate-curvature", 1, "log10 of the median curvature dᵀHd of the training loss along unit directions in "
    "null(J) over the median along unit directions in row(J)", "less", -1.0,
    "directions in the row space of J (the scores' Jacobian) at the same minimum",
    "Prop. 1: the zero-error set has dimension K − rank J, so the loss is flat (degenerate) along null(J): its "
    "curvature there at least ten times below the curvature across the zero-error set")
# BN outputs are ≈ N(0, 1): `empirics.models.fit_relu_approximation` fits the ReLU on [−4, 4]
ACTIVATIONS = (("relu", "relu"), ("polynomial", "relu-legendre:4"))  # ℓ = 4 fitted on [−4, 4] after BN
HESSIAN_ZERO_RTOL = 1e-3   # an eigenvalue counts as ≈ 0 when |λ| ≤ 1e-3 · λ_max


def _loss_and_outputs(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor):
    """Return (f, L, w): outputs f(w) (N·n_out,), training cross-entropy L(w), the flat weights w (BN fixed)."""
    from empirics.jacobian_rank import output_map

    f, w = output_map(model, X)
    n = len(X)

    def loss(v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(f(v).view(n, -1), y)

    return f, loss, w


def _jacobian_rows(f, w: torch.Tensor, rows: int, chunk: int = 32) -> np.ndarray:
    """Return J (rows × K, float64) row by row: row i = Jᵀ e_i by batched vector–Jacobian products."""
    from torch.func import vjp, vmap

    _, pullback = vjp(f, w)
    eye = torch.eye(rows, dtype=w.dtype, device=w.device)
    return np.concatenate([vmap(lambda e: pullback(e)[0])(eye[s:s + chunk]).detach().cpu().numpy()
                           for s in range(0, rows, chunk)], axis=0).astype(np.float64)


def _gram_rank(G: np.ndarray) -> dict:
    """Return rank J from the eigenvalues of G = J Jᵀ: #{λ_i > rows·ε·λ_1}, i.e. σ_i > √(rows·ε)·σ_1."""
    lam = np.sort(np.linalg.eigvalsh(G))[::-1]
    rtol = G.shape[0] * float(np.finfo(float).eps)
    r = int((lam > rtol * lam[0]).sum()) if lam[0] > 0 else 0
    gap = float(np.sqrt(lam[r - 1] / lam[r])) if 0 < r < len(lam) and lam[r] > 0 else float("inf")
    return {"rank": r, "sigma_rtol": float(np.sqrt(rtol)), "gap": gap,
            "sigma_max": float(np.sqrt(max(lam[0], 0.0))), "sigma_min_kept": float(np.sqrt(max(lam[r - 1], 0.0))) if r else 0.0}


def _directions(J: np.ndarray, rank: int, count: int, seed: int) -> dict:
    """Return unit directions: random, projected onto null(J), and in the row space of J (Jᵀ a)."""
    rng = np.random.default_rng(seed)
    lam, U = np.linalg.eigh(J @ J.T)
    keep = np.argsort(lam)[::-1][:rank]
    lam, U = lam[keep], U[:, keep]
    rand, null, row, row_fraction = [], [], [], []
    for _ in range(count):
        d = rng.standard_normal(J.shape[1])
        d /= np.linalg.norm(d)
        # P_row d = Jᵀ G⁺ J d, with G⁺ on the eigenvalues kept by the rank decision
        p_row = J.T @ (U @ ((U.T @ (J @ d)) / lam))
        row_fraction.append(float(p_row @ p_row))
        n = d - p_row
        rand.append(d)
        null.append(n / np.linalg.norm(n))
        r = J.T @ (U @ rng.standard_normal(rank))
        row.append(r / np.linalg.norm(r))
    return {"random": np.array(rand), "null space of J": np.array(null), "row space of J": np.array(row),
            "row_fraction_of_random": float(np.mean(row_fraction))}


def _curvatures(loss, w: torch.Tensor, directions: np.ndarray) -> list[float]:
    """Return dᵀ H d for each unit row d (H the Hessian of the loss at w, by Hessian-vector products)."""
    from empirics.hessian import hvp_fn

    hvp = hvp_fn(loss, w)
    out = []
    for d in directions:
        v = torch.as_tensor(d, dtype=w.dtype, device=w.device)
        out.append(float(v @ hvp(v)))
    return out


def measure(ctx: ExperimentContext, label: str, model: torch.nn.Module, data, preset: dict, epochs: int) -> dict:
    """Return predicted and measured degeneracy of the trained DCNN (float64, BN at its running statistics)."""
    from empirics.hessian import spectral_density, top_eigenvalues
    from empirics.jacobian_rank import randomized_jacobian_rank

    from empirics.bn import recompute_bn

    model = model.double()
    X, y = data.x_train.double(), data.y_train
    # running statistics re-estimated on the N training images: eval-mode outputs at M_final equal the
    # full-batch training-mode outputs GD minimised (derivatives then hold the statistics fixed)
    recompute_bn(model, X)
    f, loss, w = _loss_and_outputs(model, X, y)
    k = w.numel()
    with torch.no_grad():
        out = f(w).view(len(X), -1)
    n_out = out.shape[1]
    rows = len(X) * n_out
    seed = child_seed(ctx.seed, f"measure {label}")
    sketch = randomized_jacobian_rank(model, X, seed=seed, initial_width=preset["sketch_width"])
    J = _jacobian_rows(f, w, rows)
    gram = _gram_rank(J @ J.T)
    r = max(sketch.rank, gram["rank"])
    top = top_eigenvalues(loss, w, k=preset["lanczos_k"], seed=seed % 2**32, tol=1e-4)
    slq = spectral_density(loss, w, n_probes=preset["slq_probes"], n_steps=preset["slq_steps"], seed=seed % 2**32)
    lam_max = float(max(top.eigenvalues[0], np.max(slq.nodes)))
    near = {f"{t:g}": float(np.mean(np.sum(np.where(np.abs(slq.nodes) <= t * lam_max, slq.weights, 0.0), axis=1)))
            for t in (HESSIAN_ZERO_RTOL, 1e-2, 1e-1)}
    dirs = _directions(J, gram["rank"], preset["directions"], seed % 2**32)
    del J
    curvature = {name: _curvatures(loss, w, dirs[name]) for name in ("null space of J", "row space of J")}
    return {
        "activation": getattr(model, "activation_label", label), "K": k, "N": len(X), "n_out": n_out, "rows": rows,
        "train_error": float((out.argmax(1) != y).double().mean()), "train_loss": float(loss(w)),
        "epochs": epochs,
        "rank_sketch": sketch.rank, "sketch_width": sketch.sketch_width, "sketch_gap": sketch.gap,
        "rank_gram": gram["rank"], "gram": gram, "rank": r,
        "predicted_dimension": k - r, "bound_dimension": k - rows,
        "predicted_flat_fraction": (k - r) / k,
        "gauss_newton_rank": gram["rank"],
        "hessian_top": [float(v) for v in top.eigenvalues], "hessian_matvecs": top.n_matvec,
        "slq_near_zero_fraction": near[f"{HESSIAN_ZERO_RTOL:g}"], "slq_near_zero_by_rtol": near,
        "hessian_zero_rtol": HESSIAN_ZERO_RTOL, "slq_nodes_min": float(np.min(slq.nodes)),
        "curvature": curvature, "row_fraction_of_random": dirs["row_fraction_of_random"],
        "log10_curvature_ratio": float(np.log10(max(np.median(np.abs(curvature["null space of J"])), 1e-300))
                                       - np.log10(max(np.median(np.abs(curvature["row space of J"])), 1e-300))),
    }


def _model_and_data(cfg, seed: int):
    """Return (fresh DCNN for `cfg`, its training data set) on the CPU."""
    from empirics.data import load_dataset
    from empirics.train import build_model

    data = load_dataset(cfg.data_spec(), "cpu", dtype=cfg.torch_dtype)
    return build_model(cfg.model, tuple(data.x_train.shape[1:]), data.num_classes, seed, cfg.torch_dtype), data


def train_to_zero(ctx: ExperimentContext, label: str, cfg, seed: int) -> dict:
    """Train the DCNN full-batch (SGD with momentum, cross-entropy) and save it; return the history.

    A plain loop rather than `empirics.train.train`, whose per-epoch evaluation of the whole test
    set would cost hundreds of times these N-example steps; the weights and BN statistics go to
    `model-<label>.pt` in the run folder.
    """
    torch.manual_seed(seed)
    model, data = _model_and_data(cfg, seed)
    X, y = data.x_train, data.y_train
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    history = []
    for epoch in range(cfg.epochs):
        model.train()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            err = float((model(X).argmax(1) != y).float().mean())
        history.append([epoch + 1, float(loss), err])
        if ctx.progress is not None:
            ctx.progress(epoch + 1, cfg.epochs)
    ctx.run.save_checkpoint(model.state_dict(), f"model-{label}.pt")
    return {"weights": str(ctx.path(f"model-{label}.pt")), "history": history, "config": cfg.to_dict(), "seed": seed}


def run(ctx: ExperimentContext) -> ExperimentReport:
    """Train R ReLU and R polynomial DCNNs on N examples, then measure each (see the module docstring)."""
    from empirics.train import TrainConfig

    preset = PRESETS[ctx.scale]
    dataset = dataset_of(ctx)
    results = {}
    for label, activation in ACTIVATIONS:
        results[label] = []
        for i in range(preset["replicates"]):
            tag = label if i == 0 else f"{label}-r{i}"
            seed = child_seed(ctx.seed, f"train {tag}")
            cfg = base_config(ctx, preset["n"], preset["widths"], activation=activation, optimizer="gd",
                              epochs=preset["epochs"], lr=preset["lr"], momentum=0.9, batch_size=preset["n"], seed=seed,
                              save_weights=False)
            trained = ctx.stage(f"train-{tag}", lambda cfg=cfg, seed=seed, tag=tag: train_to_zero(ctx, tag, cfg, seed))

            def compute(trained=trained, tag=tag) -> dict:
                model, data = _model_and_data(TrainConfig.from_dict(trained["config"]), trained["seed"])
                model.load_state_dict(ctx.run.load_checkpoint(f"model-{tag}.pt"))
                return measure(ctx, tag, model, data, preset, len(trained["history"]))

            results[label].append(ctx.stage(f"measure-{tag}", compute))
    return _report(ctx, dataset, preset, results)


def _report(ctx: ExperimentContext, dataset: str, preset: dict, res: dict) -> ExperimentReport:
    """Return the report: predictions beside measurements (replicate 1), the curvature verdicts and the figure."""
    from dataclasses import replace

    from empirics.experiments.plots2b import plot_degeneracy

    predictions = []
    for label, ms in res.items():
        m, a = ms[0], f" ({label}, replicate 1)"
        predictions += [
            ["rank J" + a, f"≤ N·n_out = {m['rows']:,}", f"{m['rank']:,} (sketch {m['rank_sketch']:,}, Gram {m['rank_gram']:,})"],
            ["dim of zero-error set K − rank J" + a, f"≥ K − N·n_out = {m['bound_dimension']:,}",
             f"{m['predicted_dimension']:,}"],
            ["flat fraction of Hessian spectrum" + a, f"≥ {m['predicted_flat_fraction']:.4f}",
             f"{m['slq_near_zero_fraction']:.4f} (SLQ mass |λ| ≤ {HESSIAN_ZERO_RTOL:g}·λ_max; limited by the SLQ "
             "resolution: not a verdict)"],
            ["Gauss–Newton rank" + a, f"= rank J = {m['rank']:,}", f"{m['gauss_newton_rank']:,}"],
            ["training error at M_final" + a, "0", f"{m['train_error']:.4f} (loss {m['train_loss']:.2e})"],
            ["median dᵀHd: null(J) / row(J)" + a, "null ≪ row",
             " / ".join(f"{np.median(m['curvature'][d]):.3g}" for d in ("null space of J", "row space of J"))],
        ]
    findings = []
    for claim, label in (("degenerate-minima", "relu"), ("polynomial-like-relu", "polynomial")):
        ms = res[label]
        v = judge(RULE, Sample(label, [m["log10_curvature_ratio"] for m in ms]))
        errs = [m["train_error"] for m in ms]
        detail = (f"training error at M_final {', '.join(f'{e:.3f}' for e in errs)} on N = {ms[0]['N']}; K − rank J = "
                  f"{ms[0]['predicted_dimension']:,} of K = {ms[0]['K']:,}; a random direction lies "
                  f"{100 * (1 - ms[0]['row_fraction_of_random']):.1f} % in null(J), which is why random directions are "
                  "no control; SLQ mass within 1e-3·λ_max " + ", ".join(f"{m['slq_near_zero_fraction']:.3f}" for m in ms)
                  + " (SLQ resolution, reported only)")
        if claim == "polynomial-like-relu":
            relu = res["relu"]
            detail += (f"; ReLU beside it: log10 ratio " + ", ".join(f"{m['log10_curvature_ratio']:.2f}" for m in relu)
                       + ", training error " + ", ".join(f"{m['train_error']:.3f}" for m in relu))
        if any(e > 0 for e in errs) and v.verdict == "not held":
            v = replace(v, verdict="underpowered")
            detail += "; zero training error was not reached by every replicate, so the premise is not met"
        elif any(e > 0 for e in errs):
            detail += "; not every replicate reached zero training error"
        findings.append(finding(claim, v, detail, {"replicates": [{k: x for k, x in m.items() if k != "gram"}
                                                                  for m in ms]}))
    plot_degeneracy(res, ctx.path("curvature.png"), RULE.margin)
    protocol = (
        f"train {preset['replicates']} Theory II DCNNs per activation (independent initialisations; widths "
        f"{preset['widths'] or 'of the paper'}, BN without affine parameters) on a seeded subset of "
        f"N = {preset['n']} {dataset} images: full-batch gradient descent with momentum 0.9, lr {preset['lr']}, "
        f"{preset['epochs']} epochs, cross-entropy; with ReLU and with {ACTIVATIONS[1][1]}",
        "at M_final, batch-norm statistics re-estimated on the N images and then fixed (eval mode), float64: outputs "
        "f(w) on the N training images (N·10 numbers)",
        "rank J: randomised sketch J·Ω widened until its rank is below its width (estimate), and eigenvalues of "
        "J Jᵀ with J formed from vector–Jacobian products (estimate, resolves σ > √(rows·ε)·σ_1)",
        f"Hessian of the training loss: {preset['lanczos_k']} top eigenvalues (ARPACK Lanczos on Hessian-vector "
        f"products), SLQ density ({preset['slq_probes']} probes × {preset['slq_steps']} steps) and its mass within "
        f"{HESSIAN_ZERO_RTOL:g}·λ_max of 0 (reported, not judged: SLQ resolves 0 coarsely)",
        f"curvature dᵀHd along {preset['directions']} unit directions projected onto null(J) and {preset['directions']} "
        "unit directions Jᵀa in the row space (the control)",
        f"Rule {RULE.tag}: {RULE.describe()}; one value per replicate network",
    )
    deviations = tuple(data_deviations(dataset, preset["n"], preset["widths"])) + (
        "no exact or modular rank: with batch norm and ReLU the outputs are not polynomials in the weights",
        "zero error means the argmax classifies every training example; the Jacobian is that of the scores, "
        "so K − rank J is the dimension of the set of weights giving the same scores (a subset of the zero-error set)",
        "batch norm held at statistics re-estimated on the training images (the function whose Jacobian and Hessian "
        "are taken); training normalised by the full batch's statistics, which at M_final are the same numbers",
    )
    return ExperimentReport(
        name=NAME, title="Degeneracy of zero-error minima of the DCNN: theory's K − rank J beside the Hessian",
        reference="Theory II Prop. 1, Cor. 1; Theory IIb §1.2", scale=ctx.scale, seed=ctx.seed,
        protocol=protocol, deviations=deviations, claims=CLAIMS, findings=tuple(findings),
        measured={"predictions": predictions, **{lab: [dict(m) for m in ms] for lab, ms in res.items()}},
        figures=(("curvature.png", "Curvature dᵀHd of the training loss along unit directions in null(J) and in "
                  "row(J), every replicate network, ReLU and polynomial DCNN (log scale)"),), seconds=0.0)


EXPERIMENTS = (Experiment(NAME, "Degeneracy of zero-error minima of the DCNN (theory's K − rank J vs the Hessian)",
                          "Theory II Prop. 1, Cor. 1; Theory IIb §1.2", CLAIMS, run, datasets=dataset_choices()),)
