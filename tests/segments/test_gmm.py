"""GMMSegmentSmoother: the seed's rules (bugs fixed), forms, validation, invariants."""

import copy
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture

from sklaudio.segments import GMMSegmentSmoother
from sklaudio.segments._gmm import _two_component_threshold
from sklaudio.segments._table import join_runs


def _stream(durs, labels, t0=0.0):
    t = t0 + np.r_[0.0, np.cumsum(durs)]
    return [{"startTime": float(t[i]), "endTime": float(t[i + 1]), "segment": labels[i]}
            for i in range(len(durs))]


def _alternating(durs, first="background"):
    other = {"background": "foreground", "foreground": "background"}
    labels, cur = [], first
    for _ in durs:
        labels.append(cur)
        cur = other[cur]
    return _stream(durs, labels)


def test_one_component_rule_compares_durations_not_indices():
    """Check the seed's 1-component bug is fixed: durations < mean - 2 std are relabelled.

    The seed compared ``range(len(X))`` with the threshold, so with a mean of ~10 s it
    relabelled the first ~10 segments whatever their duration."""
    bg = [10.0] * 14 + [9.0, 11.0] * 3 + [3.0]  # one population plus one outlier
    durs = []
    for d in bg:
        durs += [d, 5.0]
    segs = _alternating([5.0] + durs, first="foreground")  # bg all interior
    sm = GMMSegmentSmoother(order=["background"], max_components=1,
                            strategy="original").fit(segs)
    k = list(sm.classes_).index("background")
    assert sm.n_components_[k] == 1
    d = np.array(bg)
    gm = GaussianMixture(1, random_state=0, tol=1e-6).fit(d[:, None])
    thr = gm.means_[0, 0] - 2 * np.sqrt(gm.covariances_[0, 0, 0])
    np.testing.assert_allclose(sm.thresholds_[k], thr, rtol=1e-9)
    out = sm.transform(segs)
    # only the 3 s segment (< thr) went: its two neighbours and it became one segment
    assert len(out) == len(segs) - 2
    short = [s for s in out if s["segment"] == "background" and s["endTime"] - s["startTime"] < 5]
    assert short == []
    assert all(s["endTime"] - s["startTime"] >= 9 for s in out if s["segment"] == "background")


def test_two_component_branch_is_not_overwritten():
    """Check the seed's second bug is fixed: with 2 components the short ones are relabelled,
    and the long ones all stay (the seed's missing elif let 1-comp logic run first)."""
    rng = np.random.default_rng(1)
    bg = np.r_[rng.uniform(8, 12, 30), rng.uniform(0.1, 0.3, 10)]
    rng.shuffle(bg)
    durs = [6.0]
    for d in bg:
        durs += [d, 6.0]
    segs = _alternating(durs, first="foreground")
    sm = GMMSegmentSmoother(strategy="original", order=["background"])
    out = sm.fit_transform(segs)
    k = list(sm.classes_).index("background")
    assert sm.n_components_[k] == 2
    assert 0.3 < sm.thresholds_[k] < 8
    bg_out = [s["endTime"] - s["startTime"] for s in out if s["segment"] == "background"]
    assert len(bg_out) == 30 and min(bg_out) >= 8
    assert len(out) == len(segs) - 2 * 10


def test_threshold_matches_predict_between_the_means():
    """Check the two-component threshold is where GaussianMixture.predict switches."""
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(1, 0.3, 200), rng.normal(8, 2, 300)][:, None]
    g = GaussianMixture(2, random_state=0).fit(x)
    o = np.argsort(g.means_[:, 0])
    m, s, w = g.means_[o, 0], np.sqrt(g.covariances_[o, 0, 0]), g.weights_[o]
    thr = _two_component_threshold(w, m, s)
    grid = np.linspace(m[0], m[1], 2001)
    low = g.predict(grid[:, None]) == o[0]
    np.testing.assert_allclose(thr, grid[np.flatnonzero(~low)[0]], atol=(m[1] - m[0]) / 1000)


def test_first_and_last_segments_never_relabelled_and_min_samples():
    """Check edges are excluded and a class with <= min_samples durations is skipped."""
    segs = _alternating([0.1] + [10.0, 5.0] * 5 + [0.1])
    sm = GMMSegmentSmoother().fit(segs)
    assert (sm.n_components_ == 0).all() and np.isnan(sm.thresholds_).all()
    out = sm.transform(segs)
    assert out == segs and out is not segs


