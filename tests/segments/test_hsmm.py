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
