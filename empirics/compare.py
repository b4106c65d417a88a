"""The bridge between theory and training: is the zero-loss set as degenerate as theory predicts?

For polynomial-activation networks built from theory's `NetworkSpec`, on N generic data points
(`theory.network.data.random_data`, or planted targets), over a sweep of hidden widths (K/N from under-
to over-parametrized), we train to zero square loss L(w) = Σ_i ‖f(x_i; w) − y_i‖² in float64 and
measure at the final weights:

- the Hessian ∇²L (exact, `empirics.hessian`) and its nullity #{|λ| ≤ τ · max|λ|};
- the Jacobian J = ∂r/∂w of the residuals and its rank #{σ_i² > τ · σ_1²} (the same relative
  threshold, because at L = 0, ∇²L = 2JᵀJ has eigenvalues 2σ_i²);
- ‖∇²L − 2JᵀJ‖ / ‖∇²L‖ (zero at an exact zero of the loss, Theory II §3.3);
- the flatness radius r(w, δw, ε) of Theory IIb eq. 11 on the loss, along random unit directions
  and along unit directions inside the Hessian's numerical null space;

beside theory's predicted dimension K − r of the zero-error set, where r is the generic rank of the
N×K zero-error Jacobian from `theory.bounds.bezout.bezout_report` (numerical rank at random weights with a
certified modular lower bound), and the paper's count K − N.

At a zero of the loss the zero-error set is locally a manifold of dimension K − rank J wherever J
has locally constant rank, so the Hessian nullity should equal K − rank J there, and K − r where the
trained point is generic. Away from zero loss (training failed, or no zero exists because r < N)
the Hessian has the extra term 2 Σ_i r_i ∇²r_i and the equality is not expected.

Training: Levenberg–Marquardt (the default; damped Gauss–Newton steps solved as least squares on
[J; √μ I] δ = [−r; 0], μ adapted by the gain) or plain full-batch gradient descent, with restarts
from independent seeded initialisations; the run with the lowest loss is kept.

The network is one `theory.network.spec.NetworkSpec` (fully connected); the sweep replaces its hidden
widths. Ranks follow `theory.bounds.rank.numerical_rank`, the toolkit's one tolerance rule.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch

from empirics.hessian import flat_hessian, spectrum_of
from empirics.models import TorchNetwork, param_views
from empirics.probes import line_radius, random_directions
from landscape_core.errors import InvalidSpecError, TrainingDiverged
from landscape_core.progress import Progress, report
from landscape_core.seeds import child_seed, stream
from landscape_core.serialize import Config, Serializable
from theory.network.activations import parse
from theory.bounds.bezout import bezout_report
from theory.network.data import planted_data, random_data
from theory.network.spec import NetworkSpec, init_weights
from theory.bounds.rank import numerical_rank
from theory.network.equations import ZeroErrorSystem

OPTIMIZERS = ("lm", "gd")
STATIONARY_GRAD = 1e-6  # ‖∇L‖ below which a run that missed zero loss counts as stationary
DATA_KINDS = ("random", "planted")


def _classic_network() -> NetworkSpec:
    """Return the library's default instance: fc 3-h-1, P = z + z²/4, bias, linear output."""
    return NetworkSpec.fully_connected(3, 1, 2, parse("z + z^2/4"), output_activation=False)


