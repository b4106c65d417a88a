"""Benchmark: exact and randomised ranks at growing sizes, fast methods beside the reference ones.

Run: .venv/bin/python benchmarks/rank.py [--full]
Prints wall times on one core (BLAS and torch limited to one thread) and ratios:
  1. rank mod p: `rank_mod_p` (pure Python) vs `rank_mod_p_fast` (blocked, float64 BLAS on limbs);
  2. the Jacobian mod p: the exact rational forward-mode Jacobian (Duals, reduced mod 2^61 − 1) + its
     pure-Python rank vs `modular_jacobian_rank` (by layers in int64, p = 2^31 − 1);
  3. the randomised rank of the Theory II DCNN (K = 188,810) on N CIFAR-sized inputs.
The reference is skipped where it would take minutes (shown as '—'); --full runs larger ones.
"""
from __future__ import annotations

import os

# one core, as the targets are stated: set before numpy/torch load their thread pools
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from theory.network.activations import relu_legendre  # noqa: E402
from theory.network.data import random_data  # noqa: E402
from theory.bounds.jacobian import modular_jacobian_rank, stable_numerical_jacobian_rank  # noqa: E402
from theory.network.spec import NetworkSpec, forward_point  # noqa: E402
from theory.bounds.rank import FAST_PRIME, rank_mod_p, rank_mod_p_fast  # noqa: E402
from theory.network.rings import PRIME, Dual, fraction_mod  # noqa: E402


def modular_jacobian(spec, data, seed: int) -> list[list[int]]:
    """The reference: forward-mode Duals over F_p (p = 2^61 − 1) at random weights, O(K²) per point."""
    from fractions import Fraction

    k = spec.n_params
    w = np.random.default_rng(seed).integers(1, 1000, size=k)
    duals = [Dual(Fraction(int(v)), [Fraction(int(i == j)) for j in range(k)]) for i, v in enumerate(w)]
    return [[fraction_mod(g, PRIME) for g in f.grad]
            for x in data.X for f in forward_point(spec, duals, list(x), coerce=lambda c: c)]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ranks_mod_p(full: bool) -> None:
    print("1. rank mod p = 2^31 − 1 of a random residue matrix (full rank) and of a rank-50 product")
    print(f"{'shape':>14} {'kind':>9} {'rank':>6} {'rank_mod_p':>11} {'fast':>8} {'ratio':>8}")
    rng = np.random.default_rng(0)
    rank_mod_p_fast([[1]], FAST_PRIME)  # load sympy's primality test outside the timings
    sizes = [(50, 500), (100, 1000), (200, 2000), (1000, 10_000)] + ([(2000, 10_000)] if full else [])
    for m, n in sizes:
        for kind in ("full", "rank 50"):
            M = (rng.integers(0, FAST_PRIME, (m, n)) if kind == "full"
                 else rng.integers(0, 1000, (m, 50)) @ rng.integers(0, 1000, (50, n)))
            t_fast, r = timed(lambda: rank_mod_p_fast(M, FAST_PRIME))
            if m * n * min(m, n, 50 if kind != "full" else m) <= (4e7 if not full else 4e8):
                t_ref, r_ref = timed(lambda: rank_mod_p(M.tolist(), FAST_PRIME))
                assert r_ref == r
                ref, ratio = f"{t_ref:.2f}s", f"{t_ref / t_fast:.0f}×"
            else:
                ref, ratio = "—", "—"
            print(f"{m:>6}×{n:<7} {kind:>9} {r:>6} {ref:>11} {t_fast:>7.2f}s {ratio:>8}")


def modular_jacobians(full: bool) -> None:
    print("\n2. Jacobian mod p at random weights and its rank (a certified lower bound); stable numerical rank")
    print(f"{'network':<34} {'K':>6} {'N':>5} {'reference':>24} {'fast':>8} {'ratio':>7} "
          f"{'ranks (old, fast, stable)':>26} {'stable':>8}")
    cases = [((2, 2, 3, 4), 8), ((2, 5, 3, 4), 30), ((2, 10, 5, 4), 100), ((2, 100, 3, 4), 1000)]
    if full:
        cases.append(((2, 10, 5, 4), 1000))
    for (n0, width, layers, degree), n in cases:
        spec = NetworkSpec.fully_connected(n0, width, layers, relu_legendre(degree))
        data = random_data(spec, n, 0)
        t_fast, fast = timed(lambda: modular_jacobian_rank(spec, data.X, seed=0))
        t_stab, stab = timed(lambda: stable_numerical_jacobian_rank(spec, data.X, seed=0))
        if spec.n_params * n <= 2_000 or (full and spec.n_params * n <= 40_000):
            t_old, r_old = timed(lambda: rank_mod_p(modular_jacobian(spec, data, 0)))
            old, ratio = f"{t_old:.2f}s", f"{t_old / t_fast:.0f}×"
        else:
            old, ratio, r_old = "—", "—", "—"
        name = f"fc {'-'.join(map(str, spec.widths))}, ℓ={degree}"
        print(f"{name:<34} {spec.n_params:>6} {n:>5} {old:>24} {t_fast:>7.2f}s {ratio:>7} "
              f"{f'{r_old}, {fast.rank}, {stab.rank}':>26} {t_stab:>7.2f}s")


def randomized_cnn(n_images: int) -> None:
    import torch

    from empirics.jacobian_rank import randomized_jacobian_rank
    from empirics.models import PaperCNN

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = PaperCNN().eval()
    X = torch.randn(n_images, 3, 32, 32)
    t, r = timed(lambda: randomized_jacobian_rank(model, X, seed=0, initial_width=32))
    print(f"\n3. randomised rank of the Theory II DCNN (eval mode, float32), N = {n_images} random CIFAR-sized inputs")
    print(f"   K = {r.cols:,}, rows N·10 = {r.rows}, widths tried {r.widths_tried}: rank {r.rank} "
          f"(tol {r.tolerance:.2e}, gap {r.gap:.3g}, capped {r.capped}) in {t:.1f}s — {r.proves}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger sizes, and the references where they take minutes")
    parser.add_argument("--images", type=int, default=10, help="inputs for the DCNN sketch (rows = 10 × images)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; timings on one thread\n")
    ranks_mod_p(args.full)
    modular_jacobians(args.full)
    randomized_cnn(args.images)


if __name__ == "__main__":
    main()
