"""Data sets as tensors on the device: Fashion-MNIST (the default), digits, CIFAR-10, MNIST, planted regression.

Every loader returns a `Dataset`: train/test tensors already normalised and moved to the device,
so the training loop batches by indexing (`batch_indices`, a seeded randperm) with no DataLoader
(cifar10-airbench keeps the whole set as one device tensor the same way).

On-disk layouts are torchvision's, under `data_dir`:
    cifar10: data_dir/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}  (pickled dicts)
    mnist:   data_dir/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte            (idx files)
Nothing is downloaded unless `download=True` (then torchvision fetches the archive when a network
exists). Integrity: every file is checked structurally (keys, dtypes, shapes, 10,000 images per
CIFAR batch file or any smaller count for generated test data, labels in 0..9); files holding the
full official counts are also checked against torchvision's md5 list (CIFAR-10 batch files, and
MNIST's .gz archives when present), so a truncated or corrupted download is an error, not a
silently smaller data set.

`fashion-mnist` (the default) is Zalando's 60,000 + 10,000 real 28×28 grey images of 10 clothing
classes, read from Debian's `dataset-fashion-mnist` package (FASHION_MNIST_DIR, gzip idx files;
`setup.sh` installs it) or from data_dir/FashionMNIST/raw/ in torchvision's layout. The 28×28 images
of Fashion-MNIST and MNIST are zero-padded by 2 pixels on each side to 32×32 (LeCun et al. 1998 did
the same for LeNet-5), the input size of Theory II's DCNN: its five stride-2 convolutions then map
32 → 16 → 8 → 4 → 2 → 1 exactly as on CIFAR-10, so every kernel tap of the first four
convolutions sees image pixels. (On 32×32 the last convolution's first kernel row and column only
ever see its zero padding, on CIFAR-10 as here; `empirics.models.gradient_coverage` measures this.)

`digits` is scikit-learn's 1,797 8×8 handwritten digits, shipped with the library: the fastest data
for tests. It is kept at 8×8 on purpose (no padding): the DCNN's third convolution already outputs
1×1 there, so most of its deeper weights never receive a gradient; use it for speed, not for
landscape measurements of the paper's network. `regression` plants targets y = f(x; w*) of a random teacher network (a theory
`NetworkSpec`), so that zero training loss is attainable, the over-parametrised regime of Theory II.

Random labels (Zhang et al. 2017, used by Theory IIb §4): a fraction p of the training labels is
replaced by classes drawn uniformly at random with the data seed; test labels stay true.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from landscape_core.errors import InputFileError
from landscape_core.errors import DataError, InvalidSpecError
from landscape_core.seeds import stream
from landscape_core.serialize import Config
from theory.network.spec import NetworkSpec, forward, init_weights

DATASETS = ("fashion-mnist", "digits", "cifar10", "mnist", "regression")
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR10_META = "batches.meta"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")
FASHION_MNIST_SIZES = {"train": 60_000, "t10k": 10_000}
PAD_TO = 32  # the DCNN's input size (Theory II §4.1, CIFAR-10's 32×32)


@dataclass(frozen=True)
class DataSpec(Config):
    """Which data a run uses; everything needed to rebuild it bit for bit.

    Fields:
        name: 'fashion-mnist' | 'digits' | 'cifar10' | 'mnist' | 'regression'.
        data_dir: root folder holding torchvision's layout (cifar-10-batches-py/, MNIST/raw/, FashionMNIST/raw/).
        subset: number of training examples kept (a seeded random choice), None for all.
        test_subset: number of test examples kept (a seeded random choice from the stream
            "test subset" of `seed`, independent of the training subset), None for all. Evaluation
            cost scales with it: a 64-example run spent 110 of 111 s scoring all 10,000 test images.
        random_labels: fraction p in [0, 1] of training labels replaced by uniform random classes.
        seed: seed of the digits train/test split, the subset, the random labels and regression data.
        download: fetch CIFAR-10/MNIST with torchvision when missing (needs a network).
        test_fraction: digits only: fraction of the 1,797 images held out as the test set.
        teacher: regression only: the teacher network, as `NetworkSpec.to_dict()`.
        n_train: regression only: number of training points.
        n_test: regression only: number of test points.
        input_scale: regression only: inputs are uniform on [−input_scale, input_scale]^{n_0}.
        noise: regression only: standard deviation of Gaussian noise added to the training targets.
    """

    CONFIG_NAME = "data"

    name: str = "fashion-mnist"
    data_dir: str = "data"
    subset: int | None = None
    random_labels: float = 0.0
    seed: int = 0
    download: bool = False
    test_subset: int | None = None
    test_fraction: float = 0.25
    teacher: dict | None = None
    n_train: int = 256
    n_test: int = 256
    input_scale: float = 1.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in DATASETS:
            raise InvalidSpecError(f"unknown data set {self.name!r}: choose one of {', '.join(DATASETS)}")
        if self.subset is not None and self.subset < 1:
            raise InvalidSpecError(f"subset must be a positive number of examples, got {self.subset}")
        if self.test_subset is not None and self.test_subset < 1:
            raise InvalidSpecError(f"test_subset must be a positive number of examples, got {self.test_subset}")
        if not 0.0 <= self.random_labels <= 1.0:
            raise InvalidSpecError(f"random_labels is a fraction in [0, 1], got {self.random_labels}")
        if not 0.0 < self.test_fraction < 1.0:
            raise InvalidSpecError(f"test_fraction must lie in (0, 1), got {self.test_fraction}")
        if self.name == "regression":
            if self.teacher is None:
                raise InvalidSpecError("regression data need a teacher network spec")
            if self.n_train < 1 or self.n_test < 1:
                raise InvalidSpecError("regression needs n_train >= 1 and n_test >= 1")
            if self.random_labels:
                raise InvalidSpecError("random labels apply to classification data, not regression")



# Examples (training, test), shape of one input as loaded, and classes of the image data sets.
IMAGE_SETS = {"fashion-mnist": (60_000, 10_000, (1, PAD_TO, PAD_TO)), "mnist": (60_000, 10_000, (1, PAD_TO, PAD_TO)),
              "cifar10": (50_000, 10_000, (3, 32, 32)), "digits": (1_348, 449, (1, 8, 8))}


def data_shape(spec: DataSpec) -> tuple[int, int, tuple[int, ...], int]:
    """Return (training examples, test examples, shape of one input, outputs) of `spec` without loading it.

    Subsets count as kept; regression data take the teacher's input and output dimensions.
    """
    if spec.name == "regression":
        teacher = spec.teacher or {}
        widths = teacher.get("widths") or [1, 1]
        return spec.n_train, spec.n_test, (int(widths[0]),), int(widths[-1])
    n_train, n_test, shape = IMAGE_SETS[spec.name]
    if spec.name == "digits":
        n_test = round(1_797 * spec.test_fraction)
        n_train = 1_797 - n_test
    return (min(n_train, spec.subset or n_train), min(n_test, spec.test_subset or n_test), shape, 10)


@dataclass(frozen=True)
class Dataset:
    """Train and test tensors on one device, normalised, ready for index batching.

    Fields:
        spec: the DataSpec that produced it.
        x_train: (N, C, H, W) images or (N, n_0) regression inputs, float.
        y_train: (N,) int64 class labels, or (N, n_d) float regression targets.
        x_test, y_test: the same for the test set.
        num_classes: number of classes (None for regression).
        classes: class names (empty for regression).
        true_train_labels: the labels before randomisation (equal to y_train when p = 0; None for regression).
        teacher_weights: regression only: the planted flat weights w* (float64 numpy array).
    """

    spec: DataSpec
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int | None
    classes: tuple[str, ...] = ()
    true_train_labels: torch.Tensor | None = None
    teacher_weights: np.ndarray | None = None

    @property
    def task(self) -> str:
        """Return 'classification' or 'regression'."""
        return "regression" if self.num_classes is None else "classification"

    @property
    def n_train(self) -> int:
        """Return the number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Return the shape of one input, e.g. (3, 32, 32) or (n_0,)."""
        return tuple(self.x_train.shape[1:])

    @property
    def output_dim(self) -> int:
        """Return the number of network outputs: classes, or the target dimension."""
        return int(self.num_classes if self.num_classes is not None else self.y_train.shape[1])

    @property
    def device(self) -> torch.device:
        """Return the device holding the tensors."""
        return self.x_train.device

    def to_dict(self) -> dict:
        """Return a JSON summary (sizes, shapes, label-noise fraction actually realised), no tensors."""
        out = {"spec": self.spec.to_dict(), "task": self.task, "n_train": self.n_train,
               "n_test": int(self.x_test.shape[0]), "input_shape": list(self.input_shape),
               "num_classes": self.num_classes, "classes": list(self.classes)}
        if self.true_train_labels is not None:
            out["labels_changed"] = float((self.true_train_labels != self.y_train).float().mean())
        return out


# ----------------------------------------------------------------------------------------------
# Public entry point


_CACHE_SIZE = 4  # data sets kept per process (CIFAR-10 is 614 MB as float32 on its device)
_cache: dict[tuple[str, str, str], Dataset] = {}


def load_dataset(spec: DataSpec, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Dataset:
    """Return the data set described by `spec`, normalised, on `device` (inputs in `dtype`).

    Images are standardised per channel with the training set's mean and standard deviation
    (computed before subsetting, so a subset sees the same pixel scale as the full set).
    A data set is built and moved to its device once per process: later calls with the same spec,
    device and dtype return the same `Dataset` (its tensors are shared: never modify them in place;
    `clear_data_cache()` frees them). Experiments train every stage on the same data.
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    key = (json.dumps(spec.to_dict(), sort_keys=True), str(device), str(dtype))
    if key in _cache:
        _cache[key] = _cache.pop(key)  # most recently used last
        return _cache[key]
    data = _build_dataset(spec, device, dtype)
    _cache[key] = data
    while len(_cache) > _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    return data


