"""Tests for empirics.data: torchvision layouts, integrity checks, subsets, random labels, regression."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from empirics.data import (DataSpec, batch_indices, load_dataset, randomize_labels, read_cifar10, read_mnist,
                           regression_data)
from theory.network.activations import parse
from landscape_core.errors import DataError, InvalidSpecError
from theory.network.spec import NetworkSpec, forward
from conftest import CIFAR_PER_BATCH, CIFAR_TEST


def test_cifar10_layout_reads_every_batch_in_order(cifar_root):
    """read_cifar10 returns the 5 training batches concatenated, labels and pixels as pickled (/255)."""
    xtr, ytr, xte, yte, classes = read_cifar10(cifar_root)
    assert xtr.shape == (5 * CIFAR_PER_BATCH, 3, 32, 32) and xte.shape == (CIFAR_TEST, 3, 32, 32)
    assert classes[0] == "airplane" and len(classes) == 10
    with open(cifar_root / "cifar-10-batches-py" / "data_batch_2", "rb") as fh:
        raw = pickle.load(fh)
    block = slice(CIFAR_PER_BATCH, 2 * CIFAR_PER_BATCH)
    np.testing.assert_array_equal(ytr[block], raw["labels"])
    np.testing.assert_array_equal(xtr[block].reshape(CIFAR_PER_BATCH, -1), raw["data"].astype(np.float32) / np.float32(255))


def test_missing_cifar_file_is_a_data_error_naming_it(cifar_root):
    """Deleting data_batch_3 gives a DataError that names the missing file and the expected folder."""
    (cifar_root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataError, match="data_batch_3") as info:
        read_cifar10(cifar_root)
    assert "cifar-10-batches-py" in str(info.value)
    with pytest.raises(DataError, match="CIFAR-10 not found"):
        read_cifar10(cifar_root / "nowhere")


def test_malformed_cifar_batch_is_rejected(cifar_root):
    """A batch file with images of the wrong shape, or a truncated pickle, is a DataError."""
    path = cifar_root / "cifar-10-batches-py" / "data_batch_1"
    with open(path, "wb") as fh:
        pickle.dump({"data": np.zeros((4, 100), dtype=np.uint8), "labels": [0, 1, 2, 3]}, fh)
    with pytest.raises(DataError, match="3072"):
        read_cifar10(cifar_root)
    path.write_bytes(b"\x80\x04truncated")
    with pytest.raises(DataError, match="cannot read"):
        read_cifar10(cifar_root)


def test_full_size_cifar_batch_is_md5_checked(cifar_root):
    """A batch holding the official 10,000 images must match torchvision's md5; random bytes do not."""
    path = cifar_root / "cifar-10-batches-py" / "data_batch_1"
    with open(path, "wb") as fh:
        pickle.dump({"data": np.zeros((10_000, 3072), dtype=np.uint8), "labels": [0] * 10_000}, fh)
    with pytest.raises(DataError, match="md5"):
        read_cifar10(cifar_root)


