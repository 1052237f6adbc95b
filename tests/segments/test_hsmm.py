"""Explicit-duration decoding: hand-computed decisions and the smoother's robust rules."""

import numpy as np
import pytest
from scipy import stats

from sklaudio.segments import GMMSegmentSmoother
from sklaudio.segments._hsmm import hsmm_decode


def _lognorm_pdf(d, m, s):
    return stats.lognorm(s, scale=np.exp(m)).pdf(d)


def _lognorm_sf(d, m, s):
    return stats.lognorm(s, scale=np.exp(m)).sf(d)


@pytest.mark.parametrize("d", [0.05, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0])
def test_three_segment_decision_matches_closed_form(d):
    """Check B-A-B: the middle A is relabelled exactly when the merged stream is more probable.

    Keep:  sf_B(L) * pdf_A(d) * sf_B(R) * exp(-rate_B (L + R)) * exp(-rate_A ... ) with the
    spurious-free factor of each turn; merge: sf_B(L+d+R) * rate_A * q_A(d) * exp(-rate_A T).
    (Edge turns use the survival function; a turn of class c pays the rate of the others.)
    """
    L, R = 12.0, 9.0
    tm, ts = np.log(10.0), 0.4  # both classes' turns: log-normal around 10 s
    rates = np.array([0.05, 0.02])  # spurious A (code 0) and B (code 1) per second
    fm, fs = np.log(0.3), 0.5  # spurious durations
    start = np.array([0.0, L, L + d])
    end = np.array([L, L + d, L + d + R])
    code = np.array([1, 0, 1])
    got = hsmm_decode(
        start, end, code, np.zeros(3, dtype=np.intp),
        turn_weights=np.array([[1.0], [1.0]]), turn_means=np.array([[tm], [tm]]),
        turn_stds=np.array([[ts], [ts]]), rates=rates, flip_means=np.array([fm, fm]),
        flip_stds=np.array([fs, fs]))
    T = L + d + R
    # a turn of B is free of spurious B but pays for the absence of spurious A: rate_A per s
    keep = (np.log(_lognorm_sf(L, tm, ts)) + np.log(_lognorm_pdf(d, tm, ts))
            + np.log(_lognorm_sf(R, tm, ts)) - rates[0] * (L + R) - rates[1] * d)
    z = (np.log(d) - fm) / fs
    merge = (np.log(_lognorm_sf(T, tm, ts)) + np.log(rates[0] * _lognorm_pdf(d, fm, fs))
             - rates[0] * T)
    if z > 3.5:  # beyond 3.5 standard deviations a segment cannot be spurious
        merge = -np.inf
    want = [1, 1, 1] if merge > keep else [1, 0, 1]
    assert abs(merge - keep) > 1e-3  # the grid avoids near-ties
    assert got.tolist() == want


def test_max_flip_keeps_segments_as_long_as_the_limit():
    """Check B-A-B with a 0.25 s A that the models relabel (as the closed form above): a
    limit of exactly 0.25 s for class A keeps it, a limit just above it or on class B
    does not."""
    start, end = np.array([0.0, 12.0, 12.25]), np.array([12.0, 12.25, 21.25])
    code = np.array([1, 0, 1])
    kw = dict(turn_weights=np.array([[1.0], [1.0]]), turn_means=np.full((2, 1), np.log(10.0)),
              turn_stds=np.full((2, 1), 0.4), rates=np.array([0.05, 0.02]),
              flip_means=np.full(2, np.log(0.3)), flip_stds=np.full(2, 0.5))
    stream = np.zeros(3, dtype=np.intp)
    assert hsmm_decode(start, end, code, stream, **kw).tolist() == [1, 1, 1]
    for limit, want in (([0.25, np.inf], [1, 0, 1]), ([0.25 + 1e-9, np.inf], [1, 1, 1]),
                        ([np.inf, 0.1], [1, 1, 1])):
        got = hsmm_decode(start, end, code, stream, max_flip=np.array(limit), **kw)
        assert got.tolist() == want, limit


