"""Baselines and metrics against hand-computed cases."""

import copy

import numpy as np
import pandas as pd
import pytest
from scipy.signal import medfilt

from sklaudio.segments import (
    GMMSegmentSmoother,
    MedianFilterSmoother,
    MinDurationSmoother,
    ViterbiSmoother,
    event_f1,
    frame_error_rate,
    segment_f1,
)


def _segs(rows):
    return [{"start": float(a), "end": float(b), "label": c} for a, b, c in rows]


def _tuples(out):
    return [(round(d["start"], 9), round(d["end"], 9), d["label"]) for d in out]


# --------------------------------------------------------------------------- min duration

def test_min_duration_binarize_rules_in_order():
    """Check pyannote's order: pad, fill gaps < min_duration_off, drop regions < min_duration_on."""
    x = _segs([(0, 1, "sil"), (1, 2, "sp"), (2, 2.3, "sil"), (2.3, 3, "sp"),
               (3, 5, "sil"), (5, 5.2, "sp"), (5.2, 8, "sil")])
    out = MinDurationSmoother(min_duration_on=0.5, min_duration_off=0.5).fit_transform(x)
    # gap 0.3 < 0.5 filled -> speech 1..3; 0.2 s region removed
    assert _tuples(out) == [(0, 1, "sil"), (1, 3, "sp"), (3, 8, "sil")]
    # padding 0.2 s each side: [0.8, 3.2] and [4.8, 5.4] (0.6 s long, kept with on=0.5)
    out = MinDurationSmoother(min_duration_on=0.5, pad_onset=0.2, pad_offset=0.2).fit_transform(x)
    assert _tuples(out) == [(0, 0.8, "sil"), (0.8, 3.2, "sp"), (3.2, 4.8, "sil"),
                            (4.8, 5.4, "sp"), (5.4, 8, "sil")]


def test_min_duration_strict_comparisons_and_clipping():
    """Check a gap of exactly min_duration_off stays, and padding stops at the stream edges."""
    x = _segs([(0, 1, "sp"), (1, 1.5, "sil"), (1.5, 3, "sp")])
    out = MinDurationSmoother(min_duration_off=0.5).fit_transform(x)
    assert _tuples(out) == _tuples(x)
    out = MinDurationSmoother(pad_onset=5, pad_offset=5, positive="sp").fit_transform(x)
    assert _tuples(out) == [(0, 3, "sp")]


def test_min_duration_rejects_multiclass_without_positive_and_gaps():
    """Check clear errors for >2 classes and for gapped streams."""
    with pytest.raises(ValueError, match="set positive=<label>"):
        MinDurationSmoother().fit_transform(_segs([(0, 1, "a"), (1, 2, "b"), (2, 3, "c")]))
    with pytest.raises(ValueError, match="gap between 1.0 and 2.0"):
        MinDurationSmoother().fit_transform(_segs([(0, 1, "a"), (2, 3, "b")]))


# --------------------------------------------------------------------------- median

def test_median_filter_matches_scipy_medfilt_on_binary_frames():
    """Check the majority filter equals scipy's median filter on 0/1 frames (inner frames)."""
    rng = np.random.default_rng(0)
    lab = rng.random(200) < 0.4
    x = _segs([(i * 0.1, (i + 1) * 0.1, "b" if v else "a") for i, v in enumerate(lab)])
    x = [dict(d, start=round(d["start"], 10), end=round(d["end"], 10)) for d in x]
    for i in range(1, len(x)):
        x[i]["start"] = x[i - 1]["end"]
    out = MedianFilterSmoother(frame_duration=0.1, kernel_size=5).fit_transform(x)
    centres = (np.arange(200) + 0.5) * 0.1
    got = np.array([next(d["label"] for d in out if d["start"] <= c < d["end"]) == "b"
                    for c in centres])
    ref = medfilt(lab.astype(float), 5) > 0.5
    np.testing.assert_array_equal(got[2:-2], ref[2:-2])
    assert out[0]["start"] == 0.0 and out[-1]["end"] == x[-1]["end"]


# --------------------------------------------------------------------------- viterbi

@pytest.mark.parametrize("d, penalty, flipped", [(0.8, 0.5, True), (0.8, 0.39, False),
                                                 (0.5, 0.3, True), (2.0, 0.9, False)])
def test_viterbi_flips_isolated_segment_iff_shorter_than_two_penalties(d, penalty, flipped):
    """Check the closed form: an isolated segment flips exactly when d < 2 * penalty."""
    x = _segs([(0, 5, "a"), (5, 5 + d, "b"), (5 + d, 10, "a")])
    out = ViterbiSmoother(switch_penalty=penalty).fit_transform(x)
    assert (len(out) == 1) == flipped


