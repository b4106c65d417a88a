"""Device choice by a string ('auto', 'cpu', 'cuda', 'cuda:1', 'mps'), never by `.cuda()`."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from landscape_core.errors import DeviceUnavailable


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """Return the torch device for `name`: 'auto' is the first CUDA device when present, else the CPU.

    Raises DeviceUnavailable for an explicit CUDA/MPS request on a machine without one, so a run
    never falls back silently to a device other than the one asked for.
    """
    if isinstance(name, torch.device):
        return name
    text = str(name).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError as exc:
        raise DeviceUnavailable(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"device {name!r} requested but CUDA is not available here (use --device cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailable("device 'mps' requested but MPS is not available here")
    return device


def describe_device(device: torch.device) -> str:
    """Return a short human description, e.g. 'cuda:0 (NVIDIA H100 80GB HBM3)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return str(device)


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels on `device` (for honest wall-clock timings); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def precision_context(precision: str, device: torch.device) -> Iterator[None]:
    """Run the enclosed steps in `precision`: 'float32' (unchanged), 'tf32' or 'bf16-mixed'.

    tf32: CUDA matmuls and cuDNN convolutions use TensorFloat-32 (10-bit mantissa inputs, float32
    accumulation); the global flags are restored on exit; elsewhere it is float32. bf16-mixed:
    `torch.autocast(device.type, torch.bfloat16)` (weights, gradients and optimiser stay float32);
    on CPUs without bfloat16 units it runs, slowly. Nothing here is CUDA-only.
    """
    if precision == "float32":
        yield
        return
    if precision == "bf16-mixed":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
        return
    if precision != "tf32":
        raise ValueError(f"unknown precision {precision!r}")
    if device.type != "cuda":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