def test_no_spurious_rate_returns_input_and_score_of_h0():
    """Check zero rates change nothing and the score is the sum of turn log-densities."""
    start = np.array([0.0, 5.0, 12.0])
    end = np.array([5.0, 12.0, 20.0])
    code = np.array([0, 1, 0])
    kw = dict(turn_weights=np.array([[1.0], [1.0]]), turn_means=np.array([[2.0], [2.0]]),
              turn_stds=np.array([[0.5], [0.5]]), rates=np.zeros(2),
              flip_means=np.zeros(2), flip_stds=np.ones(2))
    out, score = hsmm_decode(start, end, code, np.zeros(3, dtype=np.intp), return_score=True, **kw)
    assert out.tolist() == [0, 1, 0]
    want = (np.log(_lognorm_sf(5.0, 2.0, 0.5)) + np.log(_lognorm_pdf(7.0, 2.0, 0.5))
            + np.log(_lognorm_sf(8.0, 2.0, 0.5)))
    assert score == pytest.approx(want, abs=2e-3)  # tables interpolate on a fine log grid


def _turn_stream(rng, n_turns=120, blips=40, lo=25.0, hi=40.0, short_turns=()):
    """Alternating turns; ``blips`` turns cut by a 0.1-0.5 s blip of the other class."""
    labels = ("background", "foreground")
    pool = np.setdiff1d(np.arange(1, n_turns - 1), list(short_turns))
    cut = set(rng.choice(pool, blips, replace=False).tolist())
    truth, raw, t = [], [], 0.0
    for i in range(n_turns):
        lab, other = labels[i % 2], labels[1 - i % 2]
        d = 3.0 if i in short_turns else float(rng.uniform(lo, hi))
        truth.append({"start": t, "end": t + d, "label": lab})
        if i in cut:
            a = float(rng.uniform(5, d - 5))
            b = float(rng.uniform(0.1, 0.5))
            raw += [{"start": t, "end": t + a, "label": lab},
                    {"start": t + a, "end": t + a + b, "label": other},
                    {"start": t + a + b, "end": t + d, "label": lab}]
        else:
            raw.append({"start": t, "end": t + d, "label": lab})
        t += d
    return truth, raw


def test_hsmm_removes_blips_inside_turns_and_keeps_a_short_real_turn():
    """Check every blip goes, while a real 3 s turn between two long turns stays."""
    truth, raw = _turn_stream(np.random.default_rng(1), short_turns=(61,))
    sm = GMMSegmentSmoother()
    out = sm.fit_transform(raw)
    assert sm.spurious_.all() and (sm.evidence_["stream_gain"] > sm.min_gain).all()
    assert [(s["start"], s["end"], s["label"]) for s in out] == \
        [(s["start"], s["end"], s["label"]) for s in truth]


@pytest.mark.parametrize("strategy", ["hsmm", "threshold"])
@pytest.mark.parametrize("turns", ["uniform", "bimodal"])
def test_clean_stream_comes_back_unchanged(strategy, turns):
    """Check no evidence, no change: real turns of one or two typical lengths stay."""
    rng = np.random.default_rng(2)
    if turns == "uniform":
        d = rng.uniform(25, 40, 200)
    else:  # a real population of 3 s turns beside 20 s turns
        d = np.where(rng.random(200) < 0.4, rng.uniform(2.5, 4, 200), rng.uniform(15, 25, 200))
    t = np.r_[0, np.cumsum(d)]
    segs = [{"start": t[i], "end": t[i + 1], "label": "ab"[i % 2]} for i in range(200)]
    sm = GMMSegmentSmoother(strategy=strategy)
    out = sm.fit_transform(segs)
    if strategy == "hsmm" or turns == "uniform":
        assert out == segs and not sm.spurious_.any()
    else:
        # the threshold rule alone cannot tell real short turns from spurious ones
        assert sm.spurious_.any() and len(out) < len(segs)