def test_baselines_keep_form_and_do_not_mutate():
    """Check DataFrame in, DataFrame out with stream ids; the input is unchanged."""
    df = pd.DataFrame({"stream": ["x", "x", "x", "y", "y"],
                       "start": [0, 3, 3.2, 0, 1.0], "end": [3, 3.2, 6, 1.0, 4],
                       "label": ["a", "b", "a", "b", "a"]})
    before = df.copy()
    for sm in (MinDurationSmoother(min_duration_on=0.5), ViterbiSmoother(),
               MedianFilterSmoother(kernel_size=3)):
        out = sm.fit_transform(df)
        pd.testing.assert_frame_equal(df, before)
        assert list(out.columns) == ["stream", "start", "end", "label"]
        assert set(out.stream) == {"x", "y"}
        for k in ("x", "y"):
            o, i = out[out.stream == k], df[df.stream == k]
            assert o.start.iloc[0] == i.start.iloc[0] and o.end.iloc[-1] == i.end.iloc[-1]


# --------------------------------------------------------------------------- metrics

def test_frame_error_rate_hand_computed():
    """Check 1 s wrong out of 10 s; with 5 s uncovered by the prediction, 6 s of 10 are wrong."""
    ref = _segs([(0, 4, "a"), (4, 10, "b")])
    hyp = _segs([(0, 5, "a"), (5, 10, "b")])
    assert frame_error_rate(ref, hyp, resolution=0.5) == pytest.approx(0.1)
    assert frame_error_rate(ref, _segs([(0, 5, "a")]), resolution=0.5) == pytest.approx(0.6)


def test_segment_f1_hand_computed_sed_eval_blocks():
    """Check sed_eval's event roll: floor(onset) to ceil(offset) per 1 s block, micro over classes.

    ref: a in [0.5, 2.2] -> blocks 0,1,2; b in [2.2, 4.0] -> blocks 2,3.
    hyp: a in [0.0, 1.0] -> block 0;     b in [1.0, 4.0] -> blocks 1,2,3.
    TP = a:{0} + b:{2,3} = 3; n_ref = 5; n_sys = 4; F1 = 6 / 9."""
    ref = _segs([(0.5, 2.2, "a"), (2.2, 4.0, "b")])
    hyp = _segs([(0.0, 1.0, "a"), (1.0, 4.0, "b")])
    assert segment_f1(ref, hyp) == pytest.approx(6 / 9)
    # only class b: TP 2, n_ref 2, n_sys 3 -> 4/5
    assert segment_f1(ref, hyp, labels=["b"]) == pytest.approx(4 / 5)


def test_event_f1_hand_computed_collars():
    """Check onset collar 0.2 s and offset collar max(0.2, 50 % of the reference length).

    ref events (label e): [1, 3], [5, 6], [8, 8.3]; hyp: [1.15, 3.9] (onset ok, offset
    0.9 <= 1.0 ok), [5.25, 6] (onset 0.25 > 0.2: no), [8.1, 8.55] (offset 0.25 > max(0.2,
    0.15): no). TP 1 of 3 + 3 -> F1 = 2/6."""
    ref = _segs([(0, 1, "bg"), (1, 3, "e"), (3, 5, "bg"), (5, 6, "e"), (6, 8, "bg"),
                 (8, 8.3, "e"), (8.3, 10, "bg")])
    hyp = _segs([(0, 1.15, "bg"), (1.15, 3.9, "e"), (3.9, 5.25, "bg"), (5.25, 6, "e"),
                 (6, 8.1, "bg"), (8.1, 8.55, "e"), (8.55, 10, "bg")])
    assert event_f1(ref, hyp, labels=["e"]) == pytest.approx(2 / 6)
    assert event_f1(ref, ref) == 1.0
    # touching segments of one label are one event
    split = _segs([(1, 2, "e"), (2, 3, "e")])
    assert event_f1(_segs([(1, 3, "e")]), split) == 1.0


def test_metrics_do_not_mutate_and_check_streams():
    """Check metrics leave inputs alone and reject mismatched stream counts."""
    ref = _segs([(0, 1, "a")])
    before = copy.deepcopy(ref)
    frame_error_rate(ref, ref)
    assert ref == before
    with pytest.raises(ValueError, match="same streams"):
        segment_f1([ref, ref], [ref])


# --------------------------------------------------------------------------- compiled kernels

