"""Connect two deep linear networks inside a sublevel set, and see the ReLU contrast.

Run: .venv/bin/python examples/sublevel_paths.py
"""
from __future__ import annotations

import numpy as np

from theory.sublevel.linear_paths import certify_path, connecting_path, demo_instance
from theory.sublevel.relu_paths import counterexample, string_method

# Two near-optimal 3-4-4-2 linear networks related by sign-flipping fibre moves.
loss, theta_a, theta_b = demo_instance((3, 4, 4, 2), loss_kind="empirical", endpoints="equivalent", seed=0)
path = connecting_path(theta_a, theta_b)
cert = certify_path(path, loss, n_grid=401)
print(f"bound max(F_A, F_B) = {cert.bound:.6f}; max on constructed path = {cert.max_loss:.6f}; "
      f"max on straight segment = {cert.straight_line_max:.6f}")
print("pieces:", ", ".join(path.labels))
print("W_1 at t = 0.5:\n", np.round(path(0.5)[0], 3))

# The ReLU (1, 2, 1) network: two global minima, every path between them reaches F = 1/2.
ex = counterexample()
best = string_method(ex, seed=0)
print(f"ReLU: proved barrier {ex.floor}, best path found by the string method peaks at {best.max_loss:.4f}")