def test_second_pass_runs_only_if_first_changed_count():
    """Check the seed's cascade: no background change, no foreground pass."""
    rng = np.random.default_rng(3)
    durs = []
    for _ in range(30):
        durs += [10.0, float(rng.choice([0.2, 10.0, 11.0]))]
    segs = _alternating(durs)
    a = GMMSegmentSmoother(strategy="original").fit(segs)
    assert a.thresholds_[0] < 10  # background: all 10 s, nothing to relabel
    fg = [s for s in segs[1:-1] if s["segment"] == "foreground"]
    assert min(s["endTime"] - s["startTime"] for s in fg) < a.thresholds_[1]
    assert a.transform(segs) == segs  # stopped after the unchanged background pass
    b = GMMSegmentSmoother(strategy="original", stop_when_unchanged=False).fit(segs)
    assert len(b.transform(segs)) < len(segs)


def test_multiclass_merges_into_longer_neighbour():
    """Check the >2-class rule: a relabelled segment joins its longer touching neighbour."""
    labels, durs = [], []
    rng = np.random.default_rng(0)
    for i in range(40):
        labels += ["a", "b" if i % 2 else "c"]
        durs += [float(rng.uniform(9, 11)), float(rng.uniform(9, 11))]
    # a short "a" between b (long) and c (short-ish): it must become "b"
    labels[10:13] = ["b", "a", "c"]
    durs[10:13] = [20.0, 0.2, 9.0]
    labels[20:23] = ["c", "a", "b"]
    durs[20:23] = [9.5, 0.2, 30.0]
    segs = _stream(durs, labels)
    sm = GMMSegmentSmoother(strategy="threshold", order=["a"], max_components=2)
    out = sm.fit_transform(segs)
    t = np.r_[0, np.cumsum(durs)]

    def label_at(x):
        return next(s["segment"] for s in out if s["startTime"] <= x < s["endTime"])

    assert label_at((t[11] + t[12]) / 2) == "b"
    assert label_at((t[21] + t[22]) / 2) == "b"


def test_fit_many_streams_then_transform_new_stream_and_dataframe_form():
    """Check fit on a stream-id DataFrame and transform of a new one, output in its form."""
    rng = np.random.default_rng(5)
    rows = []
    for k in range(3):
        durs = []
        for _ in range(8):  # too few per stream, enough together
            durs += [float(rng.uniform(8, 12)), float(rng.uniform(8, 12))]
        durs[4] = 0.2  # a background blip
        t = np.r_[0, np.cumsum(durs)]
        for i in range(len(durs)):
            rows.append((f"ch{k}", t[i], t[i + 1], "background" if i % 2 == 0 else "foreground"))
    df = pd.DataFrame(rows, columns=["stream", "start", "end", "label"])
    one = df[df.stream == "ch0"].drop(columns="stream")
    assert (GMMSegmentSmoother().fit(one).n_components_ == 0).all()
    sm = GMMSegmentSmoother(strategy="threshold", order=["background"]).fit(df)
    assert sm.n_components_[0] >= 1 and sm.thresholds_[0] > 0.2
    out = sm.transform(df)
    assert list(out.columns) == ["stream", "start", "end", "label"]
    assert list(out.stream.unique()) == ["ch0", "ch1", "ch2"]
    assert len(out) == len(df) - 3 * 2
    new = sm.transform(one.reset_index(drop=True))
    assert list(new.columns) == ["start", "end", "label"] and len(new) == len(one) - 2
    lst = sm.transform([one, one.to_dict("records")])
    assert isinstance(lst, list) and isinstance(lst[0], pd.DataFrame) and isinstance(lst[1], list)
    assert len(lst[0]) == len(new) == len(lst[1])


def test_datetimes_round_trip_exactly():
    """Check datetime input (the seed's form) comes back as the same datetimes."""
    t0 = dt.datetime(2022, 11, 19, tzinfo=dt.timezone.utc)
    segs = [{"startTime": t0 + dt.timedelta(seconds=10 * i),
             "endTime": t0 + dt.timedelta(seconds=10 * (i + 1)),
             "segment": "background" if i % 2 == 0 else "foreground"} for i in range(4)]
    segs.insert(2, {"startTime": segs[1]["endTime"], "endTime": segs[1]["endTime"]
                    + dt.timedelta(seconds=10), "segment": "foreground"})
    for s in segs[3:]:
        s["startTime"] += dt.timedelta(seconds=10)
        s["endTime"] += dt.timedelta(seconds=10)
    out = GMMSegmentSmoother().fit_transform(segs)
    assert len(out) == 4  # the two touching foreground segments joined
    assert out[1] == {"startTime": segs[1]["startTime"], "endTime": segs[2]["endTime"],
                      "segment": "foreground"}
    assert type(out[0]["startTime"]) is dt.datetime and out[-1]["endTime"] == segs[-1]["endTime"]


