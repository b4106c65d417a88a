"""An atlas of critical-point counts: a product of architectures, one proved (or labelled) row each.

Each row is the number of isolated complex critical points of the penalised square loss
L(w) = Σ_i ‖f(x_i; w) − y_i‖² + Σ_j λ_j w_j² (generic rational λ and targets, `theory.counting.genericity`),
found by per-stratum monodromy (`theory.counting.stratified_count`), proved complete by Macaulay2's exact
per-stratum counts over QQ — or, past the row's Macaulay2 budget, compared with the counts over
ZZ/p (evidence, not proof) — and Krawczyk-certified point by point (double precision, then Arb
balls, `theory.counting.certify_arb`). The product follows Mehta, Chen, Tang, Hauenstein, *The loss surface
of deep linear networks viewed through the algebraic geometry lens* (arXiv:1810.07716): deep
linear networks f(x) = W_{H+1}⋯W_1 x without biases on one data point, H ≤ 3 hidden layers of
widths ≤ 3, input and output dimensions ≤ 3; and one-hidden-layer networks U·P(W x) with a
polynomial activation P (z², z³, z + z²/4) on N ≤ 3 points, the setting of Theory II §3
(T. Poggio, Q. Liao, arXiv:1703.09833) with a penalty that isolates the critical points.

Rows that cannot be computed within the per-row budget are labelled, never guessed: a row whose
sub-architecture (same depth, activation and points, every width at most its own) already ran past
the budget is "not attempted" with that reason (`skip_reason`). Published counts are matched where
they exist (`PUBLISHED`).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Sequence

from landscape_core.errors import InvalidSpecError
from landscape_core.progress import Progress
from landscape_core.serialize import Config, Serializable

LINEAR = "z"
POLYNOMIAL_ACTIVATIONS = ("z^2", "z^3", "z + z^2/4")


@dataclass(frozen=True)
class Architecture(Serializable):
    """One network of the atlas: fc widths (n_0, n_1, …, n_{H+1}), an activation, and N data points.

    Fields:
        widths: input, hidden and output widths.
        activation: the polynomial P ('z' for deep linear networks); no biases, no P on the output.
        points: N, the number of data points.
    """

    widths: tuple[int, ...]
    activation: str = LINEAR
    points: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(v) for v in self.widths))
        if len(self.widths) < 3 or min(self.widths) < 1 or self.points < 1:
            raise InvalidSpecError(f"an atlas architecture needs input, at least one hidden layer and output widths "
                                   f"of at least 1 and N ≥ 1, got {self.widths}, N = {self.points}")

    @property
    def hidden(self) -> int:
        """Return H, the number of hidden layers."""
        return len(self.widths) - 2

    @property
    def family(self) -> str:
        """Return 'deep linear' or 'polynomial'."""
        return "deep linear" if self.activation == LINEAR else "polynomial"

    @property
    def n_weights(self) -> int:
        """Return K = Σ n_{k−1}·n_k (no biases)."""
        return sum(a * b for a, b in zip(self.widths, self.widths[1:]))

    @property
    def key(self) -> str:
        """Return a folder-safe key, e.g. 'linear_1-3-3_N1' or 'z+z2over4_1-2-1_N2'."""
        act = "linear" if self.activation == LINEAR else (
            self.activation.replace(" ", "").replace("^", "").replace("/", "over").replace("*", ""))
        return f"{act}_{'-'.join(map(str, self.widths))}_N{self.points}"

    @property
    def label(self) -> str:
        """Return e.g. 'fc 1-3-3, P = z, N = 1'."""
        return f"fc {'-'.join(map(str, self.widths))}, P = {self.activation}, N = {self.points}"

    def spec(self):
        """Return the `theory.network.spec.NetworkSpec` (no biases, no activation on the output)."""
        from theory.network.activations import parse
        from theory.network.spec import NetworkSpec
        return NetworkSpec(self.widths, parse(self.activation), bias=False, output_activation=False)

    def below(self, other: "Architecture") -> bool:
        """Return whether `other` has this depth, activation and N, and every width at least this one's."""
        return (self.activation == other.activation and self.points == other.points
                and len(self.widths) == len(other.widths) and all(a <= b for a, b in zip(self.widths, other.widths)))


