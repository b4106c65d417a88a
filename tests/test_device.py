"""Tests for empirics.device: device strings, precision contexts (nothing CUDA-only)."""
from __future__ import annotations

import pytest
import torch

from empirics.device import pick_device, precision_context
from landscape_core.errors import DeviceUnavailable


def test_precision_contexts_run_on_the_cpu_and_leave_float32_alone():
    """float32 and tf32 (CUDA-only, float32 elsewhere) compute a CPU matmul exactly; bf16-mixed autocasts it to bfloat16."""
    a, b = torch.randn(16, 16), torch.randn(16, 16)
    exact = a @ b
    cpu = torch.device("cpu")
    for precision in ("float32", "tf32"):
        with precision_context(precision, cpu):
            assert torch.equal(a @ b, exact)
    with precision_context("bf16-mixed", cpu):
        assert (a @ b).dtype == torch.bfloat16
    assert (a @ b).dtype == torch.float32  # the context ends
    with pytest.raises(ValueError, match="precision"):
        with precision_context("fp8", cpu):
            pass


def test_explicit_cuda_request_without_cuda_is_an_error():
    """'cuda' on a machine without CUDA raises DeviceUnavailable instead of silently using the CPU."""
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(DeviceUnavailable, match="CUDA"):
        pick_device("cuda")
    assert pick_device("auto") == torch.device("cpu")
