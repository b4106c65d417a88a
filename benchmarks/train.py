"""Benchmark: Theory II DCNN epochs on CIFAR-10-sized data, K trajectories together vs one after another,
a whole Theory II §4.2 experiment projected from measured steps, and a FLOP-count projection for a GPU.

Run: .venv/bin/python benchmarks/train.py [--device auto] [--big] [--threads N] [--json FILE]
Synthetic 3×32×32 inputs with 10 classes stand in for CIFAR-10 (the cost does not depend on pixel
values). Every timing goes through `empirics.train.run_epoch`, the training loop itself:
  sgd-100   minibatch SGD, batch 100, one trajectory: s per step, projected s per 50,000-image epoch;
  gd-full   one full-batch gradient step over the synthetic set (chunks of ≤ 10,000): projected to 50,000;
  K × sgd   K trajectories trained together (vmap; grouped: groups=K convolutions) against the same K
            one after another (loop); ratio = loop time / together time;
  §4.2      12 stages × 8 trajectories × 10 epochs (SGD batch 100 on 50,000 images, evaluation of
            50,000 train (BN recompute + scoring) and 10,000 test images after every epoch), projected
            from the measured step and forward times of the fastest K-mode;
  FLOPs     forward+backward FLOPs of the DCNN per example (2·MACs forward, ×3 with backward) times
            50,000, against an assumed achievable GPU rate plus a per-step launch floor: a
            projection, never a measurement (--gpu-tflops, --step-floor-ms state the assumption).
Default: 1,000 images, 3 timed steps, K = 8, best of 2 (a few minutes on 2 loaded CPU cores);
--big: 50,000 images, 50 steps, meant for a GPU.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from empirics.device import describe_device, pick_device, synchronize  # noqa: E402
from empirics.models import PaperCNN, count_params  # noqa: E402
from empirics.train import TrainConfig, Trajectories, make_optimizer, run_epoch  # noqa: E402

CIFAR_TRAIN = 50_000


def make_trajectories(k: int, device: torch.device, mode: str) -> tuple[Trajectories, torch.optim.Optimizer]:
    """Return K freshly initialised DCNNs (seeds 0..K−1) as stacked trajectories with a plain SGD optimiser."""
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(PaperCNN(3, 10))
    traj = Trajectories(models, device, mode=mode)
    return traj, make_optimizer(TrainConfig(optimizer="sgd", lr=0.01), list(traj.params.values()), [])


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

    run_epoch(traj, opt, x, y, "cross-entropy", 10, batches(1), gd_chunk)  # warm-up: allocator, cuDNN autotune
    times = []
    for _ in range(repeat):
        plan = batches(steps)
        synchronize(x.device)
        t0 = time.perf_counter()
        run_epoch(traj, opt, x, y, "cross-entropy", 10, plan, gd_chunk)
        synchronize(x.device)
        times.append(time.perf_counter() - t0)
    return min(times)


@torch.no_grad()
def time_forward(traj: Trajectories, x: torch.Tensor, repeat: int) -> float:
    """Return the best time (s) of one eval-mode forward pass of all K trajectories over x (shared input)."""
    traj.train(False)
    traj(x[:10], shared=True)
    times = []
    for _ in range(repeat):
        synchronize(x.device)
        t0 = time.perf_counter()
        traj(x, shared=True)
        synchronize(x.device)
        times.append(time.perf_counter() - t0)
    return min(times)


def dcnn_macs(image: tuple[int, int, int] = (3, 32, 32)) -> int:
    """Return the multiply-adds of one DCNN forward pass on one image (convolutions; BN and ReLU are O(activations))."""
    model = PaperCNN(image[0], 10)
    h, w, macs, c = image[1], image[2], 0, image[0]
    for layer in model.net:
        if isinstance(layer, torch.nn.Conv2d):
            h, w = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
            macs += h * w * layer.out_channels * c * 9
            c = layer.out_channels
    return macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda")
    parser.add_argument("--big", action="store_true", help="50,000 images, 50 steps (GPU scale)")
    parser.add_argument("--examples", type=int, help="synthetic training-set size (default 1,000; --big 50,000)")
    parser.add_argument("--steps", type=int, help="timed SGD steps per repeat (default 3; --big 50)")
    parser.add_argument("--trajectories", type=int, default=8, help="K trained together (default 8, the paper's)")
    parser.add_argument("--repeat", type=int, default=2, help="repeats per measurement (the best is reported)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--gpu-tflops", type=float, default=10.0,
                        help="assumed achievable float32 TFLOP/s of the GPU on these small convolutions (default 10: "
                             "about 15%% of an H100 SXM's 67 TFLOP/s float32 peak)")
    parser.add_argument("--step-floor-ms", type=float, default=0.4,
                        help="assumed per-step floor from kernel launches (~80 launches × 5 µs; default 0.4 ms)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    n = args.examples or (CIFAR_TRAIN if args.big else 1_000)
    steps = args.steps or (50 if args.big else 3)
    k = args.trajectories
    gd_chunk = min(n, 10_000)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print(f"device {describe_device(device)}, torch {torch.__version__}, load average {load:.1f} on "
          f"{os.cpu_count()} cores, DCNN {count_params(PaperCNN()):,} parameters, {n:,} synthetic 3x32x32 images, "
          f"{steps} steps, best of {args.repeat}")
    results: dict = {"device": describe_device(device), "torch": torch.__version__, "load_average": load,
                     "examples": n, "steps": steps, "trajectories": k, "repeat": args.repeat}
    rows = []
    epoch_steps = CIFAR_TRAIN // 100

    traj, opt = make_trajectories(1, device, "loop")
    per_step = time_steps(traj, opt, x, y, 100, steps, args.repeat) / steps
    results["sgd100_step_s"], results["sgd100_epoch_s"] = per_step, per_step * epoch_steps
    rows.append(("sgd-100, K=1", per_step, per_step * epoch_steps))
    t = time_steps(traj, opt, x, y, None, 1, args.repeat, gd_chunk)
    results["gd_full_step_s"], results["gd_full_epoch_s"] = t, t * CIFAR_TRAIN / n
    rows.append((f"gd-full ({n:,} imgs), K=1", t, t * CIFAR_TRAIN / n))

    timings, forward = {}, {}
    for mode in ("loop", "vmap", "grouped"):
        traj, opt = make_trajectories(k, device, mode)
        timings[mode] = time_steps(traj, opt, x, y, 100, steps, args.repeat) / steps
        forward[mode] = time_forward(traj, x[:min(n, 1_000)], args.repeat) / min(n, 1_000)
        rows.append((f"sgd-100, K={k}, {mode}", timings[mode], timings[mode] * epoch_steps))
    best = min(("vmap", "grouped"), key=timings.get)
    for mode in ("loop", "vmap", "grouped"):
        results[f"k_sgd100_{mode}_step_s"] = timings[mode]
    results["together_speedup"] = {m: timings["loop"] / timings[m] for m in ("vmap", "grouped")}
    results["k_vs_single"] = {m: timings[m] / (k * per_step) for m in timings}

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measurement':<{width}}  {'s per step':>11}  {'CIFAR-10 epoch (50,000 images)':>31}")
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:11.3f}  {b:27.1f} s")
    print(f"\nK={k} together / one after another (loop time ÷ mode time): "
          + ", ".join(f"{m} {results['together_speedup'][m]:.2f}x" for m in ("vmap", "grouped"))
          + f"; loop ÷ {k} lone K=1 steps: {results['k_vs_single']['loop']:.2f}")

    # Theory II §4.2 at paper scale: 12 stages × 8 trajectories × 10 epochs, evaluated every epoch.
    stages, traj_k, epochs = 12, 8, 10
    fastest = min(timings, key=timings.get)
    step8 = timings[fastest] * traj_k / k
    eval_per_epoch = forward[fastest] * traj_k / k * (2 * CIFAR_TRAIN + 10_000)
    exp_s = stages * epochs * (epoch_steps * step8 + eval_per_epoch)
    exp_sub = stages * epochs * (epoch_steps * step8) + stages * eval_per_epoch * (2 * CIFAR_TRAIN + 1_000) / (
        2 * CIFAR_TRAIN + 10_000)
    results["theory2_sgd_paper_projected_s"] = exp_s
    results["theory2_sgd_paper_projected_eval_last_s"] = exp_sub
    print(f"\nTheory II §4.2 at paper scale ({stages} stages × {traj_k} trajectories × {epochs} epochs, CIFAR-10), "
          f"projected from the measured {fastest} steps: {exp_s / 3600:.1f} h evaluating every epoch "
          f"({eval_per_epoch:.1f} s per evaluation), {exp_sub / 3600:.1f} h with --eval-every {epochs} "
          f"--test-subset 1000")

    # FLOP projection for a GPU (not a measurement).
    macs = dcnn_macs()
    flops_train = 3 * 2 * macs  # forward 2·MACs; backward ≈ 2× forward
    rate, floor = args.gpu_tflops * 1e12, args.step_floor_ms * 1e-3
    sgd1 = epoch_steps * (floor + 100 * flops_train / rate)
    gd = CIFAR_TRAIN * flops_train / rate + floor * 5  # five chunks of 10,000
    sgd8 = epoch_steps * (floor + 800 * flops_train / rate)
    ev = traj_k * (2 * CIFAR_TRAIN + 10_000) * 2 * macs / rate
    exp_gpu = stages * epochs * (sgd8 + ev)
    results["gpu_projection"] = {"assumed_tflops": args.gpu_tflops, "step_floor_ms": args.step_floor_ms,
                                 "forward_macs_per_image": macs, "train_flops_per_image": flops_train,
                                 "sgd100_epoch_s": sgd1, "gd_full_epoch_s": gd, "k8_together_epoch_s": sgd8,
                                 "k8_together_speedup": 8 * sgd1 / sgd8, "theory2_sgd_s": exp_gpu}
    print(f"\nPROJECTION (not measured) for a GPU at {args.gpu_tflops:g} TFLOP/s achievable on these convolutions "
          f"and a {args.step_floor_ms:g} ms floor per step: DCNN {macs / 1e6:.2f} M MACs forward per image, "
          f"{flops_train / 1e6:.1f} MFLOP forward+backward, {CIFAR_TRAIN * flops_train / 1e12:.2f} TFLOP per epoch")
    print(f"  sgd-100 epoch {sgd1:.2f} s (target ≤ 0.5) | gd-full epoch {gd:.3f} s (target ≤ 0.1) | "
          f"K=8 together {sgd8:.2f} s vs {8 * sgd1:.2f} s one after another = {8 * sgd1 / sgd8:.1f}x (target ≥ 5) | "
          f"Theory II §4.2 {exp_gpu / 60:.1f} min")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
