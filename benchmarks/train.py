"""Benchmark: epoch time of the Theory II DCNN on CIFAR-sized data, and K trajectories vmapped vs one after another.

Run: .venv/bin/python benchmarks/train.py [--device auto] [--big] [--json FILE]
Synthetic 3×32×32 inputs with 10 classes stand in for CIFAR-10 (the cost does not depend on pixel
values). Every timing goes through `empirics.train.run_epoch`, the training loop itself:
  sgd-100   minibatch SGD, batch 100, one trajectory: ms per step, projected seconds per 50,000-image epoch;
  gd-full   one full-batch gradient step over the synthetic set: projected seconds per 50,000-image step;
  K × sgd   K trajectories trained together with torch.func.vmap against the same K one after another
            (the same loop with parallel='loop'); the ratio is sequential time / vmapped time.
Default: 1,000 images, 5 timed steps, K = 4 (well under 2 minutes on 2 CPU cores); --big: 50,000
images, 50 steps, K = 8 (the paper's 8 parallel trajectories), meant for a GPU.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from empirics.device import describe_device, pick_device, synchronize  # noqa: E402
from empirics.models import PaperCNN, count_params  # noqa: E402
from empirics.train import TrainConfig, Trajectories, make_optimizer, run_epoch  # noqa: E402

CIFAR_TRAIN = 50_000


def make_trajectories(k: int, device: torch.device, vectorize: bool) -> tuple[Trajectories, torch.optim.Optimizer]:
    """Return K freshly initialised DCNNs (seeds 0..K−1) as stacked trajectories with a plain SGD optimiser."""
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(PaperCNN(3, 10))
    traj = Trajectories(models, device, vectorize=vectorize)
    config = TrainConfig(optimizer="sgd", lr=0.01)
    return traj, make_optimizer(config, list(traj.params.values()), [])


def time_steps(traj: Trajectories, opt, x: torch.Tensor, y: torch.Tensor, batch: int | None, steps: int,
               repeat: int, gd_chunk: int | None = None) -> float:
    """Return the best wall time (s) over `repeat` runs of `steps` optimisation steps (batch None: one full-batch step).

    The minimum, as timeit reports, because on a shared machine other processes only ever add time.
    """
    g = torch.Generator().manual_seed(0)
    n = x.shape[0]

    def batches(count: int):
        if batch is None:
            return None
        return [torch.randint(0, n, (traj.k, batch), generator=g).to(x.device) for _ in range(count)]

    run_epoch(traj, opt, x, y, "cross-entropy", 10, batches(2), gd_chunk)  # warm-up: allocator, cuDNN autotune
    times = []
    for _ in range(repeat):
        plan = batches(steps)
        synchronize(x.device)
        t0 = time.perf_counter()
        run_epoch(traj, opt, x, y, "cross-entropy", 10, plan, gd_chunk)
        synchronize(x.device)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda")
    parser.add_argument("--big", action="store_true", help="50,000 images, 50 steps, K = 8 (GPU scale)")
    parser.add_argument("--examples", type=int, help="synthetic training-set size (default 1,000; --big 50,000)")
    parser.add_argument("--steps", type=int, help="timed SGD steps per repeat (default 5; --big 50)")
    parser.add_argument("--trajectories", type=int, help="K for the vmap comparison (default 4; --big 8)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per measurement (the best is reported)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    n = args.examples or (CIFAR_TRAIN if args.big else 1_000)
    steps = args.steps or (50 if args.big else 5)
    k = args.trajectories or (8 if args.big else 4)
    gd_chunk = min(n, 10_000)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)

    print(f"device {describe_device(device)}, torch {torch.__version__}, DCNN {count_params(PaperCNN()):,} parameters, "
          f"{n:,} synthetic 3x32x32 images, best of {args.repeat}")
    results: dict = {"device": describe_device(device), "torch": torch.__version__, "examples": n, "steps": steps,
                     "trajectories": k, "repeat": args.repeat}
    rows = []

    traj, opt = make_trajectories(1, device, vectorize=True)
    t = time_steps(traj, opt, x, y, 100, steps, args.repeat)
    per_step = t / steps
    results["sgd100_step_s"] = per_step
    results["sgd100_epoch_s"] = per_step * CIFAR_TRAIN / 100
    rows.append(("sgd-100, K=1", f"{per_step * 1e3:9.1f} ms/step", f"{per_step * CIFAR_TRAIN / 100:8.1f} s/epoch"))

    t = time_steps(traj, opt, x, y, None, 1, args.repeat, gd_chunk)
    results["gd_full_step_s"] = t
    results["gd_full_epoch_s"] = t * CIFAR_TRAIN / n
    rows.append((f"gd-full ({n:,} imgs), K=1", f"{t * 1e3:9.1f} ms/step", f"{t * CIFAR_TRAIN / n:8.1f} s/epoch"))

    timings = {}
    for vectorize in (True, False):
        traj, opt = make_trajectories(k, device, vectorize)
        timings[vectorize] = time_steps(traj, opt, x, y, 100, steps, args.repeat) / steps
        label = "vmap" if vectorize else "one after another"
        rows.append((f"sgd-100, K={k}, {label}", f"{timings[vectorize] * 1e3:9.1f} ms/step",
                     f"{timings[vectorize] * CIFAR_TRAIN / 100:8.1f} s/epoch"))
    results["k_sgd100_vmap_step_s"] = timings[True]
    results["k_sgd100_sequential_step_s"] = timings[False]
    results["vmap_speedup"] = timings[False] / timings[True]
    results["vmap_cost_per_trajectory_vs_single"] = timings[True] / k / per_step

    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'per step':>17}  {'projected CIFAR-10 epoch (50,000 images)':>18}")
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>17}  {b:>18}")
    print(f"\nvmap speed-up for K={k}: {results['vmap_speedup']:.2f}x (sequential / vmapped); "
          f"a vmapped trajectory costs {results['vmap_cost_per_trajectory_vs_single']:.2f}x a lone one")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
