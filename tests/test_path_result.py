"""Claims checked: endpoints are grouped by the stated relative tolerance, reality is judged relative
to the point's size, and a path's JSON carries its coordinates as [re, im] pairs."""
from __future__ import annotations

import json

import numpy as np

from theory.homotopy.path_result import PathResult, cluster, is_real


def test_cluster_groups_points_within_relative_tolerance_of_the_first_member():
    pts = [np.array([1.0, 2.0]), np.array([1.0 + 1e-9, 2.0]), np.array([5.0, 0.0]), np.array([1.0, 2.0 + 5e-6])]
    assert cluster(pts, 1e-6) == [[0, 1], [2], [3]]
    # the tolerance scales with 1 + ‖y‖∞: large points tolerate proportionally larger gaps
    assert cluster([np.array([1e6]), np.array([1e6 + 0.5])], 1e-6) == [[0, 1]]


def test_reality_is_relative_to_the_size_of_the_point():
    assert is_real(np.array([1.0 + 1e-10j, 3.0]), 1e-8)
    assert not is_real(np.array([1.0 + 1e-6j, 3.0]), 1e-8)
    assert is_real(np.array([1e6 + 1e-3j]), 1e-8)  # |Im| 1e-3 ≤ 1e-8·(1 + 1e6)


def test_path_result_json_has_complex_pairs_and_every_field():
    p = PathResult(3, "regular", (1 + 2j, -0.5 + 0j), 1.0, 1e-15, 12.0, 1e-16, 0.1, "d", False, False)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["x"] == [[1.0, 2.0], [-0.5, 0.0]] and d["outcome"] == "regular" and d["index"] == 3
    assert set(d) == set(PathResult.__dataclass_fields__)
