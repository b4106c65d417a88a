"""GPU checks of empirics.train (run with `pytest -m gpu -s` on a machine with CUDA; skipped elsewhere).

They check that the fast paths compute the slow path's numbers on the GPU (vmap, grouped and loop;
channels_last and torch.compile) and print the paper-scale epoch times that benchmarks/train.py
projects from on the CPU.
"""
from __future__ import annotations

import time

import pytest
import torch

from empirics.device import describe_device, synchronize
from empirics.models import PaperCNN
from empirics.train import ModelSpec, TrainConfig, Trajectories, make_optimizer, run_epoch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
K = 8


def _trajectories(mode: str, **kw) -> tuple[Trajectories, torch.optim.Optimizer]:
    models = []
    for seed in range(K):
        torch.manual_seed(seed)
        models.append(PaperCNN(3, 10))
    traj = Trajectories(models, torch.device("cuda"), mode=mode, **kw)
    return traj, make_optimizer(TrainConfig(lr=0.01), list(traj.params.values()), [])


def _steps(traj, opt, x, y, steps: int = 5) -> None:
    g = torch.Generator().manual_seed(0)
    plan = [torch.randint(0, x.shape[0], (traj.k, 100), generator=g).to(x.device) for _ in range(steps)]
    run_epoch(traj, opt, x, y, "cross-entropy", 10, plan)


def _data(n: int = 2_000):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, 32, 32, generator=g).to("cuda"), torch.randint(0, 10, (n,), generator=g).to("cuda")


def test_vmap_grouped_and_loop_train_the_same_weights_on_cuda():
    """Five SGD steps of K = 8 DCNNs: vmap and grouped end within 1e-4 (relative) of the loop's weights (TF32 off)."""
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    x, y = _data()
    finals = {}
    for mode in ("loop", "vmap", "grouped"):
        traj, opt = _trajectories(mode)
        _steps(traj, opt, x, y)
        finals[mode] = traj.flat()
    for mode in ("vmap", "grouped"):
        torch.testing.assert_close(finals[mode], finals["loop"], atol=1e-5, rtol=1e-4)


def test_channels_last_and_compile_train_the_same_weights_on_cuda():
    """channels_last and torch.compile change speed, not the numbers: weights within float32 rounding of eager NCHW."""
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    x, y = _data()
    traj, opt = _trajectories("grouped")
    _steps(traj, opt, x, y)
    reference = traj.flat()
    for kw in ({"channels_last": True}, {"compile": True}, {"channels_last": True, "compile": True}):
        traj, opt = _trajectories("grouped", **kw)
        _steps(traj, opt, x, y)
        torch.testing.assert_close(traj.flat(), reference, atol=1e-5, rtol=1e-4)


def test_print_paper_scale_epoch_times():
    """Print one CIFAR-sized epoch (50,000 synthetic images) per mode; the claim checked is only that it finishes."""
    x, y = _data(50_000)
    print(f"\n{describe_device(torch.device('cuda'))}")
    for mode, kw in (("loop", {}), ("vmap", {}), ("grouped", {}), ("grouped", {"channels_last": True})):
        traj, opt = _trajectories(mode, **kw)
        _steps(traj, opt, x, y, 3)  # warm-up
        g = torch.Generator().manual_seed(1)
        plan = [torch.randperm(50_000, generator=g)[:K * 100].view(K, 100).to("cuda") for _ in range(500)]
        synchronize(x.device)
        t0 = time.perf_counter()
        run_epoch(traj, opt, x, y, "cross-entropy", 10, plan)
        synchronize(x.device)
        print(f"K={K} {mode}{' channels_last' if kw else ''}: SGD batch-100 epoch {time.perf_counter() - t0:.2f} s")


def test_bf16_mixed_trains_on_cuda(tmp_path):
    """Claim: bf16-mixed autocast trains the DCNN on CUDA: the loss stays finite and falls (refused on the CPU)."""
    import json
    import math

    from empirics.train import train

    cfg = TrainConfig(dataset="digits", subset=150, epochs=2, batch_size=50, save_weights=False,
                      model=ModelSpec(widths=(4, 4, 4, 4)), precision="bf16-mixed")
    result = train(cfg, tmp_path / "bf16", device="cuda")
    first = json.loads((tmp_path / "bf16" / "metrics.json").read_text())["epochs"][0]["train_loss"][0]
    assert math.isfinite(result.final.train_loss[0]) and result.final.train_loss[0] < first
