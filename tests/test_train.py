"""Tests for empirics.train: update rules, trajectories under vmap, checkpoints, kill-and-resume, the CLI."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import cli
from empirics.data import load_dataset
from empirics.models import get_flat
from empirics.train import SGDL, ModelSpec, TrainConfig, load_run, load_trajectory, per_trajectory_loss, train
from landscape_core.errors import CheckpointError
from landscape_core.errors import TrainingDiverged
from landscape_core.errors import InvalidSpecError
from theory.network.activations import parse
from theory.network.spec import NetworkSpec, forward

REPO = Path(__file__).resolve().parents[1]
# A small DCNN (same structure as the paper's, narrower) keeps the CPU tests fast.
SMALL_CNN = dict(model=ModelSpec("paper-cnn", widths=(8, 8, 8, 8)))


def _small_cnn(**kw) -> ModelSpec:
    return ModelSpec("paper-cnn", widths=(8, 8, 8, 8), **kw)


def _final_state(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=False)


def _numbers(metrics: list[dict]) -> list[dict]:
    """The recorded measurements without wall-clock times (which legitimately differ between runs)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in metrics]


def _regression_config(activation: str = "z + z^2/4", **kw) -> TrainConfig:
    """A theory network 3-4-1 with P = `activation`, trained on regression data planted by the same network."""
    network = NetworkSpec((3, 4, 1), parse(activation), output_activation=False)
    base = dict(dataset="regression", model=ModelSpec.theory(network), teacher=network, n_train=12,
                n_test=6, dtype="float64", eval_batch=64)
    base.update(kw)
    return TrainConfig(**base)


def test_gd_step_is_w_minus_lr_times_finite_difference_gradient(tmp_path):
    """One full-batch GD step equals w0 − γ ∇L(w0), L(w) = mean ‖f(x; w) − y‖², ∇ by central differences of theory's forward."""
    config = _regression_config(optimizer="gd", epochs=1, lr=0.05)
    train(config, tmp_path / "gd", device="cpu")
    epochs, W = load_trajectory(tmp_path / "gd")
    w0, w1 = W[0, 0].numpy(), W[1, 0].numpy()
    data = load_dataset(config.data_spec(), dtype=torch.float64)
    spec = config.model.network
    X, Y = data.x_train.numpy(), data.y_train.numpy()
    loss = lambda w: float(((forward(spec, w, X) - Y) ** 2).sum(1).mean())  # noqa: E731
    h = 1e-6
    grad = np.array([(loss(w0 + h * e) - loss(w0 - h * e)) / (2 * h) for e in np.eye(len(w0))])
    np.testing.assert_allclose(w1, w0 - 0.05 * grad, rtol=0, atol=1e-8)
    assert epochs == [0, 1]
    # The student does not start at the planted teacher (same integer seed for data and init).
    assert np.linalg.norm(grad) > 1e-3 and not np.allclose(w0, data.teacher_weights)


def test_sgdl_noise_has_the_scheduled_variance():
    """With zero gradient, SGDL adds γ′_t W_t, γ′_t = γ′_0 (1+t)^−d: after 3 steps std = γ′_0 √(1 + 2^−2d + 3^−2d)."""
    p = torch.zeros(2, 200_000, requires_grad=True)
    gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    opt = SGDL([p], lr=0.1, noise=0.01, decay=0.5, generators=gens)
    for _ in range(3):
        p.grad = torch.zeros_like(p)
        opt.step()
    expected = 0.01 * math.sqrt(1 + 1 / 2 + 1 / 3)
    # Relative standard error of a sample std over 2e5 draws is 1/sqrt(4e5) = 0.0016; allow 5 of them.
    for k in range(2):
        assert abs(float(p[k].detach().std()) / expected - 1) < 0.008
        assert abs(float(p[k].detach().mean())) < 5 * expected / math.sqrt(200_000)
    assert not torch.equal(p[0], p[1])  # each trajectory has its own noise stream
    assert opt.state_dict()["sgdl_t"] == 3