def _random_stream(rng, n, k, gaps=False):
    d = rng.choice([0.05, 0.13, 0.3, 0.7, 1.1, 2.6], n)
    t = np.r_[0.0, np.cumsum(d)]
    lab = rng.integers(0, k, n)
    return [{"start": float(t[i]), "end": float(t[i + 1]), "label": "abc"[lab[i]]}
            for i in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_equals_exhaustive_search(seed):
    """Check the compiled Viterbi finds the cheapest path among all K^n label paths."""
    import itertools

    from sklaudio.segments._table import join_runs, to_arrays

    rng = np.random.default_rng(seed)
    segs = _random_stream(rng, 7, 3)
    pen = 0.4
    seg = to_arrays(segs, caller="t")
    s, e, c, _ = join_runs(seg.start, seg.end, seg.code, seg.stream)
    dur = e - s

    def cost(p):
        return float(np.sum(dur[np.array(p) != c]) + pen * np.sum(np.diff(p) != 0))

    best = min(cost(p) for p in itertools.product(range(len(seg.classes)), repeat=len(s)))
    out = ViterbiSmoother(switch_penalty=pen).fit_transform(segs)
    codes = [list(seg.classes).index(o["label"]) for o in out]
    # cost of the returned path, evaluated on the joined input segments
    mid = (s + e) / 2
    path = [codes[next(i for i, o in enumerate(out) if o["start"] <= m < o["end"])] for m in mid]
    assert cost(path) == pytest.approx(best, abs=1e-12)


def _median_reference(segs, frame, kernel):
    """Majority filter on explicit frames (numpy, one array per frame)."""
    s = np.array([x["start"] for x in segs])
    e = np.array([x["end"] for x in segs])
    classes = sorted({x["label"] for x in segs})
    c = np.array([classes.index(x["label"]) for x in segs])
    lo, hi = s[0], e[-1]
    n = max(int(np.ceil((hi - lo) / frame - 1e-9)), 1)
    fstart = lo + np.arange(n) * frame
    centre = np.minimum(fstart + frame / 2, hi - 1e-12)
    f = c[np.searchsorted(s, centre, side="right") - 1]
    h = kernel // 2
    new = f.copy()
    for i in range(n):
        w = f[max(0, i - h): i + h + 1]
        counts = np.bincount(w, minlength=len(classes))
        b = int(np.argmax(counts))
        new[i] = b if counts[b] > counts[f[i]] else f[i]
    return [classes[x] for x in new], fstart


@pytest.mark.parametrize("seed, k, kernel", [(0, 2, 5), (1, 3, 3), (2, 3, 7), (3, 2, 1)])
def test_median_filter_streamed_equals_explicit_frames(seed, k, kernel):
    """Check the streamed kernel equals the majority filter on materialised frames."""
    rng = np.random.default_rng(seed)
    segs = _random_stream(rng, 40, k)
    frame = 0.1
    labels, fstart = _median_reference(segs, frame, kernel)
    out = MedianFilterSmoother(frame_duration=frame, kernel_size=kernel).fit_transform(segs)
    got = [next(o["label"] for o in out if o["start"] <= c < o["end"])
           for c in np.minimum(fstart + frame / 2, segs[-1]["end"] - 1e-12)]
    assert got == labels
    assert out[0]["start"] == segs[0]["start"] and out[-1]["end"] == segs[-1]["end"]


# --------------------------------------------------------------------------- supervised tuning

def test_score_and_scorer_equal_negative_frame_error():
    """Check score() and make_segment_scorer give -frame_error_rate and the F1 metrics."""
    from sklaudio.segments import make_segment_scorer

    raw = [{"start": 0, "end": 4, "label": "s"}, {"start": 4, "end": 4.6, "label": "n"},
           {"start": 4.6, "end": 10, "label": "s"}, {"start": 10, "end": 20, "label": "n"}]
    ref = [{"start": 0, "end": 10, "label": "s"}, {"start": 10, "end": 20, "label": "n"}]
    sm = ViterbiSmoother(switch_penalty=0.2).fit(raw)  # keeps the 0.6 s blip
    assert sm.score(raw, ref) == pytest.approx(-0.6 / 20)
    assert make_segment_scorer()(sm, raw, ref) == pytest.approx(-0.6 / 20)
    assert make_segment_scorer("event_f1", labels=["s"])(sm, raw, ref) == pytest.approx(0.0)
    sm.set_params(switch_penalty=0.5)
    assert sm.score(raw, ref) == 0.0
    with pytest.raises(ValueError, match="metric must be one of"):
        make_segment_scorer("accuracy")


def test_grid_search_tunes_gmm_on_streams_as_groups():
    """Check GridSearchCV over annotated streams: folds never split a stream, and the
    chosen bias is the one with the best mean fold score computed by hand."""
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from sklaudio.segments import make_segment_scorer
    from tests.segments.test_hsmm import _turn_stream

    pairs = [_turn_stream(np.random.default_rng(10 + i), n_turns=40, blips=12) for i in range(4)]
    X = [pd.DataFrame(raw) for _, raw in pairs]
    y = [pd.DataFrame(truth) for truth, _ in pairs]
    grid = {"bias": [-1000.0, 0.0]}
    search = GridSearchCV(GMMSegmentSmoother(), grid, scoring=make_segment_scorer(),
                          cv=GroupKFold(2), refit=False)
    search.fit(X, y, groups=[0, 1, 2, 3])
    for i, bias in enumerate(grid["bias"]):
        folds = []
        for train, test in GroupKFold(2).split(X, y, groups=[0, 1, 2, 3]):
            sm = GMMSegmentSmoother(bias=bias).fit([X[j] for j in train])
            folds.append(sm.score([X[j] for j in test], [y[j] for j in test]))
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(folds))
    # -1000 nats per spurious segment keeps most blips (bias acts in transform only;
    # -30 no longer moved any decision on these streams: a tie, won by the first point)
    assert search.best_params_ == {"bias": 0.0}