@pytest.mark.parametrize(
    "rows, msg",
    [
        ([(0, 1, "a"), (1, 1, "b")],
         "zero or negative length (end <= start) [row 1: start=1.0, end=1.0]"),
        ([(0, 1, "a"), (2, 1.5, "b")], "row 1: start=2.0, end=1.5"),
        ([(0, 1, "a"), (3, 4, "b"), (1, 2, "a")],
         "not sorted by start time within their stream at row 2"),
        ([(0, 2, "a"), (1.5, 3, "b")], "row 1 starts at 1.5 before the previous row ends at 2.0"),
        ([(0, np.nan, "a")], "row 0 have a missing or infinite"),
    ],
)
def test_invalid_segments_name_the_rows(rows, msg):
    """Check unsorted, overlapping, zero/negative-length input raises naming the rows."""
    segs = [{"start": a, "end": b, "label": c} for a, b, c in rows]
    with pytest.raises(ValueError, match=re.escape(msg)):
        GMMSegmentSmoother().fit(segs)


def test_dataframe_errors_use_index_labels_and_stream_rows():
    """Check DataFrame rows are named by index label and list-of-streams by (stream, row)."""
    df = pd.DataFrame({"start": [0.0, 0.5], "end": [1.0, 2.0], "label": ["a", "b"]}, index=[7, 9])
    with pytest.raises(ValueError, match=re.escape("row 9 starts at 0.5")):
        GMMSegmentSmoother().fit(df)
    ok = [{"start": 0, "end": 1, "label": "a"}]
    with pytest.raises(ValueError, match=re.escape("stream 1 row 0")):
        GMMSegmentSmoother().fit([ok, [{"start": 1, "end": 1, "label": "a"}]])


def test_bad_forms_and_unknown_labels_and_not_fitted():
    """Check type errors, missing keys, labels unseen in fit and NotFittedError."""
    with pytest.raises(TypeError, match="expects segments"):
        GMMSegmentSmoother().fit("segments.json")
    with pytest.raises(ValueError, match="got 0 segments"):
        GMMSegmentSmoother().fit([])
    with pytest.raises(ValueError, match="row 1 is"):
        GMMSegmentSmoother().fit([{"start": 0, "end": 1, "label": "a"}, {"start": 1}])
    sm = GMMSegmentSmoother().fit([{"start": 0, "end": 1, "label": "a"}])
    with pytest.raises(ValueError, match=re.escape("row 0 have labels ['zz'] not seen in fit")):
        sm.transform([{"start": 0, "end": 1, "label": "zz"}])
    with pytest.raises(NotFittedError):
        GMMSegmentSmoother().transform([{"start": 0, "end": 1, "label": "a"}])
    with pytest.raises(ValueError, match="order="):
        GMMSegmentSmoother(order=["x"]).fit([{"start": 0, "end": 1, "label": "a"}])
    with pytest.raises(ValueError, match="min_samples"):
        GMMSegmentSmoother(min_samples=-1).fit([{"start": 0, "end": 1, "label": "a"}])


def test_estimator_api_basics():
    """Check clone/get_params round-trip and the output names (common checks can't feed us)."""
    sm = GMMSegmentSmoother(min_samples=3, strategy="threshold")
    assert clone(sm).get_params() == sm.get_params()
    assert list(sm.get_feature_names_out()) == ["start", "end", "label"]


# --------------------------------------------------------------------------- invariants

@st.composite
def streams(draw):
    n = draw(st.integers(1, 60))
    durs = draw(st.lists(st.sampled_from([0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 8.0, 10.0, 12.0]),
                         min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.5]), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from(["a", "b", "c"] if draw(st.booleans()) else ["a", "b"]),
                           min_size=n, max_size=n))
    t, segs = draw(st.sampled_from([0.0, 100.0])), []
    for d, g, lab in zip(durs, gaps, labels):
        t += g
        segs.append({"start": t, "end": t + d, "label": lab})
        t += d
    return segs


def _covered(segs):
    """Union of the segments' intervals, as merged (start, end) tuples."""
    out = []
    for s in segs:
        if out and s["start"] == out[-1][1]:
            out[-1][1] = s["end"]
        else:
            out.append([s["start"], s["end"]])
    return [tuple(x) for x in out]


@given(segs=streams(), min_samples=st.sampled_from([0, 2, 10]),
       strategy=st.sampled_from(["original", "threshold", "hsmm"]))
