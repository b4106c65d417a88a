"""Benchmark: critical-point counts of deep linear networks (one data point, generic L2 penalty) and their proofs.

Run: .venv/bin/python benchmarks/critical_counts.py [--quick] [--deep]
For each configuration (one hidden layer of width 1 or 2, inputs 1–3, outputs 1–3) and seed 0–3,
runs `critical` (per-stratum monodromy, `theory.counting.stratified_count.critical_monodromy`) and prints
the count found, the generic count, the proof and the wall time. The generic count is determined
independently of the run: Macaulay2 over QQ at an instance drawn from another seed (1000 + the
configuration's index), beside the run's own independent-instance check (over ZZ/p). --deep adds
Mehta, Chen, Tang, Hauenstein's (2,2), (2,2,2), (2,2,2,2) (published 1, 33, 641; the last takes
minutes). --quick runs seeds 0–1 only.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from theory.counting import macaulay2  # noqa: E402
from theory.network.activations import linear  # noqa: E402
from theory.counting.stratified_count import StrataConfig, critical_monodromy  # noqa: E402
from theory.network.data import random_data  # noqa: E402
from theory.counting.genericity import generic_penalty  # noqa: E402
from theory.network.spec import NetworkSpec  # noqa: E402
from theory.network.equations import CriticalSystem  # noqa: E402

PUBLISHED = {(2, 2): 1, (2, 2, 2): 33, (2, 2, 2, 2): 641}  # Mehta et al. 2018, arXiv:1810.07716


def configurations(deep: bool) -> list[tuple[int, ...]]:
    out = [(n0, h, nd) for h in (1, 2) for n0 in (1, 2, 3) for nd in (1, 2, 3)]
    return out + ([w for w in PUBLISHED if w not in out] if deep else [])


def generic_count(widths: tuple[int, ...], index: int) -> int:
    """Return Macaulay2's exact count over QQ at an independent instance (seed 1000 + index)."""
    spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
    seed = 1000 + index
    crit = CriticalSystem(spec, random_data(spec, 1, seed), generic_penalty(spec.n_params, seed))
    inv = macaulay2.ideal_invariants(crit, timeout=1800)
    return inv.degree if inv.dim == 0 else -1


def proof_of(m) -> str:
    code = m.returncode.value
    if m.returncode.is_success:
        return f"{code}: M2 per stratum = {m.exact_total}, indep. ZZ/p = {m.genericity.independent_count}"
    return f"{code}: {m.completeness[:90]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--deep", action="store_true")
    args = ap.parse_args()
    seeds = range(2) if args.quick else range(4)
    print(f"{'widths':12} {'seed':>4} {'count':>6} {'generic':>8} {'agree':>6} {'time s':>7}  proof")
    bad = 0
    for idx, widths in enumerate(configurations(args.deep)):
        gen = PUBLISHED.get(widths) or generic_count(widths, idx)
        spec = NetworkSpec(widths, linear(), bias=False, output_activation=False)
        for seed in ([0] if widths == (2, 2, 2, 2) else seeds):  # 641 points: minutes per seed
            t0 = time.perf_counter()
            m = critical_monodromy(spec, 1, seed=seed, config=StrataConfig(certify=False))
            dt = time.perf_counter() - t0
            ok = m.n_isolated == gen and m.complete
            bad += not ok
            print(f"{str(widths):12} {seed:>4} {m.n_isolated:>6} {gen:>8} {'yes' if ok else 'NO':>6} {dt:>7.1f}  "
                  f"{proof_of(m)}", flush=True)
    print(f"\n{bad} runs differ from the generic count or are not proved complete")


if __name__ == "__main__":
    main()