def test_evidence_gate_each_rule_can_reject():
    """Check the figures in evidence_ and that each of the three rules rejects on its own."""
    truth, raw = _turn_stream(np.random.default_rng(3))
    base = GMMSegmentSmoother(strategy="threshold").fit(raw)
    ev = base.evidence_
    assert base.spurious_.all()
    assert set(ev.columns) >= {"bic_gain", "separation", "short_ratio", "spurious"}
    for k in range(2):
        w, m, s = base.weights_[k], base.means_[k], base.stds_[k]
        h = 1 + int(np.nanargmax(w[1:]))
        assert ev["separation"].iloc[k] == pytest.approx((m[h] - m[0]) / (s[0] + s[h]))
        assert ev["short_ratio"].iloc[k] == pytest.approx(np.exp(m[0] - m[h]))
        # BIC gain against one component, recomputed from the scores
        assert ev["bic_gain"].iloc[k] == pytest.approx(
            base.fitting_scores_[k, 0] - np.nanmin(base.fitting_scores_[k]))
    for params in ({"min_gain": ev["bic_gain"].max() + 1},
                   {"min_separation": ev["separation"].max() + 0.01},
                   {"max_short_ratio": ev["short_ratio"].min() * 0.99}):
        sm = GMMSegmentSmoother(strategy="threshold", **params).fit(raw)
        assert not sm.spurious_.any() and np.isnan(sm.thresholds_).all(), params
        assert len(sm.transform(raw)) == len(raw)


def _broad_stream(rng, family, n_turns=300, blips=100, blip=(0.1, 0.5)):
    """Alternating turns of broad (log-normal or gamma, at least 3 s) durations; ``blips``
    turns cut near their middle by a spurious segment of the other class. ``"reaching"``:
    30 % of the turns last 0.6-3 s, the others 25-40 s, and only those are cut."""
    pool = np.arange(1, n_turns - 1)
    if family == "reaching":
        d = np.where(rng.random(n_turns) < 0.3, rng.uniform(0.6, 3, n_turns),
                     rng.uniform(25, 40, n_turns))
        pool = pool[d[pool] > 20]
    elif family == "lognormal":
        d = np.maximum(rng.lognormal(np.log(8.0), 0.5, n_turns), 3.0)
    else:
        d = np.maximum(rng.gamma(3.0, 4.0, n_turns), 3.0)
    cut = set(rng.choice(pool, blips, replace=False).tolist())
    truth, raw, t = [], [], 0.0
    for i in range(n_turns):
        lab, other = "ab"[i % 2], "ab"[1 - i % 2]
        truth.append({"start": t, "end": t + d[i], "label": lab})
        if i in cut:
            b = rng.uniform(*blip)
            a = (d[i] - b) * rng.uniform(0.4, 0.6)
            raw += [{"start": t, "end": t + a, "label": lab},
                    {"start": t + a, "end": t + a + b, "label": other},
                    {"start": t + a + b, "end": t + d[i], "label": lab}]
        else:
            raw.append({"start": t, "end": t + d[i], "label": lab})
        t += d[i]
    return truth, raw


@pytest.mark.parametrize("family", ["lognormal", "gamma"])
def test_blips_inside_broad_turns_go_and_the_clean_stream_stays(family):
    """Check skewed turn lengths: every blip goes, and the clean stream comes back as is.

    (Before the EM start from the short component and the stream test against short real
    turns, such streams showed no evidence and were left alone.)
    """
    truth, raw = _broad_stream(np.random.default_rng(4), family)
    sm = GMMSegmentSmoother()
    assert sm.fit_transform(raw) == truth
    assert sm.spurious_.all()
    clean = GMMSegmentSmoother()
    assert clean.fit_transform(truth) == truth and not clean.spurious_.any()


