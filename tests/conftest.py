"""Shared fixtures: tiny data sets written on the fly in torchvision's on-disk layouts."""
from __future__ import annotations

import pickle
import struct
from pathlib import Path

import sys

import numpy as np
import pytest

CIFAR_PER_BATCH = 8   # images per data_batch_k file (the real files hold 10,000)
CIFAR_TEST = 6


def write_cifar10_layout(root: Path, per_batch: int = CIFAR_PER_BATCH, n_test: int = CIFAR_TEST,
                         seed: int = 0) -> Path:
    """Write data_batch_1..5, test_batch and batches.meta, pickled as in the official archive; return root.

    Labels cycle through 0..9 so every class appears; pixels are seeded uint8 noise with a
    class-dependent brightness so a model can learn something.
    """
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)

    def batch(n: int, offset: int) -> dict:
        labels = [(offset + i) % 10 for i in range(n)]
        data = rng.integers(0, 128, size=(n, 3072), dtype=np.uint8) + (np.array(labels, dtype=np.uint8)[:, None] * 12)
        return {"batch_label": "synthetic", "labels": labels, "data": data.astype(np.uint8),
                "filenames": [f"img{offset + i}.png" for i in range(n)]}

    for k in range(1, 6):
        with open(folder / f"data_batch_{k}", "wb") as fh:
            pickle.dump(batch(per_batch, k * per_batch), fh)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump(batch(n_test, 0), fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                     "horse", "ship", "truck"], "num_cases_per_batch": per_batch,
                     "num_vis": 3072}, fh)
    return root


def write_mnist_layout(root: Path, n_train: int = 20, n_test: int = 10, seed: int = 0) -> Path:
    """Write MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte in the idx format; return root."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
    return root


@pytest.fixture
def cifar_root(tmp_path: Path) -> Path:
    """A data root holding a tiny CIFAR-10 in torchvision's layout (5 × 8 training, 6 test images)."""
    return write_cifar10_layout(tmp_path / "data")


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    """A data root holding a tiny MNIST in torchvision's layout (20 training, 10 test images)."""
    return write_mnist_layout(tmp_path / "data")


@pytest.fixture(autouse=True)
def _one_thread():
    """Keep torch on one thread when a test uses it: the machine is shared, and torch stays unimported
    for the theory-only tests (theory/ never needs it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def one_thread():
    """Run torch on one thread: on a shared 2-core machine two threads contend and run many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