def test_trajectories_trained_together_equal_separate_runs(tmp_path):
    """K = 2 trajectories under vmap (with batch norm) give the weights and BN statistics of two K = 1 runs, seeds s and s+1."""
    common = dict(dataset="digits", subset=300, epochs=2, batch_size=50, optimizer="sgd", momentum=0.9,
                  save_weights=False, **SMALL_CNN)
    train(TrainConfig(trajectories=2, seed=4, parallel="vmap", **common), tmp_path / "vmap")
    train(TrainConfig(trajectories=2, seed=4, parallel="loop", **common), tmp_path / "loop")
    for k in range(2):
        train(TrainConfig(trajectories=1, seed=4 + k, **common), tmp_path / f"single{k}")
    together, loop = _final_state(tmp_path / "vmap"), _final_state(tmp_path / "loop")
    for k in range(2):
        alone = _final_state(tmp_path / f"single{k}")
        for group in ("params", "buffers"):
            for name, t in alone[group].items():
                if t.dtype.is_floating_point:
                    torch.testing.assert_close(together[group][name][k], t[0], atol=2e-5, rtol=1e-4)
                    torch.testing.assert_close(loop[group][name][k], t[0], atol=0, rtol=0)
                else:
                    assert torch.equal(together[group][name][k], t[0])  # num_batches_tracked
    assert together["buffers"]["net.1.running_var"].shape == (2, 8)


def test_interrupted_run_resumes_to_bitwise_identical_weights(tmp_path):
    """A run interrupted mid-epoch and resumed ends with exactly the weights, optimiser state and metrics of an unbroken run."""
    config = TrainConfig(dataset="digits", subset=200, epochs=4, batch_size=40, optimizer="sgdl", momentum=0.5,
                         sgdl_noise=1e-3, trajectories=2, parallel="vmap", **SMALL_CNN)
    train(config, tmp_path / "whole")

    def stop(epoch: int, step: int) -> None:
        if epoch == 3 and step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "broken", callback=stop)
    assert _final_state(tmp_path / "broken")["epoch"] == 2
    result = train(config, tmp_path / "broken", resume=True)
    assert result.resumed_from == 2 and result.epochs == 4
    a, b = _final_state(tmp_path / "whole"), _final_state(tmp_path / "broken")
    for group in ("params", "buffers"):
        for name in a[group]:
            assert torch.equal(a[group][name], b[group][name]), name
    assert _numbers(a["metrics"]) == _numbers(b["metrics"])
    momentum_a = [s["momentum_buffer"] for s in a["optimizer"]["state"].values()]
    momentum_b = [s["momentum_buffer"] for s in b["optimizer"]["state"].values()]
    assert all(torch.equal(x, y) for x, y in zip(momentum_a, momentum_b))