def clear_data_cache() -> None:
    """Forget every data set `load_dataset` keeps (frees their device memory once no run holds them)."""
    _cache.clear()


def _build_dataset(spec: DataSpec, device: torch.device, dtype: torch.dtype) -> Dataset:
    """Return a fresh `load_dataset(spec, device, dtype)` (no cache)."""
    if spec.name == "regression":
        return regression_data(spec, device=device, dtype=dtype)
    if spec.name == "digits":
        xtr, ytr, xte, yte = _digits_arrays(spec.seed, spec.test_fraction)
        classes = tuple(str(i) for i in range(10))
    elif spec.name == "cifar10":
        xtr, ytr, xte, yte, classes = read_cifar10(spec.data_dir, download=spec.download)
    elif spec.name == "fashion-mnist":
        xtr, ytr, xte, yte = (pad_images(a) if a.ndim == 4 else a for a in read_fashion_mnist(spec.data_dir))
        classes = FASHION_MNIST_CLASSES
    else:
        xtr, ytr, xte, yte = (pad_images(a) if a.ndim == 4 else a
                              for a in read_mnist(spec.data_dir, download=spec.download))
        classes = tuple(str(i) for i in range(10))
    # Statistics accumulate in float64; the images stay float32 (CIFAR-10 is 614 MB as float32).
    mean = xtr.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64).astype(xtr.dtype)
    std = (xtr.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64) + 1e-8).astype(xtr.dtype)
    if spec.subset is not None:
        if spec.subset > len(ytr):
            raise DataError(f"subset of {spec.subset} asked from {spec.name}, which has {len(ytr)} training examples")
        keep = np.sort(stream(spec.seed, "training subset").permutation(len(ytr))[:spec.subset])
        xtr, ytr = xtr[keep], ytr[keep]
    true = ytr.copy()
    ytr = randomize_labels(ytr, spec.random_labels, 10, stream(spec.seed, "random labels"))
    if spec.test_subset is not None:
        if spec.test_subset > len(yte):
            raise DataError(f"test subset of {spec.test_subset} asked from {spec.name}, which has {len(yte)} test "
                            f"examples")
        keep = np.sort(stream(spec.seed, "test subset").permutation(len(yte))[:spec.test_subset])
        xte, yte = xte[keep], yte[keep]

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy((x - mean) / std).to(device=device, dtype=dtype)

    as_labels = lambda y: torch.from_numpy(np.array(y, dtype=np.int64)).to(device)  # noqa: E731
    return Dataset(spec, tensor(xtr), as_labels(ytr), tensor(xte), as_labels(yte), 10, classes, as_labels(true))