def test_stream_gain_and_spurious_ratio_from_the_fitted_models():
    """Check evidence_ against the decoder run with the fitted models (the documented H0:
    the same segments read as turns, the spurious durations one more kind of turn)."""
    _, raw = _broad_stream(np.random.default_rng(5), "lognormal")
    sm = GMMSegmentSmoother().fit(raw)
    start = np.array([s["start"] for s in raw])
    end = np.array([s["end"] for s in raw])
    code = np.array(["ab".index(s["label"]) for s in raw])
    stream = np.zeros(len(raw), dtype=np.intp)
    turns = dict(turn_weights=sm.turn_weights_, turn_means=sm.turn_means_,
                 turn_stds=sm.turn_stds_)
    decoded, score1 = hsmm_decode(start, end, code, stream, rates=sm.flip_rates_,
                                  flip_means=sm.flip_means_, flip_stds=sm.flip_stds_,
                                  return_score=True, **turns)
    share = np.array([np.mean(decoded[code == k] != k) for k in range(2)])
    w = np.nan_to_num(sm.turn_weights_)
    _, score0 = hsmm_decode(
        start, end, code, stream, turn_weights=np.c_[w * (1 - share[:, None]), share],
        turn_means=np.c_[sm.turn_means_, sm.flip_means_],
        turn_stds=np.c_[sm.turn_stds_, sm.flip_stds_], rates=np.zeros(2),
        flip_means=np.zeros(2), flip_stds=np.ones(2), return_score=True)
    ev = sm.evidence_
    assert ev["stream_gain"].to_numpy() == pytest.approx([score1 - score0] * 2)
    typical = (w * np.nan_to_num(sm.turn_means_)).sum(axis=1) / w.sum(axis=1)
    assert ev["spurious_ratio"].to_numpy() == pytest.approx(np.exp(sm.flip_means_ - typical))
    # min_stream_gain just above the stream gain rejects, just below it does not
    gain = float(ev["stream_gain"].iloc[0])
    strict = GMMSegmentSmoother(min_stream_gain=gain + 1)
    assert strict.fit_transform(raw) == raw and not strict.spurious_.any()
    assert GMMSegmentSmoother(min_stream_gain=gain - 1).fit(raw).spurious_.all()


def test_spurious_segments_must_be_much_shorter_than_turns():
    """Check max_short_ratio: below the fitted spurious/turn ratio, nothing is relabelled."""
    truth, raw = _broad_stream(np.random.default_rng(6), "gamma")
    sm = GMMSegmentSmoother()
    assert sm.fit_transform(raw) == truth
    ratio = sm.evidence_["spurious_ratio"].min()
    assert 0 < ratio < sm.max_short_ratio
    strict = GMMSegmentSmoother(max_short_ratio=0.9 * ratio)
    assert strict.fit_transform(raw) == raw and not strict.spurious_.any()


def test_bias_moves_transform_decisions_not_the_fitted_models():
    """Check bias leaves every fitted model and the evidence alone, and that more bias
    relabels at least as many segments (the decoder adds it to each spurious segment)."""
    _, raw = _broad_stream(np.random.default_rng(7), "gamma", blip=(0.1, 1.2))
    base, biased = GMMSegmentSmoother().fit(raw), GMMSegmentSmoother(bias=8.0).fit(raw)
    for name in ("turn_means_", "turn_stds_", "flip_rates_", "flip_means_", "flip_stds_"):
        np.testing.assert_array_equal(getattr(biased, name), getattr(base, name))
    assert biased.evidence_.equals(base.evidence_) and base.spurious_.all()
    n_out = [len(base.set_params(bias=b).transform(raw)) for b in (-8.0, 0.0, 8.0)]
    assert n_out[0] >= n_out[1] >= n_out[2] and n_out[0] > n_out[2]


def _labels_at(segs, times):
    """Codes (a=0, b=1) of the segments covering ``times``."""
    starts = np.array([s["start"] for s in segs])
    codes = np.array(["ab".index(s["label"]) for s in segs])
    return codes[np.searchsorted(starts, times, side="right") - 1]


def _arrays(segs):
    start = np.array([s["start"] for s in segs])
    end = np.array([s["end"] for s in segs])
    code = np.array(["ab".index(s["label"]) for s in segs])
    return start, end, code


def _decode_fitted(sm, start, end, code, **kw):
    return hsmm_decode(
        start, end, code, np.zeros(len(start), dtype=np.intp), turn_weights=sm.turn_weights_,
        turn_means=sm.turn_means_, turn_stds=sm.turn_stds_, rates=sm.flip_rates_,
        flip_means=sm.flip_means_, flip_stds=sm.flip_stds_, **kw)


