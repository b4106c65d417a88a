"""Claims checked: a closed form is stated only when a row beyond the two that fix it agrees; the
published width-1 and width-2 patterns (5, 9, 13 and 9, 33, 73 for one hidden layer and n_y = 1, 2, 3)
are recovered exactly; a family whose third row disagrees yields no conjecture; n_0-independence is
refuted by any difference; unproved rows never enter."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, strategies as st

from theory.counting.atlas import Architecture, AtlasRow
from theory.counting.atlas_patterns import closed_forms, conjectures, fit_form, input_independence


def _rows(counts: dict, proof="exact over QQ", status="computed"):
    out = []
    for widths, count in counts.items():
        a = Architecture(widths)
        out.append(AtlasRow(a, status, a.n_weights, count=count, proof=proof, proved=proof == "exact over QQ"))
    return out


def test_the_one_hidden_layer_patterns_are_recovered_as_conjectures():
    rows = _rows({(1, 1, 1): 5, (1, 1, 2): 9, (1, 1, 3): 13, (1, 2, 1): 9, (1, 2, 2): 33, (1, 2, 3): 73})
    found = {c.family: c for c in closed_forms(rows, axes=("n_y",))}
    w1 = found["deep linear, P = z, hidden (1,), n_0 = 1, N = 1"]
    w2 = found["deep linear, P = z, hidden (2,), n_0 = 1, N = 1"]
    assert w1.statement == "count = 4·n_y + 1" and w1.holds and w1.checked_on == ("linear_1-1-3_N1",)
    assert w2.statement == "count = 8·n_y^2 + 1" and w2.rests_on == ("linear_1-2-1_N1", "linear_1-2-2_N1")


def test_no_conjecture_without_a_row_to_check_it_or_when_the_check_fails():
    assert fit_form({1: 5, 2: 9}, "n_y") is None
    # 5, 9, 14 follows no two-parameter form tried
    assert fit_form({1: 5, 2: 9, 3: 14}, "n_y") is None
    assert closed_forms(_rows({(1, 1, 1): 5, (1, 1, 2): 9, (1, 1, 3): 14}), axes=("n_y",)) == []


def test_unproved_rows_never_enter_a_conjecture():
    rows = _rows({(1, 1, 1): 5, (1, 1, 2): 9}) + _rows({(1, 1, 3): 13}, proof="not proved")
    assert closed_forms(rows, axes=("n_y",)) == []


def test_input_independence_is_refuted_by_one_difference():
    held = input_independence(_rows({(1, 2, 1): 9, (2, 2, 1): 9, (3, 2, 1): 9}))
    assert len(held) == 1 and held[0].holds and held[0].statement == "count = 9 for every n_0"
    bad = input_independence(_rows({(1, 2, 1): 9, (2, 2, 1): 9, (3, 2, 1): 11}))
    assert not bad[0].holds and bad[0].refuted_by == ("linear_3-2-1_N1",)
    assert [c.variable for c in conjectures(_rows({(1, 2, 1): 9, (2, 2, 1): 9}))] == ["n_0", "all"]


@given(a=st.integers(1, 50), b=st.integers(-5, 20), k=st.sampled_from([1, 2, 3]))
def test_a_power_law_is_recovered_from_its_own_values(a, b, k):
    points = {v: a * v ** k + b for v in (1, 2, 3)}
    statement, f, rests = fit_form(points, "v")
    assert rests == (1, 2) and all(f(v) == Fraction(points[v]) for v in points)


def test_a_stated_formula_is_checked_on_every_row_it_speaks_of_and_refuted_by_one():
    from theory.counting.atlas_patterns import one_hidden_layer_count, stated_formulas

    assert [one_hidden_layer_count(h, ny) for h in (1, 2, 3) for ny in (1, 2, 3)] == [5, 9, 13, 9, 33, 73, 13, 73, 245]
    rows = _rows({(1, 2, 2): 33, (3, 2, 2): 33, (1, 1, 1, 1): 17})
    [c] = stated_formulas(rows)
    assert c.holds and set(c.checked_on) == {"linear_1-2-2_N1", "linear_3-2-2_N1"}  # not the two-layer row
    [bad] = stated_formulas(_rows({(1, 2, 2): 34}))
    assert not bad.holds and bad.refuted_by == ("linear_1-2-2_N1",)