def randomize_labels(labels: np.ndarray, fraction: float, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Return a copy of `labels` with a random fraction p replaced by uniform classes (Zhang et al. 2017).

    Each label is independently selected with probability p and redrawn uniformly from the
    num_classes classes (so it keeps its value with probability 1/num_classes); p = 1 gives fully
    random labels. The draws use `rng` only, so the same seed gives the same labels.
    """
    labels = np.array(labels, dtype=np.int64, copy=True)
    if fraction <= 0:
        return labels
    chosen = rng.random(len(labels)) < fraction
    labels[chosen] = rng.integers(0, num_classes, size=int(chosen.sum()))
    return labels


def batch_indices(n: int, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Return one epoch of minibatch index tensors: a randperm of range(n) split into chunks of `batch_size`.

    The permutation is drawn on the CPU from `generator` (so the order is the same on every device)
    and moved to `device`; the last batch is smaller when batch_size does not divide n.
    """
    if batch_size < 1:
        raise InvalidSpecError(f"batch size must be positive, got {batch_size}")
    perm = torch.randperm(n, generator=generator).to(device)
    return list(perm.split(batch_size))


# ----------------------------------------------------------------------------------------------
# Embedded digits


def _digits_arrays(seed: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return scikit-learn's digits as (N, 1, 8, 8) float64 images and labels, split with a stratified seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = bunch.images.astype(np.float64)[:, None, :, :] / 16.0
    # scikit-learn takes a 32-bit seed: draw it from the split's own stream of the (any-width) data seed
    split_seed = int(stream(seed, "digits split").integers(2**32))
    xtr, xte, ytr, yte = train_test_split(images, bunch.target.astype(np.int64), test_size=test_fraction,
                                          random_state=split_seed, stratify=bunch.target)
    return xtr, ytr, xte, yte


# ----------------------------------------------------------------------------------------------
# CIFAR-10 in torchvision's layout


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cifar_md5s() -> dict[str, str]:
    from torchvision.datasets import CIFAR10

    table = dict((name, md5) for name, md5 in CIFAR10.train_list + CIFAR10.test_list)
    table[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    return table


def _read_cifar_batch(path: Path, md5: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as fh:
            entry = pickle.load(fh, encoding="latin1")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"cannot read CIFAR-10 file {path}: {exc}") from exc
    data = entry.get("data") if isinstance(entry, dict) else None
    labels = (entry.get("labels", entry.get("fine_labels")) if isinstance(entry, dict) else None)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path} is not a CIFAR-10 batch: expected 'data' as uint8 of shape (n, 3072)")
    labels = np.asarray(labels, dtype=np.int64) if labels is not None else None
    if labels is None or labels.shape != (data.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise DataError(f"{path}: expected {data.shape[0]} labels in 0..9")
    if data.shape[0] > 10_000:
        raise DataError(f"{path} holds {data.shape[0]} images; CIFAR-10 batch files hold 10,000")
    if data.shape[0] == 10_000 and md5 is not None and _md5(path) != md5:
        raise DataError(f"{path} fails its md5 check (expected {md5}): the file is corrupted; delete it and download again")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar10(data_dir: str | os.PathLike, download: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Return CIFAR-10 as (x_train, y_train, x_test, y_test, class names), images float32 in [0, 1], (N, 3, 32, 32).

    Reads torchvision's layout data_dir/cifar-10-batches-py/ (data_batch_1..5, test_batch,
    batches.meta). Missing files raise DataError naming them; with download=True torchvision
    fetches and checks the archive first.
    """
    root = Path(data_dir)
    folder = root / CIFAR10_FOLDER
    needed = CIFAR10_TRAIN + (CIFAR10_TEST, CIFAR10_META)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing and download:
        _torchvision_download("CIFAR10", root)
        missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise DataError(f"CIFAR-10 not found: {folder} lacks {', '.join(missing)} (torchvision layout "
                        f"{CIFAR10_FOLDER}/{{data_batch_1..5, test_batch, batches.meta}}; pass --data-dir, or --download "
                        f"on a machine with a network)")
    md5s = _cifar_md5s()
    parts = [_read_cifar_batch(folder / name, md5s.get(name)) for name in CIFAR10_TRAIN]
    xte, yte = _read_cifar_batch(folder / CIFAR10_TEST, md5s.get(CIFAR10_TEST))
    try:
        with open(folder / CIFAR10_META, "rb") as fh:
            meta = pickle.load(fh, encoding="latin1")
        classes = tuple(str(c) for c in meta["label_names"])
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read {folder / CIFAR10_META}: {exc}") from exc
    if len(classes) != 10:
        raise DataError(f"{folder / CIFAR10_META} lists {len(classes)} classes; CIFAR-10 has 10")
    xtr = np.concatenate([p[0] for p in parts]).astype(np.float32) / np.float32(255)
    ytr = np.concatenate([p[1] for p in parts])
    return xtr, ytr, xte.astype(np.float32) / np.float32(255), yte, classes


def _torchvision_download(name: str, root: Path) -> None:
    import torchvision.datasets as tvd

    try:
        getattr(tvd, name)(str(root), train=True, download=True)
        getattr(tvd, name)(str(root), train=False, download=True)
    except Exception as exc:  # network errors come as URLError, OSError, RuntimeError...
        raise DataError(f"could not download {name} into {root}: {exc}") from exc


# ----------------------------------------------------------------------------------------------
# MNIST in torchvision's layout


def read_mnist(data_dir: str | os.PathLike, download: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return MNIST as (x_train, y_train, x_test, y_test), images float32 in [0, 1], (N, 1, 28, 28).

    Reads torchvision's layout data_dir/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    with torchvision's idx readers (which check the magic numbers); .gz archives beside them are
    checked against torchvision's md5 list.
    """
    root = Path(data_dir)
    raw = root / "MNIST" / "raw"
    missing = [name for name in MNIST_FILES if not (raw / name).is_file()]
    if missing and download:
        _torchvision_download("MNIST", root)
        missing = [name for name in MNIST_FILES if not (raw / name).is_file()]
    if missing:
        raise DataError(f"MNIST not found: {raw} lacks {', '.join(missing)} (torchvision layout MNIST/raw/; pass "
                        f"--data-dir, or --download on a machine with a network)")
    from torchvision.datasets import MNIST
    from torchvision.datasets.mnist import read_image_file, read_label_file

    for archive, md5 in MNIST.resources:
        if (raw / archive).is_file() and _md5(raw / archive) != md5:
            raise DataError(f"{raw / archive} fails its md5 check (expected {md5}); delete it and download again")
    out = []
    for split in ("train", "t10k"):
        try:
            images = read_image_file(str(raw / f"{split}-images-idx3-ubyte")).numpy()
            labels = read_label_file(str(raw / f"{split}-labels-idx1-ubyte")).numpy().astype(np.int64)
        except (AssertionError, RuntimeError, ValueError, OSError) as exc:
            raise DataError(f"cannot read MNIST {split} files in {raw}: {exc}") from exc
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],) \
                or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
            raise DataError(f"MNIST {split} files in {raw} have unexpected shapes {images.shape}, {labels.shape}")
        out += [images[:, None].astype(np.float32) / np.float32(255), labels]
    return tuple(out)  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST (Debian's dataset-fashion-mnist, or torchvision's layout)


def pad_images(images: np.ndarray, size: int = PAD_TO) -> np.ndarray:
    """Return (N, C, H, W) images zero-padded symmetrically to size × size (28 → 32: 2 pixels each side)."""
    h, w = images.shape[2:]
    if h > size or w > size:
        raise DataError(f"images of {h}×{w} do not fit in {size}×{size}")
    top, left = (size - h) // 2, (size - w) // 2
    return np.pad(images, ((0, 0), (0, 0), (top, size - h - top), (left, size - w - left)))


def _fashion_folder(data_dir: str | os.PathLike) -> tuple[Path, str]:
    """Return (folder, file suffix): data_dir/FashionMNIST/raw if complete, else the Debian package's folder."""
    raw = Path(data_dir) / "FashionMNIST" / "raw"
    for suffix in ("", ".gz"):
        if all((raw / (name + suffix)).is_file() for name in MNIST_FILES):
            return raw, suffix
    return FASHION_MNIST_DIR, ".gz"


def _read_idx(path: Path, magic: int, dims: tuple[int, ...] | None, count: int) -> np.ndarray:
    """Return the uint8 array of one idx file (gzip or plain): checked magic number, count and shape."""
    import gzip

    try:
        if not path.is_file():
            raise FileNotFoundError
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InputFileError(f"Fashion-MNIST file {path} is missing: install the Debian package "
                             f"{FASHION_MNIST_PACKAGE} (apt-get install {FASHION_MNIST_PACKAGE}, or run setup.sh)") from None
    except (OSError, EOFError) as exc:
        raise InputFileError(f"cannot read Fashion-MNIST file {path}: {exc}") from None
    ndim = 1 + (len(dims) if dims else 0)
    header = 4 * (1 + ndim)
    head = np.frombuffer(raw[:header], dtype=">u4") if len(raw) >= header else np.zeros(0)
    expected = (count,) + (dims or ())
    if head.size != 1 + ndim or int(head[0]) != magic or tuple(int(v) for v in head[1:]) != expected \
            or len(raw) != header + int(np.prod(expected)):
        raise InputFileError(f"{path} is not the Fashion-MNIST idx file it should be (magic {magic}, shape "
                             f"{expected}): the file is damaged; reinstall {FASHION_MNIST_PACKAGE}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(expected)


def read_fashion_mnist(data_dir: str | os.PathLike = "data") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return Fashion-MNIST as (x_train, y_train, x_test, y_test), images float32 in [0, 1], (N, 1, 28, 28).

    Reads data_dir/FashionMNIST/raw/ (torchvision's layout, plain or .gz) when complete, else
    FASHION_MNIST_DIR (Debian's dataset-fashion-mnist: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz).
    Each file's magic number (2051 images, 2049 labels), count (60,000 train, 10,000 test) and
    image size 28×28 are checked; a missing file is an InputFileError naming it and the package.
    """
    folder, suffix = _fashion_folder(data_dir)
    return _fashion_arrays(str(folder), suffix)


@functools.lru_cache(maxsize=2)
def _fashion_arrays(folder_name: str, suffix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Cached (read-only arrays): decompressing and checking 70,000 images costs seconds, and
    # experiments load the same data for every stage.
    folder = Path(folder_name)
    out = []
    for split, n in FASHION_MNIST_SIZES.items():
        images = _read_idx(folder / f"{split}-images-idx3-ubyte{suffix}", 2051, (28, 28), n)
        labels = _read_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", 2049, None, n).astype(np.int64)
        if labels.max(initial=0) > 9:
            raise InputFileError(f"{folder / f'{split}-labels-idx1-ubyte{suffix}'} holds labels outside 0..9")
        out += [images[:, None].astype(np.float32) / np.float32(255), labels]
    for a in out:
        a.setflags(write=False)
    return tuple(out)  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# Planted regression for theory networks


def regression_data(spec: DataSpec, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Dataset:
    """Return N points x ~ U[−s, s]^{n_0} with targets y = f(x; w*) (+ noise) of a random teacher network.

    The teacher is `theory.network.spec.NetworkSpec.from_dict(spec.teacher)` with weights
    w* = init_weights(teacher, stream(seed, "regression teacher")) (`landscape_core.seeds`; the
    inputs and the noise have the streams "regression inputs" and "regression noise"), and
    f = theory.network.spec.forward (the numpy pass, float64), so
    the targets are exactly the ones theory's polynomial system uses. Gaussian noise of standard
    deviation `spec.noise` is added to the training targets only.
    """
    teacher = NetworkSpec.from_dict(spec.teacher)
    # A stream of its own: a student initialised with init_weights(spec, seed) for the same integer
    # seed would otherwise start exactly at the planted solution w*.
    w_star = init_weights(teacher, stream(spec.seed, "regression teacher"))
    x = stream(spec.seed, "regression inputs").uniform(-spec.input_scale, spec.input_scale, size=(spec.n_train + spec.n_test, teacher.input_dim))
    y = forward(teacher, w_star, x)
    if not np.isfinite(y).all():
        raise DataError("the teacher network's outputs overflow: lower input_scale or the activation degree")
    ytr = y[:spec.n_train] + spec.noise * stream(spec.seed, "regression noise").normal(size=(spec.n_train, y.shape[1]))
    xte, yte = x[spec.n_train:], y[spec.n_train:]
    if spec.test_subset is not None and spec.test_subset < spec.n_test:
        keep = np.sort(stream(spec.seed, "test subset").permutation(spec.n_test)[:spec.test_subset])
        xte, yte = xte[keep], yte[keep]
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)  # noqa: E731
    return Dataset(spec, as_t(x[:spec.n_train]), as_t(ytr), as_t(xte), as_t(yte),
                   None, (), None, w_star)