@dataclass(frozen=True)
class Published(Serializable):
    """A published count.

    Fields:
        count: the number of complex critical points stated.
        source: authors, title or arXiv id, and where in the paper.
        checked: whether the value was read from the source here (False: as cited, not re-read).
    """

    count: int
    source: str
    checked: bool = True


MEHTA = "Mehta, Chen, Tang, Hauenstein 2018, arXiv:1810.07716"
BHARADWAJ_HOSTEN = "Bharadwaj, Hoşten 2023, arXiv:2301.12651 (HomotopyContinuation.jl)"
# Mehta et al.'s deep linear counts (widths 2, one data point, generic L2 penalty), as the
# toolkit's earlier `critical` runs and tests reproduced them; the follow-up table's rows as cited.
PUBLISHED: dict[tuple, Published] = {
    ((2, 2), LINEAR, 1): Published(1, MEHTA),
    ((2, 2, 2), LINEAR, 1): Published(33, MEHTA),
    ((2, 2, 2, 2), LINEAR, 1): Published(641, MEHTA),
    ((1, 3, 3), LINEAR, 1): Published(245, BHARADWAJ_HOSTEN, checked=False),
    ((1, 3, 3, 1), LINEAR, 1): Published(977, BHARADWAJ_HOSTEN, checked=False),
}


def published(arch: Architecture) -> Published | None:
    """Return the published count of `arch`, if any."""
    return PUBLISHED.get((arch.widths, arch.activation, arch.points))


@dataclass(frozen=True)
class AtlasConfig(Config):
    """What the atlas covers and how much each row may spend.

    Fields:
        max_hidden: deep linear networks with 1..max_hidden hidden layers.
        max_width: hidden widths 1..max_width.
        max_io: input and output dimensions 1..max_io (deep linear).
        activations: polynomial activations of the one-hidden-layer rows ('' entries ignored).
        poly_max_input, poly_max_output: input and output dimensions of those rows.
        max_points: N = 1..max_points data points for the polynomial rows (deep linear: N = 1).
        seed: the seed of data, penalty and every path (a row is one independent instance).
        row_seconds: monodromy wall budget per row, seconds.
        m2_seconds: Macaulay2's budget over QQ per row, seconds (past it: ZZ/p, evidence).
        m2_fallback_seconds: Macaulay2's budget over ZZ/p per row, seconds.
        bertini_max_paths: the Bertini 2 cross-check runs where its total-degree homotopy has at
            most this many paths (0: never).
        certify: Krawczyk certificates (double, then Arb balls).
    """

    max_hidden: int = 3
    max_width: int = 3
    max_io: int = 3
    activations: tuple[str, ...] = POLYNOMIAL_ACTIVATIONS
    poly_max_input: int = 2
    poly_max_output: int = 1
    max_points: int = 3
    seed: int = 0
    row_seconds: float = 240.0
    m2_seconds: float = 120.0
    m2_fallback_seconds: float = 120.0
    bertini_max_paths: int = 300
    certify: bool = True

    CONFIG_NAME = "atlas config"

    def __post_init__(self) -> None:
        object.__setattr__(self, "activations", tuple(self.activations))
        if min(self.max_hidden, self.max_width, self.max_io, self.max_points) < 1:
            raise InvalidSpecError("the atlas's maximal depth, width, dimensions and points must be at least 1")
        if min(self.row_seconds, self.m2_seconds, self.m2_fallback_seconds) <= 0:
            raise InvalidSpecError("the atlas's budgets must be positive")


def architectures(cfg: AtlasConfig) -> tuple[Architecture, ...]:
    """Return the atlas's architectures, fewest weights first (ties: deep linear first, then by key)."""
    out = []
    for h in range(1, cfg.max_hidden + 1):
        for hidden in itertools.product(range(1, cfg.max_width + 1), repeat=h):
            for n0, ny in itertools.product(range(1, cfg.max_io + 1), repeat=2):
                out.append(Architecture((n0, *hidden, ny), LINEAR, 1))
    for act in (a for a in cfg.activations if a):
        for n0 in range(1, cfg.poly_max_input + 1):
            for width in range(1, cfg.max_width + 1):
                for ny in range(1, cfg.poly_max_output + 1):
                    for n in range(1, cfg.max_points + 1):
                        out.append(Architecture((n0, width, ny), act, n))
    return tuple(sorted(out, key=lambda a: (a.n_weights * a.points, a.family != "deep linear", a.key)))


