"""Claims checked: the sampled peak memory of the process tree sees a child process's memory and is
never below the parent's own resident memory."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from landscape_core.memory import PeakMemory, tree_rss_mb

pytestmark = pytest.mark.skipif(tree_rss_mb() is None, reason="no /proc on this system")


def test_peak_includes_a_child_that_allocates_memory():
    base = tree_rss_mb()
    with PeakMemory(interval=0.05) as mem:
        child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 2**20); import time; time.sleep(1.0)"])
        time.sleep(0.8)
        child.wait()
    assert mem.peak_mb >= base + 150
