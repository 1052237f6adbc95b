"""Segment tables: float tolerance at boundaries, and the conversion helpers."""

import numpy as np
import pandas as pd
import pytest

from sklaudio.segments import GMMSegmentSmoother, MedianFilterSmoother, ViterbiSmoother
from sklaudio.segments._table import to_arrays


def _built_backwards(durs):
    """Segments built as start = end - duration: neighbours can overlap by one ulp."""
    ends = np.cumsum(durs) + 1000.1
    return [{"start": float(e - d), "end": float(e), "label": "ab"[i % 2]}
            for i, (e, d) in enumerate(zip(ends, durs))]


def test_one_ulp_overlaps_are_snapped_not_rejected():
    """Check start = end - d streams (overlapping by rounding) are accepted and made exact."""
    durs = np.full(50, 0.1) + np.arange(50) * 1e-3
    segs = _built_backwards(durs)
    s = np.array([x["start"] for x in segs])
    e = np.array([x["end"] for x in segs])
    assert (s[1:] < e[:-1]).any()  # the construction really overlaps somewhere
    seg = to_arrays(segs, caller="t")
    assert (seg.start[1:] == seg.end[:-1]).all()
    assert np.abs(seg.start - s).max() <= 1e-6
    out = ViterbiSmoother().fit_transform(segs)  # gap-free after snapping: no gap error
    assert out[0]["start"] == segs[0]["start"] and out[-1]["end"] == segs[-1]["end"]


@pytest.mark.parametrize("shift, snapped", [(-4e-7, True), (9e-7, True), (2e-6, False)])
def test_gaps_below_tolerance_snap_larger_gaps_stay(shift, snapped):
    """Check a gap or overlap below 1 us joins the segments; a larger gap stays a gap."""
    segs = [{"start": 0.0, "end": 5.0, "label": "a"},
            {"start": 5.0 + shift, "end": 9.0, "label": "a"}]
    out = GMMSegmentSmoother().fit_transform(segs)
    if snapped:
        assert out == [{"start": 0.0, "end": 9.0, "label": "a"}]
    else:
        assert len(out) == 2 and out[1]["start"] == 5.0 + shift


def test_larger_overlaps_stay_errors_and_tolerance_is_a_parameter():
    """Check a 1 ms overlap raises (naming the rows); tolerance=0.01 accepts it; 0 is strict."""
    segs = [{"start": 0.0, "end": 5.0, "label": "a"}, {"start": 4.999, "end": 9.0, "label": "b"}]
    with pytest.raises(ValueError, match="overlapping segments.*row 1"):
        GMMSegmentSmoother().fit(segs)
    out = MedianFilterSmoother(tolerance=0.01).fit_transform(segs)
    assert out[0]["start"] == 0.0 and out[-1]["end"] == 9.0
    tiny = [{"start": 0.0, "end": 5.0, "label": "a"},
            {"start": 5.0 - 1e-9, "end": 9.0, "label": "b"}]
    with pytest.raises(ValueError, match="overlapping"):
        ViterbiSmoother(tolerance=0.0).fit_transform(tiny)
    assert ViterbiSmoother().fit_transform(tiny)[1]["start"] == 5.0


def test_dataframe_string_labels_and_missing_label_named():
    """Check pandas string columns are read and a missing label names its index label."""
    df = pd.DataFrame({"start": [0.0, 1.0, 2.0], "end": [1.0, 2.0, 3.0],
                       "label": pd.array(["a", None, "b"], dtype="string")}, index=[10, 11, 12])
    with pytest.raises(ValueError, match="row 11 have a missing label"):
        to_arrays(df, caller="t")
    df.loc[11, "label"] = "a"
    seg = to_arrays(df, caller="t")
    assert seg.classes.tolist() == ["a", "b"] and seg.code.tolist() == [0, 0, 1]
