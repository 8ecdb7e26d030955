"""Pure figure helpers: y ranges that stay put while a slider moves."""

from __future__ import annotations

import pytest

from gscsd.figures import padded_range, steady_range


def test_padded_range_pads_the_span_and_handles_flat_and_empty_lines():
    assert padded_range([[0, 10], [5, 20]]) == pytest.approx([-1.0, 21.0])
    assert padded_range([[3, 3, 3]]) == pytest.approx([2.7, 3.3])  # a flat line: 10% of its value
    assert padded_range([[0, 0]]) == pytest.approx([-1.0, 1.0])
    assert padded_range([[float("nan"), 4.0, 6.0]]) == pytest.approx([3.9, 6.1])  # non-finite values ignored
    assert padded_range([]) == [0.0, 1.0]


def test_steady_range_keeps_a_range_that_still_fits():
    first = steady_range(None, [[0, 100]])
    assert first == pytest.approx([-5.0, 105.0])
    assert steady_range(first, [[0, 90]]) == first  # fits and fills most of it: kept
    assert steady_range(first, [[10, 70]]) == first  # still fills half of it
    assert steady_range(first, [[10, 60]]) == pytest.approx([7.5, 62.5])  # less than half: tightened
    # lines that outgrow it: a new range with 15% headroom, so the next steps fit
    grown = steady_range(first, [[0, 120]])
    assert grown == pytest.approx([-18.0, 138.0])
    assert steady_range(grown, [[0, 130]]) == grown
    # lines that shrink to a small part of it: a tight range again
    assert steady_range(first, [[0, 20]]) == pytest.approx([-1.0, 21.0])