@dataclass(frozen=True)
class CompareConfig(Config):
    """The sweep: one network per hidden width, same data, same measurement.

    Fields:
        network: the fully connected NetworkSpec (n_0, depth, activation, bias, output activation);
            its hidden widths are replaced by each swept width.
        widths: hidden widths swept (each gives one network and one value of K).
        n_points: N, the number of data points (shared by every network).
        data: 'random' (generic targets: zero loss needs r = N) or 'planted' (targets of a random network).
        optimizer: 'lm' (Levenberg–Marquardt) or 'gd' (full-batch gradient descent).
        max_iters: iterations per restart (LM steps or GD steps).
        lr: gradient-descent step size on L = Σ r² (gd only).
        restarts: independent initialisations per network; the lowest loss is kept.
        init_scale: weights N(0, init_scale²/fan_in) (theory.network.spec.init_weights).
        zero_loss: a run "reaches zero loss" when Σ_i r_i² ≤ zero_loss.
        tol: relative threshold τ for Hessian nullity and Jacobian rank (dimensionless).
        epsilon: flatness-radius tolerance on the loss Σ r² (absolute, Theory IIb eq. 11).
        n_directions: random unit directions T for the radius (and as many null-space directions).
        r_max: radius search limit (in weight units).
        seed: seed of data, initialisations, directions and theory's random points.
    """

    CONFIG_NAME = "compare config"

    network: NetworkSpec = field(default_factory=_classic_network)
    widths: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    n_points: int = 10
    data: str = "random"
    optimizer: str = "lm"
    max_iters: int = 400
    lr: float = 0.01
    restarts: int = 3
    init_scale: float = 1.0
    zero_loss: float = 1e-18
    tol: float = 1e-9
    epsilon: float = 1e-4
    n_directions: int = 20
    r_max: float = 100.0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(h) for h in self.widths))
        if isinstance(self.network, dict):
            object.__setattr__(self, "network", NetworkSpec.from_dict(self.network))
        if not isinstance(self.network, NetworkSpec) or self.network.architecture != "fc":
            raise InvalidSpecError("compare sweeps the hidden width of a fully connected network: "
                                   "give an fc NetworkSpec (--arch fc)")
        positive = {"n_points": self.n_points,
                    "max_iters": self.max_iters, "restarts": self.restarts, "n_directions": self.n_directions}
        for name, value in positive.items():
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidSpecError(f"{name} must be a positive integer, got {value!r}")
        if not self.widths or any(h < 1 for h in self.widths):
            raise InvalidSpecError(f"widths must be positive integers, got {self.widths}")
        for name in ("lr", "init_scale", "zero_loss", "tol", "epsilon", "r_max"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise InvalidSpecError(f"{name} must be a positive number, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InvalidSpecError(f"unknown optimizer {self.optimizer!r}: choose lm or gd")
        if self.data not in DATA_KINDS:
            raise InvalidSpecError(f"unknown data kind {self.data!r}: choose random or planted")

    def spec(self, width: int) -> NetworkSpec:
        """Return the config's network with every hidden layer of width `width`."""
        net = self.network
        return replace(net, widths=(net.input_dim,) + (width,) * (net.depth - 1) + (net.output_dim,))



@dataclass(frozen=True)
class ZeroLossFit:
    """The outcome of training one network to zero loss.

    Fields:
        w: final weights (K,).
        loss: Σ_i r_i² at w.
        iterations: iterations of the kept restart.
        restart: index of the kept restart.
        history: loss per iteration of the kept restart.
        seconds: wall time of all restarts.
    """

    w: np.ndarray
    loss: float
    iterations: int
    restart: int
    history: tuple[float, ...]
    seconds: float


@dataclass(frozen=True)
class CompareRow(Serializable):
    """Measurements for one network of the sweep.

    Fields:
        width: hidden width; n_params: K; n_points: N; ratio: K/N.
        loss: final Σ_i r_i²; reached_zero: loss ≤ zero_loss; iterations: of the kept run.
        status: 'zero' (reached zero loss); 'minimum' (loss > 0, ‖∇L‖ ≤ 1e-6 and no negative curvature:
            a minimum with positive loss); 'stalled' (loss > 0 and still a slope or negative curvature).
        jacobian_rank: #{σ_i² > τ σ_1²} of J at the trained weights; singular_values: of J.
        grad_norm: ‖∇L(w)‖ at the trained weights; weight_norm: ‖w‖ (a growing norm with a slowly
            falling loss means the infimum is approached at infinity, not attained).
        hessian_nullity: #{|λ| ≤ τ max|λ|}; hessian_eigenvalues: descending; n_negative: λ < −τ max|λ|
            (negative curvature: a failed run that stopped on a slope or saddle, not at a minimum).
        kernel_dim: K − rank J (the local dimension of the zero set at a regular zero).
        theory_rank: r, the generic Jacobian rank from theory.bounds.bezout; theory_dimension: K − r.
        paper_dimension: K − N (Theory II §3.2, "modulo inconsistent equations").
        theory_dependent: r < N (theory predicts no zero-loss point for generic targets).
        gauss_newton_gap: ‖∇²L − 2JᵀJ‖_F / ‖∇²L‖_F.
        jacobian_agreement: max |J_torch − J_theory| / max |J_theory| (torch against theory's forward mode).
        radius_random: mean flatness radius along random unit directions; radius_random_std: its std.
        radius_null: mean radius along unit directions in the Hessian null space (None if nullity 0).
        radius_censored: directions (random and null) whose search reached r_max.
        nullity_matches_kernel: hessian_nullity == kernel_dim.
        nullity_matches_theory: hessian_nullity == theory_dimension.
        seconds: wall time for this network (training and measurement).
    """

    width: int
    n_params: int
    n_points: int
    ratio: float
    loss: float
    reached_zero: bool
    status: str
    iterations: int
    grad_norm: float
    weight_norm: float
    jacobian_rank: int
    singular_values: tuple[float, ...]
    hessian_nullity: int
    hessian_eigenvalues: tuple[float, ...]
    n_negative: int
    kernel_dim: int
    theory_rank: int | None
    theory_dimension: int | None
    paper_dimension: int
    theory_dependent: bool | None
    gauss_newton_gap: float
    jacobian_agreement: float
    radius_random: float
    radius_random_std: float
    radius_null: float | None
    radius_censored: int
    nullity_matches_kernel: bool
    nullity_matches_theory: bool | None
    seconds: float


@dataclass(frozen=True)
class CompareResult(Serializable):
    """The whole sweep.

    Fields:
        config: the CompareConfig.
        network: description of the first network (the others differ in width only).
        rows: one CompareRow per width, in config order.
        data_seed: seed of the data points.
        seconds: total wall time.
    """

    config: CompareConfig
    network: str
    rows: tuple[CompareRow, ...]
    data_seed: int
    seconds: float
    notes: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------------------------
# Training


# Bytes per float64 entry of the sweep's arrays, measured by benchmarks/sizes.py (peak resident memory).
COMPARE_BYTES = 8


def compare_needs(config: CompareConfig) -> list:
    """Return the memory (`common.sizes.Need`) the sweep holds at its peak: its widest network's.

    For N residuals (n_points · outputs), K weights and H hidden units, in float64:
    `torch.func.jacrev` pushes the N basis cotangents through the network at once (about
    5·N × N × (1 + H) numbers, measured at N = 2,000: the basis and each layer's cotangents and saved values,
    for every one of the N points), Levenberg–Marquardt holds J and
    [J; √μ I] with its least-squares copy (about 3·N·K + 2·K²), and the measurement the Hessian,
    its eigenvectors and JᵀJ (3·K²).
    """
    from landscape_core.sizes import Need

    worst = None
    for width in config.widths:
        spec = config.spec(width)
        n, k, h = config.n_points * spec.output_dim, spec.n_params, sum(spec.widths[1:-1])
        numbers = 5 * n * n * (1 + h) + 3 * n * k + 5 * k * k
        if worst is None or numbers > worst[0]:
            worst = (numbers, n, k, width)
    numbers, n, k, width = worst
    return [Need("memory", COMPARE_BYTES * numbers,
                 f"the {n:,} × {n:,} Jacobian pass and {k:,}-weight Hessian of width {width}")]


def residual_fn(model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return w ↦ r(w) = (f(x_i; w) − y_i)_i, flattened point-major (theory's residual order)."""

    def r(w: torch.Tensor) -> torch.Tensor:
        return (torch.func.functional_call(model, param_views(model, w), (X,)) - Y).reshape(-1)

    return r


def levenberg_marquardt(r: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor, max_iters: int,
                        target: float) -> tuple[torch.Tensor, list[float]]:
    """Return (w, loss history) of Levenberg–Marquardt on L = ‖r(w)‖², stopping below `target`/100 or on stagnation.

    Step: δ = argmin ‖J δ + r‖² + μ ‖δ‖² (solved as least squares, so cond(J) is not squared);
    μ ← μ/3 after a successful step, μ ← 4μ after a rejected one (Nielsen-style adaptation).
    Not `scipy.optimize.least_squares`: its 'lm' refuses under-determined problems (K > N, most of the
    sweep) and 'trf' takes other steps, so the measured minima would no longer be the ones reported.
    """
    jac = torch.func.jacrev(r)
    w = w0.clone()
    res = r(w)
    loss = float(res @ res)
    history = [loss]
    mu = 1e-3
    k = w.numel()
    for _ in range(max_iters):
        if loss <= target * 1e-2 or mu > 1e20:
            break
        J = jac(w)
        A = torch.cat([J, math.sqrt(mu) * torch.eye(k, dtype=w.dtype)])
        b = torch.cat([-res, torch.zeros(k, dtype=w.dtype)])
        delta = torch.linalg.lstsq(A, b.unsqueeze(1)).solution.ravel()
        w_new = w + delta
        res_new = r(w_new)
        loss_new = float(res_new @ res_new)
        if math.isfinite(loss_new) and loss_new < loss:
            w, res, loss = w_new, res_new, loss_new
            mu = max(mu / 3.0, 1e-15)
        else:
            mu *= 4.0
        history.append(loss)
    return w, history


def gradient_descent(r: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor, max_iters: int, lr: float,
                     target: float) -> tuple[torch.Tensor, list[float]]:
    """Return (w, loss history) of full-batch gradient descent w ← w − lr ∇‖r(w)‖²."""
    grad = torch.func.grad(lambda v: (r(v) ** 2).sum())
    w = w0.clone()
    history = []
    for _ in range(max_iters):
        res = r(w)
        loss = float(res @ res)
        history.append(loss)
        if not math.isfinite(loss) or loss <= target * 1e-2:
            break
        w = w - lr * grad(w)
    return w, history


def train_to_zero(config: CompareConfig, spec, X: torch.Tensor, Y: torch.Tensor, seed: int) -> ZeroLossFit:
    """Return the best of `config.restarts` runs of the chosen optimizer on L = Σ_i ‖f(x_i; w) − y_i‖² (float64)."""
    start = time.perf_counter()
    model = TorchNetwork(spec, dtype=torch.float64)
    r = residual_fn(model, X, Y)
    best = None
    seeds = np.random.SeedSequence(seed).spawn(config.restarts)
    for i, ss in enumerate(seeds):
        w0 = torch.as_tensor(init_weights(spec, np.random.default_rng(ss), config.init_scale))
        if config.optimizer == "lm":
            w, hist = levenberg_marquardt(r, w0, config.max_iters, config.zero_loss)
        else:
            w, hist = gradient_descent(r, w0, config.max_iters, config.lr, config.zero_loss)
        res = r(w)
        loss = float(res @ res)
        if not math.isfinite(loss):
            continue
        if best is None or loss < best[1]:
            best = (w, loss, len(hist) - 1, i, tuple(hist))
        if loss <= config.zero_loss * 1e-2:
            break  # further restarts cannot do better than a zero
    if best is None:
        raise TrainingDiverged(f"every restart diverged for {spec.describe()}; lower --lr or --init-scale")
    w, loss, iters, idx, hist = best
    return ZeroLossFit(w.detach().numpy(), loss, iters, idx, hist, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------------
# Measurement


def _theory_rank(spec, data, seed: int) -> tuple[int | None, bool | None, str | None]:
    """Return (r, dependent, note) from theory.bounds.bezout.bezout_report on the same network and data."""
    report = bezout_report(spec, data.n_points, seed=seed, data=data)
    if report.predicted_dimension is None:
        return None, None, f"theory gave no Jacobian rank for K = {spec.n_params}"
    return spec.n_params - report.predicted_dimension, report.dependent, None


def measure(config: CompareConfig, width: int, data, X: torch.Tensor, Y: torch.Tensor) -> tuple[CompareRow, str | None]:
    """Return the CompareRow for hidden width `width`: train, then Hessian, Jacobian, radii and theory's rank."""
    start = time.perf_counter()
    spec = config.spec(width)
    k, n = spec.n_params, data.n_points * spec.output_dim
    # Kept from the first release rather than a named stream: the recorded sweeps (and the tests'
    # statements about which widths reach zero with two restarts) are tied to these initialisations.
    trained = train_to_zero(config, spec, X, Y, child_seed(config.seed, f"compare initialisations, width {width}"))
    w = torch.as_tensor(trained.w)
    model = TorchNetwork(spec, dtype=torch.float64)
    r = residual_fn(model, X, Y)
    loss_fn = lambda v: (r(v) ** 2).sum()  # noqa: E731
    J = torch.func.jacrev(r)(w).detach().numpy()
    sv = np.linalg.svd(J, compute_uv=False)
    # σ_i² > τ σ_1² (the Hessian's threshold on 2σ_i²) is σ_i > √τ σ_1.
    rank_j = numerical_rank(J, rtol=math.sqrt(config.tol)).rank
    H = flat_hessian(loss_fn, w).detach().numpy()
    spectrum = spectrum_of(H, config.tol)
    gn_gap = float(np.linalg.norm(H - 2 * J.T @ J) / max(np.linalg.norm(H), 1e-300))
    J_theory = ZeroErrorSystem(spec, data).jacobian(trained.w)
    agreement = float(np.abs(J - J_theory).max() / max(np.abs(J_theory).max(), 1e-300))
    theory_r, dependent, note = _theory_rank(spec, data, config.seed)

    rng = stream(config.seed, f"compare radius directions, width {width}")
    w_np = trained.w

    def value(v: np.ndarray) -> float:
        res = r(torch.as_tensor(v))
        return float(res @ res)

    radii, cens = [], 0
    for d in random_directions(k, config.n_directions, None, rng):
        rad, c, _ = line_radius(lambda t: value(w_np + t * d), config.epsilon, r_max=config.r_max)
        radii.append(rad)
        cens += int(c)
    radius_null = None
    if spectrum.nullity > 0:
        vals, vecs = np.linalg.eigh(0.5 * (H + H.T))
        null = vecs[:, np.argsort(np.abs(vals))[:spectrum.nullity]]  # the eigenvectors the nullity counts
        coeffs = rng.standard_normal((config.n_directions, null.shape[1]))
        dirs = coeffs @ null.T
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        null_radii = []
        for d in dirs:
            rad, c, _ = line_radius(lambda t: value(w_np + t * d), config.epsilon, r_max=config.r_max)
            null_radii.append(rad)
            cens += int(c)
        radius_null = float(np.mean(null_radii))
    kernel = k - rank_j
    reached = trained.loss <= config.zero_loss
    grad_norm = float(2 * np.linalg.norm(J.T @ r(w).detach().numpy()))
    stationary = grad_norm <= STATIONARY_GRAD and spectrum.n_negative == 0
    status = "zero" if reached else ("minimum" if stationary else "stalled")
    row = CompareRow(
        width=width, n_params=k, n_points=n, ratio=k / n, loss=trained.loss, reached_zero=reached,
        status=status, iterations=trained.iterations, grad_norm=grad_norm,
        weight_norm=float(np.linalg.norm(trained.w)), jacobian_rank=rank_j, singular_values=tuple(float(s) for s in sv),
        hessian_nullity=spectrum.nullity, hessian_eigenvalues=tuple(float(v) for v in spectrum.eigenvalues),
        n_negative=spectrum.n_negative, kernel_dim=kernel, theory_rank=theory_r,
        theory_dimension=None if theory_r is None else k - theory_r, paper_dimension=k - n,
        theory_dependent=dependent, gauss_newton_gap=gn_gap, jacobian_agreement=agreement,
        radius_random=float(np.mean(radii)), radius_random_std=float(np.std(radii)), radius_null=radius_null,
        radius_censored=cens, nullity_matches_kernel=spectrum.nullity == kernel,
        nullity_matches_theory=None if theory_r is None else spectrum.nullity == k - theory_r,
        seconds=time.perf_counter() - start)
    return row, note


def run_compare(config: CompareConfig, progress: Progress | None = None) -> CompareResult:
    """Return the sweep's measurements: train each width to zero square loss, compare nullity with K − r.

    Data: N points from `theory.network.data.random_data` (or `planted_data`, targets of a random network
    of the widest spec) with `config.seed`; the same points for every width.
    """
    start = time.perf_counter()
    base = config.spec(config.widths[0])
    if config.data == "random":
        data = random_data(base, config.n_points, config.seed)
    else:
        data, _ = planted_data(config.spec(max(config.widths)), config.n_points, config.seed)
    X = torch.as_tensor(data.X_float)
    Y = torch.as_tensor(data.Y_float)
    rows, notes = [], []
    for i, h in enumerate(config.widths):
        row, note = measure(config, h, data, X, Y)
        rows.append(row)
        if note:
            notes.append(note)
        report(progress, i + 1, len(config.widths))
    failed = [r.width for r in rows if not r.reached_zero]
    if failed:
        notes.append(f"widths {failed} did not reach Σr² ≤ {config.zero_loss:g}: there ∇²L ≠ 2JᵀJ and the "
                     f"nullity need not equal K − rank J")
    stalled = [r.width for r in rows if r.status == "stalled"]
    if stalled:
        notes.append(f"widths {stalled} stopped on a slope or at negative curvature (not a minimum): "
                     f"more --iters or --restarts may reach zero")
    arch = "-".join([str(base.input_dim)] + ["h"] * (base.depth - 1) + [str(base.output_dim)])
    network = f"fc {arch}" + base.describe()[len(f"fc {'-'.join(map(str, base.widths))}"):]
    return CompareResult(config, network, tuple(rows), config.seed, time.perf_counter() - start,
                         tuple(notes))
