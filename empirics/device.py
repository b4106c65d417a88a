"""Device choice by a string ('auto', 'cpu', 'cuda', 'cuda:1', 'mps'), never by `.cuda()`."""
from __future__ import annotations

import torch

from empirics.errors import DeviceUnavailable


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