def test_invariants_hold_on_random_streams(segs, min_samples, strategy):
    """Check sorted, non-overlapping, gap-preserving, exact span, relabel-only, no mutation."""
    before = copy.deepcopy(segs)
    sm = GMMSegmentSmoother(min_samples=min_samples, strategy=strategy)
    out = sm.fit_transform(segs)
    assert segs == before  # input untouched
    st_ = np.array([s["start"] for s in out])
    en = np.array([s["end"] for s in out])
    assert (en > st_).all() and (st_[1:] >= en[:-1]).all()  # sorted, non-overlapping
    assert _covered(out) == _covered(segs)  # same span and the same gaps
    # boundaries only disappear; touching segments never share a label
    assert set(st_) <= {s["start"] for s in segs}
    touching = st_[1:] == en[:-1]
    labs = np.array([s["label"] for s in out])
    assert not (touching & (labs[1:] == labs[:-1])).any()
    assert set(labs) <= set(s["label"] for s in segs)
    if strategy == "hsmm":
        # the decoder relabels only classes with evidence of spurious segments
        if not sm.spurious_.any():
            assert len(out) == len(join_runs(
                np.array([s["start"] for s in segs]), np.array([s["end"] for s in segs]),
                np.array([list(sm.classes_).index(s["label"]) for s in segs]),
                np.zeros(len(segs), dtype=np.intp))[0])
        return
    # nothing lost outside the relabel rule: every input row whose joined run was not
    # shorter than its class threshold keeps its label
    classes = list(sm.classes_)
    s0 = np.array([s["start"] for s in segs])
    e0 = np.array([s["end"] for s in segs])
    c0 = np.array([classes.index(s["label"]) for s in segs])
    js, je, jc, _ = join_runs(s0, e0, c0, np.zeros(len(s0), dtype=np.intp))
    thr = np.where(np.isnan(sm.thresholds_), -np.inf, sm.thresholds_)
    # a run's duration can only grow by later joins, so runs at least as long as every
    # threshold cannot have been relabelled
    safe = (je - js) >= thr.max()
    for a, b, c in zip(js[safe], je[safe], jc[safe]):
        mid = (a + b) / 2
        got = next(s["label"] for s in out if s["start"] <= mid < s["end"])
        assert got == classes[c]
    if len(out) < len(segs):
        assert np.isfinite(sm.thresholds_).any() or len(js) < len(segs)


def test_seed_join_example_and_top_level_import():
    """Check the seed's own example: two consecutive background hours join into one."""
    import sklaudio

    t = [dt.datetime(2022, 11, 19, h, tzinfo=dt.timezone.utc) for h in range(3)]
    seg_list = [{"startTime": t[0], "endTime": t[1], "segment": "background"},
                {"startTime": t[1], "endTime": t[2], "segment": "background"}]
    out = sklaudio.GMMSegmentSmoother().fit_transform(seg_list)
    assert out == [{"startTime": t[0], "endTime": t[2], "segment": "background"}]


# --------------------------------------------------------------------------- the original

def _join(segs):
    out = []
    for s in segs:
        if out and out[-1]["segment"] == s["segment"] and out[-1]["endTime"] == s["startTime"]:
            out[-1]["endTime"] = s["endTime"]
        else:
            out.append(dict(s))
    return out


def _original_pass(segments, cls, other, min_samples=10):
    """The original per-class pass written as it reads (dicts, loops, GaussianMixture),
    with its two fixes: the one-component rule compares durations, and predict() decides
    only for a two-component model."""
    segs = copy.deepcopy(segments)
    filtered = {i: s for i, s in enumerate(segs)
                if s["segment"] == cls and 0 < i < len(segs) - 1}
    X = np.array([[s["endTime"] - s["startTime"]] for s in filtered.values()])
    if len(X) <= min_samples:
        return segs
    best, best_score = None, np.inf
    for k in (1, 2):
        gmm = GaussianMixture(n_components=k, random_state=0, tol=1e-6).fit(X)
        score = (gmm.aic(X) + gmm.bic(X)) / 2
        if score < best_score:
            best, best_score = gmm, score
    if best.n_components == 1:
        mean, std = best.means_[0, 0], np.sqrt(best.covariances_[0, 0, 0])
        preds = [0 if x < mean - 2 * std else 1 for x in X[:, 0]]
    else:
        low = int(np.argmin(best.means_[:, 0]))
        preds = [0 if p == low else 1 for p in best.predict(X)]
    for (i, s), p in zip(filtered.items(), preds):
        if p == 0:
            segs[i]["segment"] = other
    return _join(segs)


@pytest.mark.parametrize("seed", range(6))
def test_original_strategy_reproduces_the_original_algorithm(seed):
    """Check strategy="original" equals the original written plainly, pass by pass."""
    rng = np.random.default_rng(seed)
    durs, labels = [], []
    for i in range(int(rng.integers(30, 80))):
        lab = "background" if i % 2 == 0 else "foreground"
        d = float(rng.uniform(8, 12))
        if rng.random() < 0.25:  # a blip: a short spurious segment
            d = float(rng.uniform(0.1, 0.3))
        durs.append(d)
        labels.append(lab)
    segs = _stream(durs, labels)
    first = _original_pass(_join(segs), "background", "foreground")
    want = first
    if len(first) != len(_join(segs)):  # the cascade: foreground only after a change
        want = _original_pass(first, "foreground", "background")
    got = GMMSegmentSmoother(strategy="original").fit_transform(segs)
    assert got == want