def _turn_quantiles(start, end, decoded):
    """Per class, the 5 % duration quantile of the decoded turns (runs of one decoded
    label), the first and last turn of the stream left out."""
    new = np.r_[True, decoded[1:] != decoded[:-1]]
    t_dur, t_code = np.diff(np.r_[start[new], end[-1]]), decoded[new]
    return [np.quantile(t_dur[1:-1][t_code[1:-1] == k], 0.05) for k in range(2)]


def test_duration_gap_and_limit_from_the_decoded_stream():
    """Check evidence_'s duration_gap against the decoder run with the fitted models (the
    decoded turns' 5 % duration quantile over the relabelled segments' 90 % quantile;
    min_gap above it relabels nothing), and the limit: the smaller of the two 5 %
    quantiles over min_gap; transform is the decoder with that limit, min_gap=0 the
    decoder without it."""
    _, raw = _broad_stream(np.random.default_rng(5), "lognormal")
    sm = GMMSegmentSmoother().fit(raw)
    assert sm.spurious_.all()
    start, end, code = _arrays(raw)
    decoded = _decode_fitted(sm, start, end, code)
    floors = _turn_quantiles(start, end, decoded)
    gaps = [floors[k] / np.quantile((end - start)[(code == k) & (decoded != k)], 0.9)
            for k in range(2)]
    assert sm.evidence_["duration_gap"].to_numpy() == pytest.approx(gaps)
    limit = min(floors) / sm.min_gap
    assert sm.max_spurious_ == pytest.approx([limit, limit])
    assert sm.evidence_["max_spurious"].to_numpy() == pytest.approx([limit, limit])
    out = sm.transform(raw)
    moved = _labels_at(out, (start + end) / 2) != code
    np.testing.assert_array_equal(
        moved, _decode_fitted(sm, start, end, code, max_flip=sm.max_spurious_) != code)
    assert moved.any() and (end - start)[moved].max() < limit
    # min_gap above one class's gap: nothing is relabelled
    strict = GMMSegmentSmoother(min_gap=max(gaps) * 1.01)
    assert strict.fit_transform(raw) == raw and not strict.spurious_.any()
    # min_gap=0: the same models, no limit, every segment the decoder relabels goes
    loose = GMMSegmentSmoother(min_gap=0.0)
    got = _labels_at(loose.fit_transform(raw), (start + end) / 2)
    assert np.isinf(loose.max_spurious_).all()
    np.testing.assert_array_equal(got, decoded)
    # max_spurious lowers the limit further
    tight = GMMSegmentSmoother(max_spurious=limit / 2)
    moved = _labels_at(tight.fit_transform(raw), (start + end) / 2) != code
    assert tight.max_spurious_ == pytest.approx([limit / 2] * 2)
    assert moved.any() and (end - start)[moved].max() < limit / 2


def test_real_turns_reaching_down_to_the_blips_are_kept():
    """Check real turns lasting from 0.6 s up, beside 0.1-0.5 s blips: without the
    duration gap (min_gap=0) the decoder relabels some real turns longer than the blips;
    by default one class's gap is too small, nothing is relabelled and every one of them
    comes back."""
    truth, raw = _broad_stream(np.random.default_rng(8), "reaching", blips=80)
    t_start, t_end, t_code = _arrays(truth)

    def relabelled(out):
        """Durations of the real turns the output gives the other label (at their middle)."""
        return (t_end - t_start)[_labels_at(out, (t_start + t_end) / 2) != t_code]

    loose = GMMSegmentSmoother(min_gap=0.0)
    assert loose.fit(raw).spurious_.all()
    assert relabelled(loose.transform(raw)).max() > 1.0
    sm = GMMSegmentSmoother()
    out = sm.fit_transform(raw)
    assert sm.evidence_["duration_gap"].iloc[1] < sm.min_gap
    assert not sm.spurious_.any() and out == raw