@dataclass(frozen=True)
class AtlasRow(Serializable):
    """One row of the atlas.

    Fields:
        architecture: the network and N.
        status: 'computed', 'not attempted' (with `reason`) or 'failed' (with `reason`).
        n_weights: K.
        count: distinct isolated complex critical points found (None when not computed).
        real: how many of them are real.
        proof: 'exact over QQ' (Macaulay2's per-stratum counts over QQ attained: a proof),
            'evidence over ZZ/p' (the counts over ZZ/p attained: QQ ran past its budget), or
            'not proved'.
        proved: proof == 'exact over QQ' and the instance is generic.
        completeness: the completeness sentence of the solve (its proof, or why there is none).
        returncode: `theory.counting.stratified_count.CriticalCode` value.
        exact_total: the per-stratum total Macaulay2 gave (over the field of `proof`).
        certified: distinct critical points proved by Krawczyk certificates (double, then Arb).
        certified_double: those certified in double precision alone (before the Arb pass).
        certified_arb: approximations certified only in Arb ball arithmetic.
        independent_count: the count at an independent random instance (Macaulay2 over ZZ/p).
        bertini_count: distinct regular solutions of Bertini 2's total-degree homotopy on the same
            system (None when not run); bertini_note: why not, or its paths and time.
        published: the published count, when there is one; matches_published: count == it.
        seconds: wall time of the row; peak_rss_mb: peak resident memory of the row's process tree, MiB.
        seed: the seed.
        reason: why the row is not attempted, failed, or not proved.
    """

    architecture: Architecture
    status: str
    n_weights: int
    count: int | None = None
    real: int | None = None
    proof: str = "not proved"
    proved: bool = False
    completeness: str = ""
    returncode: str = ""
    exact_total: int | None = None
    certified: int | None = None
    certified_double: int | None = None
    certified_arb: int = 0
    independent_count: int | None = None
    bertini_count: int | None = None
    bertini_note: str = ""
    published: Published | None = None
    matches_published: bool | None = None
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    seed: int = 0
    reason: str = ""

    @property
    def new(self) -> bool:
        """Return whether no published count exists for this row."""
        return self.published is None


def _proof(code: str) -> str:
    from theory.counting.stratified_count import CriticalCode
    return {CriticalCode.COMPLETE.value: "exact over QQ",
            CriticalCode.INSTANCE_ONLY.value: "exact over QQ (non-generic instance)",
            CriticalCode.MODULAR_EVIDENCE.value: "evidence over ZZ/p"}.get(code, "not proved")


def _bertini_check(arch: Architecture, inst, cfg: AtlasConfig) -> tuple[int | None, str]:
    """Return (Bertini 2's distinct regular solutions of the row's critical system, a note)."""
    from theory.homotopy import bertini
    from theory.counting.critical_points import critical_system
    from theory.network.equations import CriticalSystem

    if cfg.bertini_max_paths <= 0:
        return None, "not asked"
    if not bertini.available():
        return None, "Bertini 2 not installed (pip install bertini2)"
    system = critical_system(CriticalSystem(arch.spec(), inst.data, inst.penalty))
    paths = 1
    for d in system.degrees():
        paths *= d
    if paths > cfg.bertini_max_paths:
        return None, f"total degree {paths:,} paths > {cfg.bertini_max_paths:,}"
    res = bertini.solve_bertini(system, seed=cfg.seed, certify=False, mixed_volume=False)
    return res.n_solutions, f"{res.n_paths} paths, {res.seconds:.1f} s"


