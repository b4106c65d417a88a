"""The papers' experiments, one module per figure or table, behind one contract.

Every module in this package defines `EXPERIMENTS`, a tuple of `Experiment`s; `registry()` finds
them all (no central list to edit). An experiment's `run(ctx)` receives an `ExperimentContext` —
scale preset, seed, device, data folder, run folder, progress callback — does its work in named
stages (`ctx.stage(name, fn)`: a finished stage is read back from `stages/<name>.json` instead of
being recomputed, so an interrupted experiment continues where it stopped), draws its figures
into the run folder, and returns an `ExperimentReport`: the claims it tests (quoted from the
paper, with section), the protocol actually run and every deviation from the paper's, the
measured numbers, and one finding per claim (an `Outcome`: held / not held / underpowered / not
testable here, with its estimate, interval, replicates, premise, δ, power and rule version from
`empirics.experiments.verdicts`; or "by construction" for a statistic the design fixes).

Replicates are whole independent runs: `ctx.replicates(n)` gives n `Replicate`s, each with its own
root seed (`Replicate.seed(name)` derives every draw of that run from it) and its own stage and
training folders (`stages/rNN/...`), so no two replicates share data order, initialisation, a
trajectory, a stage or a source model. The report's findings are judged as one family (Holm's
correction across the claims) by `run_experiment`.
`empirics.experiments.report.write_report` renders that as `report.md`.

Scales: `smoke` (real data, ≤ 2 minutes on 2 CPU cores; tested), `cpu` (a meaningful CPU run,
≤ 15 minutes on 2 cores), `paper` (the paper's protocol, for a GPU).
"""
from __future__ import annotations

import importlib
import json
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from landscape_core.progress import Progress, noted
from landscape_core.records import atomic_write_json, read_json_file
from landscape_core.runs import RunDir, open_run
from landscape_core.serialize import Serializable, exact_ints, to_jsonable
from landscape_core.errors import InvalidSpecError
from empirics.scales import SCALES, check_scale, fill_scale_defaults  # noqa: F401 - re-exported for experiments

from empirics.experiments.verdicts import OUTCOMES, Outcome, Verdict, family_findings  # noqa: E402,F401 - the one list


@dataclass(frozen=True)
class Claim(Serializable):
    """A claim of a paper, quoted.

    key: short identifier used by findings (e.g. 'flat-minima').
    paper: 'Theory II' (Poggio & Liao, arXiv:1703.09833), 'Theory IIb' (Zhang et al., CBMM Memo 072),
        or 'Freeman–Bruna' (Freeman & Bruna, arXiv:1611.01540).
    section: section, figure or table, e.g. '§4.2, Fig. 5'.
    quote: the claim in the paper's words.
    """

    key: str
    paper: str
    section: str
    quote: str


@dataclass(frozen=True)
class Finding(Serializable):
    """The verdict on one claim.

    claim: the Claim's key.
    verdict: an `Outcome` value: held, not held, underpowered, not testable here (the premise was not
        reached), or by construction (a statistic the design fixes, reported and not judged).
    reason: the numbers that decide it and the cause, in words built from the decision taken.
    measured: the numbers behind the verdict (JSON-able).
    estimate, interval, replicates, rule: the deciding statistic, its 95 % interval, the number of
        kept independent replicates and the rule's 'name@vN' (empirics.experiments.verdicts); None when
        the finding was not made by the engine.
    interval_holm: the deciding test's interval at its Holm level when the claim has several tests.
    premise, premise_value: the premise in words and each replicate's measured value.
    delta, margin, power: the smallest effect of interest, the null boundary (or band), and the power
        at δ with the measured spread.
    judged: the engine's full Verdict (tests, p-values, family correction); detail: the experiment's
        own sentence appended to the reason.
    """

    claim: str
    verdict: str
    reason: str
    measured: dict = field(default_factory=dict)
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    replicates: int | None = None
    rule: str | None = None
    interval_holm: tuple[float, float] | None = None
    premise: str | None = None
    premise_value: list | None = None
    delta: float | None = None
    margin: float | None = None
    power: float | None = None
    judged: Verdict | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in OUTCOMES:
            raise InvalidSpecError(f"verdict must be one of {OUTCOMES}, got {self.verdict!r}")