def test_killed_cli_run_resumes_to_bitwise_identical_weights(tmp_path):
    """SIGKILL of `cli.py train` after its second epoch, then --resume: final weights equal an unbroken run's bit for bit."""
    args = ["--dataset", "digits", "--train-examples", "400", "--epochs", "15", "--batch-size", "20", "--widths", "16,16,16,16",
            "--seed", "3", "--no-progress", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, str(REPO / "cli.py"), "train", "--out", str(tmp_path), *args]
    proc = subprocess.Popen(cmd + ["--run", "killed"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    metrics = tmp_path / "killed" / "metrics.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(json.loads(metrics.read_text())["epochs"]) >= 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    killed_at = _final_state(tmp_path / "killed")["epoch"]
    assert 2 <= killed_at < 15
    # Resumed by name alone: the saved configuration supplies every other flag.
    resumed = subprocess.run([sys.executable, str(REPO / "cli.py"), "train", "--out", str(tmp_path), "--run", "killed",
                              "--resume", "--json", "--no-progress"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout)["resumed_from"] == killed_at
    whole = subprocess.run(cmd + ["--run", "whole"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr[-2000:]
    a, b = _final_state(tmp_path / "whole"), _final_state(tmp_path / "killed")
    assert a["epoch"] == b["epoch"] == 15
    for group in ("params", "buffers"):
        for name in a[group]:
            assert torch.equal(a[group][name], b[group][name]), name
    assert _numbers(a["metrics"]) == _numbers(b["metrics"])


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path):
    """A huge step on P(z) = z² blows up: TrainingDiverged names the epoch, the last good checkpoint stays loadable."""
    config = _regression_config(activation="z^2", optimizer="gd", epochs=50, lr=1e3)
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch (\d+).*checkpoint of epoch") as info:
        train(config, tmp_path / "boom")
    bad_epoch = int(__import__("re").search(r"epoch (\d+)", str(info.value)).group(1))
    run = load_run(tmp_path / "boom")
    assert run.epoch == bad_epoch - 1 and run.status == "diverged"
    assert all(torch.isfinite(get_flat(m)).all() for m in run.models)


def _with_training_set_statistics(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """An independent recomputation: torch's own cumulative average (momentum None) over one batch, x whole."""
    import copy

    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def test_load_run_models_reproduce_the_recorded_metrics(tmp_path):
    """Models from load_run, with batch-norm statistics recomputed on the whole training set, give the final
    recorded train loss and error (1e-5): metrics.json measures the weights, not the lagging running statistics."""
    config = TrainConfig(dataset="digits", subset=150, epochs=2, trajectories=2, **SMALL_CNN)
    train(config, tmp_path / "r")
    run = load_run(tmp_path / "r")
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["evaluation"] == "bn-recompute-train"
    data = load_dataset(run.data_spec)
    final = run.metrics[-1]
    for k, model in enumerate(run.models):
        with torch.no_grad():
            out = _with_training_set_statistics(model, data.x_train)(data.x_train)
        loss = float(torch.nn.functional.cross_entropy(out, data.y_train))
        error = float((out.argmax(1) != data.y_train).double().mean())
        assert abs(loss - final.train_loss[k]) < 1e-5 and abs(error - final.train_error[k]) < 1e-9
    epochs, W = load_trajectory(tmp_path / "r")
    assert epochs == [0, 1, 2] and W.shape == (3, 2, sum(p.numel() for p in run.models[0].parameters()))
    torch.testing.assert_close(W[-1, 1], get_flat(run.models[1]), atol=0, rtol=0)


def test_full_batch_gd_metrics_use_statistics_of_the_evaluated_weights(tmp_path):
    """Full-batch GD with batch norm: the recorded train error equals the one with statistics recomputed on the
    training set (independently, torch's momentum=None), in chunks of eval_batch or whole, and not the one
    of the stored running statistics, which lag behind the weights."""
    config = TrainConfig(dataset="digits", subset=300, optimizer="gd", lr=0.5, epochs=6, eval_batch=100,
                         save_weights=False, **SMALL_CNN)
    train(config, tmp_path / "gd")
    run = load_run(tmp_path / "gd")
    data = load_dataset(run.data_spec)
    model = run.models[0]
    with torch.no_grad():
        recomputed = _with_training_set_statistics(model, data.x_train)(data.x_train).argmax(1)
        stored = model(data.x_train).argmax(1)
    error = float((recomputed != data.y_train).double().mean())
    stale = float((stored != data.y_train).double().mean())
    # Chunks of 100 average the chunks' statistics: the same error up to a few borderline examples.
    assert abs(run.metrics[-1].train_error[0] - error) <= 3 / 300
    assert stale > error + 0.1, (stale, error)


def test_relu_approximation_gets_the_batch_norm_interval_or_is_refused():
    """'relu-legendre:8' after batch norm becomes 'relu-legendre:8:4' (4 standard deviations); in an MLP, with no
    batch norm to fix the scale, it is refused unless the interval is given."""
    assert TrainConfig(model=_small_cnn(activation="relu-legendre:8")).model.activation == "relu-legendre:8:4"
    assert TrainConfig(model=_small_cnn(activation="relu-legendre:8:2")).model.activation == "relu-legendre:8:2"
    with pytest.raises(InvalidSpecError, match="relu-legendre:8:4"):
        TrainConfig(model=ModelSpec("mlp", activation="relu-legendre:8"))
    assert TrainConfig(model=ModelSpec("mlp", activation="relu-legendre:8:3")).model.activation == "relu-legendre:8:3"


def test_non_finite_loss_at_initialisation_is_diverged_and_leaves_nothing_behind(tmp_path):
    """An activation that overflows at the first evaluation ends the run with TrainingDiverged; having no
    checkpoint, it leaves no folder, so the corrected command (another activation, same name) runs."""
    config = TrainConfig(dataset="digits", subset=50, epochs=2, model=_small_cnn(activation="z^100"))
    with pytest.raises(TrainingDiverged):
        train(config, tmp_path / "boom")
    assert not (tmp_path / "boom").exists()
    fixed = TrainConfig(dataset="digits", subset=50, epochs=1, **SMALL_CNN)
    assert train(fixed, tmp_path / "boom").epochs == 1


def test_perturbed_starts_follow_theory_ii_protocol(tmp_path):
    """init_from + perturb 0.01 with 1 unperturbed: trajectory 0 starts at P exactly, trajectory 1 at P + N(0, (0.01·std)²) per tensor."""
    base = dict(dataset="digits", subset=100, batch_size=50, **SMALL_CNN)
    train(TrainConfig(epochs=1, **base), tmp_path / "P")
    p = load_run(tmp_path / "P").models[0]
    train(TrainConfig(epochs=0, trajectories=2, init_from=str(tmp_path / "P"), perturb=0.01, unperturbed=1, **base),
          tmp_path / "stage")
    start = load_run(tmp_path / "stage").models
    assert torch.equal(get_flat(start[0]), get_flat(p))
    w_p = dict(p.named_parameters())
    for name, t in start[1].named_parameters():
        if t.numel() >= 500:
            ratio = float(((t - w_p[name]).std() / w_p[name].std()).detach())
            assert abs(ratio - 0.01) < 0.002, (name, ratio)


def test_config_rejects_unknown_keys_and_mismatched_resume(tmp_path):
    """Unknown config keys, a resume with another lr and a fresh run over an existing one are errors."""
    with pytest.raises(InvalidSpecError, match="colour"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "colour": 1})
    assert TrainConfig.from_dict(TrainConfig(model=ModelSpec(widths=(4, 4))).to_dict()) == TrainConfig(model=ModelSpec(widths=(4, 4)))
    config = TrainConfig(dataset="digits", subset=50, epochs=1, **SMALL_CNN)
    train(config, tmp_path / "r")
    with pytest.raises(CheckpointError, match="already holds a run"):
        train(config, tmp_path / "r")
    with pytest.raises(CheckpointError, match="lr"):
        train(TrainConfig(dataset="digits", subset=50, epochs=2, lr=0.1, **SMALL_CNN), tmp_path / "r", resume=True)
    with pytest.raises(CheckpointError, match="model"):  # another shape: the model spec is pinned
        train(TrainConfig(dataset="digits", subset=50, epochs=2, model=ModelSpec("paper-cnn", widths=(8, 8, 8, 4))),
              tmp_path / "r", resume=True)
    extended = train(TrainConfig(dataset="digits", subset=50, epochs=2, **SMALL_CNN), tmp_path / "r", resume=True)
    assert extended.resumed_from == 1 and extended.epochs == 2


def test_per_trajectory_loss_matches_torch_losses():
    """Stacked losses equal torch's cross-entropy / MSE computed per trajectory."""
    out, y = torch.randn(3, 5, 4, dtype=torch.float64), torch.randint(0, 4, (3, 5))
    ce = per_trajectory_loss(out, y, "cross-entropy", 4)
    mse = per_trajectory_loss(out, y, "mse", 4)
    for k in range(3):
        assert abs(float(ce[k]) - float(torch.nn.functional.cross_entropy(out[k], y[k]))) < 1e-12
        onehot = torch.nn.functional.one_hot(y[k], 4).double()
        assert abs(float(mse[k]) - float(((out[k] - onehot) ** 2).sum(1).mean())) < 1e-12


def test_cli_train_on_cifar10_layout_writes_the_run_folder(tmp_path, cifar_root, capsys):
    """`cli.py train --dataset cifar10` on the tiny layout exits 0 and writes config, metrics, manifest, weights, figure."""
    code = cli.main(["train", "--dataset", "cifar10", "--data-dir", str(cifar_root), "--epochs", "2",
                     "--batch-size", "10", "--widths", "4,4,4,4", "--random-labels", "--out", str(tmp_path),
                     "--run", "tiny", "--no-progress", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    run = tmp_path / "tiny"
    for name in ("config.json", "metrics.json", "manifest.json", "data.json", "checkpoint.pt", "curves.png",
                 "weights/epoch_0002.pt"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "finished" and [r["epoch"] for r in metrics["epochs"]] == [0, 1, 2]
    assert summary["data"]["n_train"] == 40 and summary["data"]["input_shape"] == [3, 32, 32]
    assert json.loads((run / "config.json").read_text())["random_labels"] == 1.0
    assert json.loads((run / "manifest.json").read_text())["seed"] == 0


def test_cli_train_errors_are_one_line(tmp_path, capsys):
    """Missing CIFAR-10 data is exit code 2 with one line naming the missing files."""
    code = cli.main(["train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "data_batch_1" in err and err.count("\n") == 1


# ----------------------------------------------------------------------------------------------
# Longer runs (-m slow) and CUDA runs (-m gpu)

CIFAR_DIR = Path(os.environ.get("CIFAR10_DIR", REPO / "data"))
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.slow
def test_default_digits_run_fits_the_training_set(tmp_path):
    """The `cli.py train` optimisation defaults (full DCNN, SGD batch 100, lr 0.01), 20 epochs on digits, reach < 2%
    train and < 6% test error (the default data set is Fashion-MNIST: digits is named here)."""
    result = train(TrainConfig(dataset="digits", epochs=20), tmp_path / "digits")
    assert result.final.train_error[0] < 0.02 and result.final.test_error[0] < 0.06
    losses = [m["train_loss"][0] for m in json.loads((tmp_path / "digits" / "metrics.json").read_text())["epochs"]]
    assert losses[-1] < 0.2 * losses[0]


@pytest.mark.slow
@pytest.mark.skipif(not (CIFAR_DIR / "cifar-10-batches-py" / "data_batch_1").exists(),
                    reason="real CIFAR-10 not on disk (set CIFAR10_DIR)")
def test_paper_scale_cifar10_one_epoch(tmp_path):
    """One epoch of the 188,810-parameter DCNN on the real CIFAR-10 (md5-checked) beats chance clearly: test error < 70%."""
    result = train(TrainConfig(dataset="cifar10", data_dir=str(CIFAR_DIR), epochs=1, save_weights=False), tmp_path / "c")
    assert result.n_params == 188_810 and result.data["n_train"] == 50_000
    assert result.final.test_error[0] < 0.70


@pytest.mark.gpu
@needs_cuda
def test_cuda_vmap_and_loop_agree_with_the_cpu(tmp_path):
    """On CUDA, K = 2 trajectories vmapped, looped, and the CPU run end at the same weights (float tolerance 1e-4)."""
    common = dict(dataset="digits", subset=300, epochs=2, batch_size=50, trajectories=2, save_weights=False, **SMALL_CNN)
    train(TrainConfig(parallel="vmap", **common), tmp_path / "vmap", device="cuda")
    train(TrainConfig(parallel="loop", **common), tmp_path / "loop", device="cuda")
    train(TrainConfig(parallel="loop", **common), tmp_path / "cpu", device="cpu")
    cpu = _final_state(tmp_path / "cpu")
    for run in ("vmap", "loop"):
        state = _final_state(tmp_path / run)
        for name, t in cpu["params"].items():
            torch.testing.assert_close(state["params"][name].cpu(), t, atol=1e-4, rtol=1e-3)


@pytest.mark.gpu
@needs_cuda
def test_cuda_run_resumes_after_interruption(tmp_path):
    """On CUDA an interrupted SGDL run resumes from its checkpoint and ends where the unbroken run ends (1e-5)."""
    config = TrainConfig(dataset="digits", subset=200, epochs=3, batch_size=40, optimizer="sgdl", trajectories=2,
                         **SMALL_CNN)
    train(config, tmp_path / "whole", device="cuda")

    def stop(epoch: int, step: int) -> None:
        if epoch == 2 and step == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "broken", device="cuda", callback=stop)
    assert train(config, tmp_path / "broken", device="cuda", resume=True).resumed_from == 1
    a, b = _final_state(tmp_path / "whole"), _final_state(tmp_path / "broken")
    for name in a["params"]:
        torch.testing.assert_close(a["params"][name], b["params"][name], atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------------------------
# Runs by name: resume, lock, interruption, starts from other runs

TINY = ["--dataset", "digits", "--train-examples", "60", "--batch-size", "30", "--widths", "4,4,4,4", "--no-progress"]


def _cli(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_resume_by_name_takes_the_saved_config_and_refuses_other_settings(tmp_path, capsys):
    """`--run NAME --resume` alone continues with the saved flags; --epochs extends; a different --lr, another
    network shape or activation (the model spec is pinned), or fewer epochs, is one line and leaves config.json as it was; a misspelt name creates nothing."""
    code, _, err = _cli(["train", *TINY, "--lr", "0.05", "--epochs", "2", "--out", tmp_path, "--run", "r"], capsys)
    assert code == 0, err
    code, out, err = _cli(["train", "--out", tmp_path, "--run", "r", "--resume", "--epochs", "3", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["resumed_from"] == 2 and json.loads(out)["epochs"] == 3
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    assert saved["epochs"] == 3 and saved["lr"] == 0.05 and saved["dataset"] == "digits"
    for argv, word in ((["--lr", "0.01"], "lr"), (["--epochs", "1"], "extend"), (["--dataset", "fashion-mnist"], "dataset"),
                       (["--widths", "4,4,4,8"], "model"), (["--widths", "4,4,4,4", "--activation", "tanh"], "model")):
        code, _, err = _cli(["train", "--out", tmp_path, "--run", "r", "--resume", *argv], capsys)
        assert code == 2 and word in err and err.count("\n") == 1, err
    assert json.loads((tmp_path / "r" / "config.json").read_text()) == saved
    code, _, err = _cli(["train", "--out", tmp_path, "--run", "nope", "--resume"], capsys)
    assert code == 2 and "nope" in err and not (tmp_path / "nope").exists()
    (tmp_path / "empty").mkdir()
    code, _, err = _cli(["train", "--out", tmp_path, "--run", "empty", "--resume"], capsys)
    assert code == 2 and "checkpoint" in err


def test_a_locked_run_folder_refuses_a_second_training_at_once(tmp_path, capsys):
    """While one process holds the run folder, a second identical training exits 2 with one line, writing nothing."""
    from landscape_core.runs import RunDir

    with RunDir(tmp_path, "r").lock():
        code, _, err = _cli(["train", *TINY, "--epochs", "1", "--out", tmp_path, "--run", "r"], capsys)
    assert code == 2 and "in use" in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "config.json").exists()


def test_ctrl_c_marks_the_run_interrupted_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    """A KeyboardInterrupt in epoch 2: exit 130, metrics.json status 'interrupted' with epochs 0–1, one line naming
    `cli.py train --run NAME --resume`; that command then finishes the run."""
    import empirics.train as train_module

    real = train_module.run_epoch
    calls = []

    def interrupted(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(train_module, "run_epoch", interrupted)
    code, _, err = _cli(["train", *TINY, "--epochs", "3", "--out", tmp_path, "--run", "r"], capsys)
    assert code == 130 and err.count("\n") == 1 and f"cli.py train --run r --out {tmp_path} --resume" in err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and [e["epoch"] for e in metrics["epochs"]] == [0, 1]
    code, _, err = _cli(["train", "--run", "r", "--out", tmp_path, "--resume"], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["status"] == "finished"


def test_run_names_outside_the_runs_folder_are_refused(tmp_path, capsys, monkeypatch):
    """`--run ../../escape` is one line and creates no folder."""
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli(["train", *TINY, "--run", "../../escape", "--epochs", "0"], capsys)
    assert code == 2 and "run name" in err and not (tmp_path.parent.parent / "escape").exists()


def test_init_from_an_epoch_and_mean_abs_perturbation(tmp_path, capsys):
    """--init-from RUN:1 starts at that run's epoch-1 weights exactly; --perturb-scale mean_abs adds noise of std
    0.01 · mean|w| per tensor (Theory II App. B); another architecture is one line."""
    assert _cli(["train", *TINY, "--epochs", "2", "--out", tmp_path, "--run", "P"], capsys)[0] == 0
    code, _, err = _cli(["train", *TINY, "--epochs", "0", "--trajectories", "2", "--unperturbed", "1", "--perturb", "0.01",
                         "--perturb-scale", "mean_abs", "--init-from", "P:1", "--out", tmp_path, "--run", "S"], capsys)
    assert code == 0, err
    p1 = load_run(tmp_path / "P", epoch=1).models[0]
    start = load_run(tmp_path / "S").models
    assert torch.equal(get_flat(start[0]), get_flat(p1))
    assert not torch.equal(get_flat(start[0]), get_flat(load_run(tmp_path / "P").models[0]))
    w_p = dict(p1.named_parameters())
    name, t = max(start[1].named_parameters(), key=lambda nt: nt[1].numel())
    ratio = float(((t - w_p[name]).std() / w_p[name].abs().mean()).detach())
    assert abs(ratio - 0.01) < 0.002, ratio
    code, _, err = _cli(["train", *TINY[:-3], "--widths", "4,4,4,8", "--no-progress", "--epochs", "0",
                         "--init-from", tmp_path / "P", "--out", tmp_path, "--run", "X"], capsys)
    assert code == 2 and "cannot start from" in err and err.count("\n") == 1


def test_eval_every_measures_only_the_scheduled_epochs_and_trains_the_same_weights(tmp_path):
    """eval_every = 2 over 5 epochs measures epochs 0, 2, 4 and 5 (the last always), records them in metrics.json,
    and ends at bit-identical weights to evaluating every epoch: evaluation never touches the training state."""
    common = dict(dataset="digits", subset=120, epochs=5, batch_size=40, save_weights=False, **SMALL_CNN)
    train(TrainConfig(**common), tmp_path / "every")
    result = train(TrainConfig(eval_every=2, test_subset=30, **common), tmp_path / "sparse")
    metrics = json.loads((tmp_path / "sparse" / "metrics.json").read_text())
    assert metrics["evaluated_epochs"] == [0, 2, 4, 5] == [m["epoch"] for m in metrics["epochs"]]
    assert metrics["eval_every"] == 2 and metrics["test_subset"] == 30
    assert json.loads((tmp_path / "sparse" / "data.json").read_text())["n_test"] == 30
    assert result.final.epoch == 5
    a, b = _final_state(tmp_path / "every"), _final_state(tmp_path / "sparse")
    for name in a["params"]:
        assert torch.equal(a["params"][name], b["params"][name]), name
    dense = json.loads((tmp_path / "every" / "metrics.json").read_text())
    assert dense["evaluated_epochs"] == [0, 1, 2, 3, 4, 5]
    assert dense["epochs"][4]["train_loss"] == metrics["epochs"][2]["train_loss"]  # epoch 4, same training-set score


def test_cli_train_takes_test_subset_and_eval_every(tmp_path, capsys):
    """`--test-examples 40 --eval-every 3` reach the config: 40 test images, epochs 0, 3, 4 evaluated."""
    code = cli.main(["train", "--dataset", "digits", "--train-examples", "80", "--widths", "8,8,8,8", "--epochs", "4",
                     "--test-examples", "40", "--eval-every", "3", "--out", str(tmp_path), "--run", "r",
                     "--no-progress", "--device", "cpu"])
    assert code == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["eval_every"] == 3
    assert json.loads((tmp_path / "r" / "data.json").read_text())["n_test"] == 40
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["evaluated_epochs"] == [0, 3, 4]


def test_grouped_trajectories_train_the_weights_of_the_loop(tmp_path):
    """parallel='grouped' (one network on K·c channels, groups=K) ends at the loop's weights and BN statistics (K = 2)."""
    common = dict(dataset="digits", subset=200, epochs=2, batch_size=50, momentum=0.9, trajectories=2, seed=1,
                  save_weights=False, **SMALL_CNN)
    grouped = train(TrainConfig(parallel="grouped", **common), tmp_path / "grouped")
    train(TrainConfig(parallel="loop", **common), tmp_path / "loop")
    a, b = _final_state(tmp_path / "grouped"), _final_state(tmp_path / "loop")
    for group in ("params", "buffers"):
        for name, t in b[group].items():
            torch.testing.assert_close(a[group][name], t, atol=2e-5, rtol=1e-4)
    manifest = json.loads((tmp_path / "grouped" / "manifest.json").read_text())
    assert "grouped" in json.dumps(manifest) and grouped.final.train_error is not None


def test_speed_options_keep_the_float32_numbers(tmp_path):
    """channels_last changes memory layout only (weights within float32 rounding); tf32 on the CPU is float32
    (bit-identical); bf16-mixed is refused on the CPU (it diverged there) and for float64 runs
    (its training is checked on CUDA in tests/test_gpu.py)."""
    common = dict(dataset="digits", subset=150, epochs=2, batch_size=50, save_weights=False, **SMALL_CNN)
    train(TrainConfig(**common), tmp_path / "plain")
    train(TrainConfig(channels_last=True, **common), tmp_path / "cl")
    train(TrainConfig(precision="tf32", **common), tmp_path / "tf32")
    with pytest.raises(InvalidSpecError, match="bf16-mixed is for CUDA"):
        train(TrainConfig(precision="bf16-mixed", **common), tmp_path / "bf16", device="cpu")
    plain = _final_state(tmp_path / "plain")["params"]
    for name, t in plain.items():
        torch.testing.assert_close(_final_state(tmp_path / "cl")["params"][name], t, atol=1e-5, rtol=1e-4)
        assert torch.equal(_final_state(tmp_path / "tf32")["params"][name], t)
    with pytest.raises(InvalidSpecError, match="precision"):
        TrainConfig(precision="bf16-mixed", dtype="float64")
    with pytest.raises(InvalidSpecError, match="parallel"):
        TrainConfig(parallel="threads")


def test_a_seed_beyond_2_to_the_63_round_trips_through_config_json_and_reproduces_the_run(tmp_path):
    """Claim: seeds ≥ 2^63 are recorded exactly in config.json; the config read back equals the original and
    trains to the same weights; and the seed is not cut (seed mod 2^64 trains other weights)."""
    big = 2**64 + 7
    config = _regression_config(optimizer="sgd", epochs=2, batch_size=4, seed=big, data_seed=2**70 + 1)
    train(config, tmp_path / "a", device="cpu")
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["seed"] == big and saved["data_seed"] == 2**70 + 1
    again = TrainConfig.from_dict(saved)
    assert again == config
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config  # to_dict keeps seeds exact too
    train(again, tmp_path / "b", device="cpu")
    train(_regression_config(optimizer="sgd", epochs=2, batch_size=4, seed=big % 2**64, data_seed=2**70 + 1),
          tmp_path / "c", device="cpu")
    a, b, c = (load_trajectory(tmp_path / r)[1] for r in ("a", "b", "c"))
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], c[0])
    assert load_run(tmp_path / "b").config.seed == big