def test_mnist_layout_reads_idx_files(mnist_root):
    """read_mnist parses torchvision's MNIST/raw idx files: 20 + 10 images of 28×28, labels 0..9 cycling."""
    xtr, ytr, xte, yte = read_mnist(mnist_root)
    assert xtr.shape == (20, 1, 28, 28) and xte.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(ytr, np.arange(20) % 10)
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    (mnist_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        read_mnist(mnist_root)


def test_digits_default_split_is_stratified_and_normalised():
    """Digits: 1,797 images split 75/25 by the seed, every class in both parts, train pixels mean 0 std 1."""
    data = load_dataset(DataSpec("digits"))
    assert data.n_train + data.x_test.shape[0] == 1797
    assert data.input_shape == (1, 8, 8) and data.num_classes == 10
    assert set(data.y_train.tolist()) == set(range(10)) == set(data.y_test.tolist())
    assert abs(float(data.x_train.mean())) < 1e-5 and abs(float(data.x_train.std()) - 1) < 1e-3
    again = load_dataset(DataSpec("digits"))
    assert torch.equal(data.x_train, again.x_train) and torch.equal(data.y_train, again.y_train)
    other = load_dataset(DataSpec(seed=1))
    assert not torch.equal(data.y_train, other.y_train)


def test_subset_and_random_labels_are_seeded(cifar_root):
    """A subset keeps the asked count; random labels with p = 1 change about 90% of labels, same seed same labels."""
    spec = DataSpec("cifar10", data_dir=str(cifar_root), subset=17, seed=3)
    data = load_dataset(spec)
    assert data.n_train == 17 and data.x_test.shape[0] == CIFAR_TEST
    noisy = load_dataset(DataSpec("digits", random_labels=1.0, seed=5))
    again = load_dataset(DataSpec("digits", random_labels=1.0, seed=5))
    assert torch.equal(noisy.y_train, again.y_train)
    changed = noisy.to_dict()["labels_changed"]
    # Each of ~1,347 labels is redrawn uniformly: P(change) = 0.9, sd of the fraction ≈ 0.008.
    assert 0.86 < changed < 0.94
    assert torch.equal(noisy.y_test, load_dataset(DataSpec("digits", seed=5)).y_test)  # test labels stay true
    with pytest.raises(DataError, match="subset"):
        load_dataset(DataSpec("cifar10", data_dir=str(cifar_root), subset=41))


def test_randomize_labels_fraction_matches_binomial():
    """With p = 0.3 on 10,000 labels the changed fraction is 0.3·0.9 = 0.27 within 5 standard deviations."""
    y = np.zeros(10_000, dtype=np.int64)
    out = randomize_labels(y, 0.3, 10, np.random.default_rng(0))
    frac = float((out != y).mean())
    assert abs(frac - 0.27) < 5 * np.sqrt(0.27 * 0.73 / 10_000)
    np.testing.assert_array_equal(randomize_labels(y, 0.0, 10, np.random.default_rng(0)), y)


def test_batch_indices_cover_every_example_once():
    """One epoch of batches is a permutation of range(n), in chunks of batch_size with a smaller last one."""
    g = torch.Generator().manual_seed(0)
    batches = batch_indices(105, 20, g)
    assert [len(b) for b in batches] == [20] * 5 + [5]
    assert sorted(torch.cat(batches).tolist()) == list(range(105))
    g2 = torch.Generator().manual_seed(0)
    assert all(torch.equal(a, b) for a, b in zip(batches, batch_indices(105, 20, g2)))


def test_regression_targets_are_the_teachers_theory_forward_pass():
    """Regression targets equal theory.network.spec.forward(teacher, w*, x) (noise 0), in float64 exactly."""
    teacher = NetworkSpec.fully_connected(3, 4, 2, parse("z + z^2/4"))
    spec = DataSpec("regression", teacher=teacher.to_dict(), n_train=30, n_test=10, seed=2)
    data = regression_data(spec, dtype=torch.float64)
    x = torch.cat([data.x_train, data.x_test]).numpy()
    y = torch.cat([data.y_train, data.y_test]).numpy()
    np.testing.assert_array_equal(y, forward(teacher, data.teacher_weights, x))
    assert data.task == "regression" and data.output_dim == 1 and float(np.abs(x).max()) <= 1.0


def test_data_spec_rejects_bad_values_and_unknown_keys():
    """Unknown data set names, fractions outside [0, 1] and unknown dict keys are InvalidSpecErrors."""
    with pytest.raises(InvalidSpecError):
        DataSpec("imagenet")
    with pytest.raises(InvalidSpecError):
        DataSpec(random_labels=1.5)
    with pytest.raises(InvalidSpecError, match="colour"):
        DataSpec.from_dict({"name": "digits", "colour": "red"})
    assert DataSpec.from_dict(DataSpec(subset=5).to_dict()) == DataSpec(subset=5)


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST, the default data set


def test_fashion_mnist_is_the_default_and_padded_to_the_dcnn_input():
    """Fashion-MNIST: 60,000 + 10,000 images, 28×28 zero-padded 2 px per side to 32×32, 10 classes of 6,000 each."""
    from empirics.data import read_fashion_mnist

    assert DataSpec().name == "fashion-mnist"
    xtr, ytr, xte, yte = read_fashion_mnist()
    assert xtr.shape == (60_000, 1, 28, 28) and xte.shape == (10_000, 1, 28, 28)
    assert np.bincount(ytr).tolist() == [6000] * 10 and np.bincount(yte).tolist() == [1000] * 10
    data = load_dataset(DataSpec(subset=500))
    assert data.input_shape == (1, 32, 32) and data.n_train == 500 and data.x_test.shape[0] == 10_000
    assert data.classes[0] == "T-shirt/top"
    # The 2-pixel frame is the zero pixel after standardisation: one constant value, below every image pixel.
    frame = torch.cat([data.x_test[:, :, :2].flatten(), data.x_test[:, :, -2:].flatten(),
                       data.x_test[:, :, :, :2].flatten(), data.x_test[:, :, :, -2:].flatten()])
    assert float(frame.max() - frame.min()) == 0.0 and float(frame[0]) == float(data.x_test.min())
    # Inside the frame the image is the raw one, standardised: a pixel is above the frame value iff it is inked.
    assert torch.equal(data.x_test[:, :, 2:-2, 2:-2] > frame[0], torch.from_numpy(np.array(xte)) > 0)


def test_missing_fashion_mnist_file_is_one_input_file_error_naming_it_and_the_package(tmp_path, monkeypatch):
    """Without the Debian package's files, loading names the missing file and dataset-fashion-mnist."""
    from landscape_core.errors import InputFileError
    from empirics import data as data_module

    monkeypatch.setattr(data_module, "FASHION_MNIST_DIR", tmp_path / "none")
    with pytest.raises(InputFileError, match="train-images-idx3-ubyte.gz.*dataset-fashion-mnist") as info:
        data_module.read_fashion_mnist(tmp_path / "data")
    assert "\n" not in str(info.value)


def test_mnist_is_padded_to_32_like_fashion_mnist(mnist_root):
    """MNIST through load_dataset: the 28×28 idx images sit in the middle of a 32×32 frame."""
    data = load_dataset(DataSpec("mnist", data_dir=str(mnist_root)))
    assert data.input_shape == (1, 32, 32)
    frame = data.x_train[:, :, :2]
    assert float(frame.max() - frame.min()) == 0.0


def test_test_subset_is_a_seeded_choice_that_leaves_the_training_set_alone():
    """test_subset keeps that many test examples, the same ones for the same seed (also after the cache is
    cleared), drawn from the full test set; the training set is the one without test_subset."""
    from empirics.data import clear_data_cache

    full = load_dataset(DataSpec("digits", seed=2))
    part = load_dataset(DataSpec("digits", seed=2, test_subset=50))
    assert part.x_test.shape[0] == 50 and part.y_test.shape == (50,)
    assert torch.equal(part.x_train, full.x_train) and torch.equal(part.y_train, full.y_train)
    # Every kept test image is one of the full test set's, each at most once.
    matches = (part.x_test.flatten(1)[:, None, :] == full.x_test.flatten(1)[None]).all(-1)
    assert torch.equal(matches.sum(1), torch.ones(50, dtype=torch.long))
    assert part.to_dict()["spec"]["test_subset"] == 50 and part.to_dict()["n_test"] == 50
    clear_data_cache()
    again = load_dataset(DataSpec("digits", seed=2, test_subset=50))
    assert again is not part and torch.equal(again.x_test, part.x_test)
    other = load_dataset(DataSpec("digits", seed=3, test_subset=50))
    assert not torch.equal(other.y_test, part.y_test) or not torch.equal(other.x_test, part.x_test)
    with pytest.raises(DataError, match="test subset"):
        load_dataset(DataSpec("digits", test_subset=10_000))
    with pytest.raises(InvalidSpecError, match="test_subset"):
        DataSpec("digits", test_subset=0)


def test_load_dataset_builds_each_data_set_once_per_process(monkeypatch):
    """A second load_dataset with the same spec, device and dtype returns the same tensors without reading again."""
    from empirics import data as data_module

    data_module.clear_data_cache()
    first = load_dataset(DataSpec("digits", seed=7))
    calls = []
    monkeypatch.setattr(data_module, "_build_dataset", lambda *a: calls.append(a))
    assert load_dataset(DataSpec("digits", seed=7)) is first and calls == []
    load_dataset(DataSpec("digits", seed=7), dtype=torch.float64)
    assert len(calls) == 1  # another dtype is another data set