@dataclass(frozen=True)
class ExperimentReport(Serializable):
    """What an experiment run found.

    name, title, reference: the experiment's.
    scale, seed: how it was run.
    protocol: the steps actually run, in order (one line each).
    deviations: every way the run differs from the paper's protocol (data, sizes, epochs, widths...).
    claims: the claims tested; findings: one verdict per claim.
    measured: all headline numbers (JSON-able), for `report` and other tools.
    figures: file names (inside the run folder) of the figures drawn, with a caption each.
    seconds: wall time of this invocation (stages read back count as 0).
    """

    name: str
    title: str
    reference: str
    scale: str
    seed: int
    protocol: tuple[str, ...]
    deviations: tuple[str, ...]
    claims: tuple[Claim, ...]
    findings: tuple[Finding, ...]
    measured: dict
    figures: tuple[tuple[str, str], ...]
    seconds: float


@dataclass
class ExperimentContext:
    """What an experiment's `run` receives: the preset, where to write, and stage-level resume.

    scale: 'smoke' | 'cpu' | 'paper'.
    seed: base seed; every stochastic step derives its seed from it (landscape_core.seeds).
    device: torch device string ('auto', 'cpu', 'cuda', 'cuda:1').
    data_dir: root of torchvision's data layout (CIFAR-10, MNIST), for experiments that take it.
    dataset: the data set name chosen by the user, or None for the experiment's default.
    run: the run folder.
    progress: optional progress callback (done, total) for the stage in progress.
    """

    scale: str
    seed: int
    device: str
    data_dir: str
    dataset: str | None
    run: RunDir
    progress: Progress | None = None
    stages_run: list[str] = field(default_factory=list)
    stages_loaded: list[str] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)  # root seeds of every replicate handed out, in order

    def preset(self, presets: dict[str, Any], chosen: Any = None) -> Any:
        """Return this run's preset (`chosen`, else the scale's: `scales.preset_for`), pinned in the run folder.

        The preset is recorded as the stage `preset`; continuing a run made with other sizes is refused
        (CheckpointError), since stage results are cached by name only and would mix two protocols.
        """
        from dataclasses import asdict

        from empirics.scales import preset_for
        from landscape_core.errors import CheckpointError

        preset = preset_for(presets, self.scale, chosen)
        want = json.loads(json.dumps(asdict(preset)))
        got = self.stage("preset", lambda: want)
        if got != want:
            raise CheckpointError(f"{self.run.path} was made with other sizes ({got}); choose another --run name")
        return preset

    def replicates(self, n: int, name: str = "replicate") -> list["Replicate"]:
        """Return n independent replicates: whole runs with root seeds drawn from the base seed by name."""
        from empirics.experiments.verdicts import replicate_seeds

        reps = [Replicate(self, i, root) for i, root in enumerate(replicate_seeds(self.seed, n, name))]
        self.roots.extend(r.root for r in reps if r.root not in self.roots)
        return reps

    def path(self, name: str) -> Path:
        """Return the path of a file inside the run folder."""
        return self.run.file(name)

    def subrun(self, name: str) -> RunDir:
        """Return a run folder nested inside this one (e.g. for one training stage)."""
        return RunDir(self.run.path / "stages", name)

    def stage(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return the JSON-able result of stage `name`: read back if finished, else computed and saved.

        The result is saved atomically as `stages/<name>.json` only after `compute` returns, so a
        stage interrupted half-way is recomputed from its start (training stages resume from their
        own checkpoints inside `subrun(name)`).
        """
        path = self.run.file(f"stages/{name}.json")
        if path.exists():
            self.stages_loaded.append(name)
            return read_json_file(path, what=f"stage result {name}")
        outer = self.progress
        self.progress = noted(outer, name)  # the progress bar names the stage whose count it shows
        try:
            with exact_ints():  # seeds recorded in a stage read back exactly
                value = to_jsonable(compute())
                atomic_write_json(path, value, make_parents=True)
        finally:
            self.progress = outer
        self.stages_run.append(name)
        return json.loads(json.dumps(value))


@dataclass(frozen=True)
class Replicate:
    """One whole independent run inside an experiment: its root seed, its stages and its folders.

    index: 0, 1, ...; root: the root seed (the `seeds` a verdict `Sample` receives).
    Every draw of the run comes from `seed(name)` / `stream(name)` under `root`; its stages are
    `stages/rNN/<name>.json` and its training folders `stages/rNN/<name>/`.
    """

    ctx: ExperimentContext
    index: int
    root: int

    @property
    def tag(self) -> str:
        """Return 'rNN', the prefix of this replicate's stages and folders."""
        return f"r{self.index:02d}"

    def seed(self, name: str) -> int:
        """Return the 63-bit seed of this replicate's stream `name`."""
        from landscape_core.seeds import child_seed

        return child_seed(self.root, name)

    def stream(self, name: str):
        """Return the numpy Generator of this replicate's stream `name`."""
        from landscape_core.seeds import stream

        return stream(self.root, name)

    def stage(self, name: str, compute: Callable[[], Any]) -> Any:
        """Return this replicate's stage `name` (ExperimentContext.stage under `rNN/`)."""
        return self.ctx.stage(f"{self.tag}/{name}", compute)

    def subrun(self, name: str) -> RunDir:
        """Return this replicate's run folder `name` (inside `stages/rNN/`)."""
        return RunDir(self.ctx.run.path / "stages" / self.tag, name)


@dataclass(frozen=True)
class Experiment:
    """One figure or table of a paper, runnable at three scales.

    name: the CLI name (`cli.py experiment NAME`), e.g. 'ii-sgd-stages'.
    title: one line.
    reference: paper and figures, e.g. 'Theory II §4.2, Figs 3–8'.
    claims: the claims it tests.
    run: ExperimentContext → ExperimentReport.
    datasets: data sets it accepts (the first is the default); empty when it needs none.
    """

    name: str
    title: str
    reference: str
    claims: tuple[Claim, ...]
    run: Callable[[ExperimentContext], ExperimentReport]
    datasets: tuple[str, ...] = ()


def registry() -> dict[str, Experiment]:
    """Return every experiment of every module in this package, by name."""
    found: dict[str, Experiment] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("report", "verdicts"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for exp in getattr(module, "EXPERIMENTS", ()):
            if exp.name in found:
                raise RuntimeError(f"two experiments named {exp.name!r}")
            found[exp.name] = exp
    return found


def get(name: str) -> Experiment:
    """Return the experiment called `name` (InvalidSpecError naming the choices otherwise)."""
    exps = registry()
    if name not in exps:
        raise InvalidSpecError(f"unknown experiment {name!r}: `cli.py experiment --list` shows them")
    return exps[name]


def identity(name: str) -> tuple[str, str, str]:
    """Return (name, title, reference) of experiment `name` as its `Experiment` states them: the one place they are
    written (a report takes them from here)."""
    exp = get(name)
    return exp.name, exp.title, exp.reference


def run_experiment(name: str, scale: str = "smoke", seed: int = 0, device: str = "auto", data_dir: str = "data",
                   dataset: str | None = None, out: str = "runs", run_name: str | None = None,
                   progress: Progress | None = None) -> tuple[ExperimentReport, Path]:
    """Run (or continue) experiment `name` in `out/<run_name>` and return its report and report.md path.

    The run folder is locked while in use; its config.json pins the experiment, scale, seed and
    data, so a re-run with the same options continues from the finished stages, and one with other
    options is refused (CheckpointError) instead of mixing results.
    """
    import time

    from empirics.experiments.report import write_report

    exp = get(name)
    check_scale(scale)
    if dataset is not None and exp.datasets and dataset not in exp.datasets:
        raise InvalidSpecError(f"experiment {name} runs on {', '.join(exp.datasets)}, not {dataset!r}")
    config = {"experiment": name, "scale": scale, "seed": seed, "dataset": dataset or (exp.datasets[0] if exp.datasets else None),
              "data_dir": data_dir}
    with open_run(out, run_name or f"{name}-{scale}-seed{seed}", config, seed,
                  extra={"experiment": name, "reference": exp.reference}) as run_dir:
        ctx = ExperimentContext(scale=scale, seed=seed, device=device, data_dir=data_dir,
                                dataset=config["dataset"], run=run_dir, progress=progress)
        t0 = time.perf_counter()
        rep = exp.run(ctx)
        # the report's claims are one family: Holm's correction across them decides the final outcomes
        rep = ExperimentReport(**{**{f: getattr(rep, f) for f in rep.__dataclass_fields__},
                                  "findings": family_findings(rep.findings),
                                  "seconds": time.perf_counter() - t0})
        return rep, write_report(rep, run_dir.path)