def atlas_row(arch: Architecture, cfg: AtlasConfig, progress: Progress | None = None) -> AtlasRow:
    """Return the atlas row of `arch`: its count by per-stratum monodromy, the proof, certificates, checks.

    Budgets: `cfg.row_seconds` for the monodromy, `cfg.m2_seconds` for Macaulay2 over QQ, then
    `cfg.m2_fallback_seconds` over ZZ/p (`theory.counting.stratified_count.StrataConfig`).
    """
    from landscape_core.memory import PeakMemory
    from theory.counting.critical_points import strata_route
    from theory.counting.stratified_count import StrataConfig, critical_monodromy, make_instance
    from theory.network.equations import ExpansionTooLarge

    spec = arch.spec()
    pub = published(arch)
    base = AtlasRow(arch, "computed", arch.n_weights, published=pub, seed=cfg.seed)
    why = strata_route(spec, "generic", None)
    if why is not None:
        return replace(base, status="not attempted", reason=f"no per-stratum route: {why}")
    t0 = time.perf_counter()
    config = StrataConfig(certify=cfg.certify, budget=replace(StrataConfig.budget, max_seconds=cfg.row_seconds),
                          total_seconds=cfg.row_seconds,
                          m2_timeout=cfg.m2_seconds, m2_fallback_timeout=cfg.m2_fallback_seconds)
    with PeakMemory() as mem:
        try:
            m = critical_monodromy(spec, arch.points, seed=cfg.seed, config=config, progress=progress)
        except ExpansionTooLarge as exc:
            return replace(base, status="not attempted", reason=f"the critical system is too large to expand: {exc}",
                           seconds=time.perf_counter() - t0)
        inst = make_instance(spec, arch.points, cfg.seed, False, None)
        b_count, b_note = _bertini_check(arch, inst, cfg)
    cert = m.certification
    code = m.returncode.value
    proof = _proof(code)
    row = replace(base, count=m.n_isolated, real=m.n_real, proof=proof, proved=m.returncode.is_success,
                  completeness=m.completeness, returncode=code, exact_total=m.exact_total,
                  certified=None if cert is None else cert.n_distinct,
                  certified_double=None if cert is None else cert.n_certified - cert.n_high_precision,
                  certified_arb=0 if cert is None else cert.n_high_precision,
                  independent_count=m.genericity.independent_count if m.genericity else None,
                  bertini_count=b_count, bertini_note=b_note,
                  matches_published=None if pub is None else m.n_isolated == pub.count,
                  seconds=time.perf_counter() - t0, peak_rss_mb=mem.peak_mb)
    if not row.proved:
        row = replace(row, reason=m.completeness)
    return row


def over_budget(row: AtlasRow, cfg: AtlasConfig) -> bool:
    """Return whether a computed row ran past its budget without a proof (its larger relatives are then skipped).

    A failed row (an error, recorded with its traceback) skips nothing: it is a fault to fix, not a
    measurement of cost.
    """
    return row.status == "computed" and not row.proved and row.seconds >= cfg.row_seconds


def skip_reason(arch: Architecture, done: Sequence[AtlasRow], cfg: AtlasConfig) -> str | None:
    """Return why `arch` is not attempted (a smaller relative already exceeded the budget), or None."""
    for row in done:
        if row.architecture != arch and row.architecture.below(arch) and over_budget(row, cfg):
            return (f"not attempted: its sub-architecture {row.architecture.label} already ran past the per-row "
                    f"budget ({cfg.row_seconds:g} s monodromy, {cfg.m2_seconds:g} s Macaulay2 over QQ) unproved")
        if row.architecture != arch and row.architecture.below(arch) and row.status == "not attempted" \
                and row.reason.startswith("not attempted"):
            return row.reason
    return None


@dataclass(frozen=True)
class Atlas(Serializable):
    """The atlas: one row per architecture, the conjectures it supports, and totals.

    Fields:
        config: the AtlasConfig.
        rows: one AtlasRow per architecture, in `architectures` order.
        conjectures: closed forms fitted on families of rows and checked on all of them
            (`theory.counting.atlas_patterns`).
        seconds: wall time of this invocation (rows finished earlier are read back, not re-timed).
        counts: rows per status and proof.
    """

    config: AtlasConfig
    rows: tuple[AtlasRow, ...]
    conjectures: tuple = ()
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)


def tally(rows: Sequence[AtlasRow]) -> dict:
    """Return rows per status and per proof, certified-everywhere and published matches."""
    computed = [r for r in rows if r.status == "computed"]
    return {"rows": len(rows), "computed": len(computed),
            "not_attempted": sum(r.status == "not attempted" for r in rows),
            "failed": sum(r.status == "failed" for r in rows),
            "exact_over_QQ": sum(r.proof.startswith("exact over QQ") for r in computed),
            "evidence_over_ZZ_p": sum(r.proof == "evidence over ZZ/p" for r in computed),
            "not_proved": sum(r.proof == "not proved" for r in computed),
            "all_certified": sum(r.certified is not None and r.certified == r.count for r in computed),
            "published": sum(r.published is not None for r in rows),
            "published_matched": sum(bool(r.matches_published) for r in rows)}
