"""SpeakerVerifier: closed forms of its scores, enrolment, identification, calibration,
errors, and scikit-learn's common checks (pairs aside)."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal as mvn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import check_estimator

from sklaudio.features import MelFeatures
from sklaudio.speakers import (
    SpeakerVerifier,
    equal_error_rate,
    make_pairs,
    make_verification_scorer,
    min_dcf,
    verification_report,
)
from sklaudio.utils import ClipArray

D = 12


def _population(seed, d=D):
    """Speaker means ~ N(0, B) and clip noise ~ N(0, W), W loud in a few directions."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    W = Q @ np.diag(np.r_[np.full(3, 4.0), np.full(d - 3, 0.2)]) @ Q.T
    return rng, np.eye(d), W


def _speakers(rng, B, W, n_speakers, n_clips, start=0):
    d = len(B)
    voices = rng.multivariate_normal(np.zeros(d), B, size=n_speakers)
    labels = np.repeat(np.arange(start, start + n_speakers), n_clips)
    X = voices[labels - start] + rng.multivariate_normal(np.zeros(d), W, size=len(labels))
    return X, labels, voices


@pytest.fixture(scope="module")
def data():
    rng, B, W = _population(0)
    train = _speakers(rng, B, W, 60, 6)
    new = _speakers(rng, B, W, 40, 6, start=1000)
    return rng, B, W, train, new


def test_plda_scores_are_the_two_covariance_llr(data):
    # no whitening, length normalisation or score normalisation: the score of a pair is
    # the LLR of the PLDA fitted on the centred vectors, from the Gaussian densities
    _, _, _, (X, y, _), (Xn, _, _) = data
    sv = SpeakerVerifier(whiten=False, length_norm=False, calibration_cv=None).fit(X, y)
    plda, mean = sv.backend_.plda_, X.mean(axis=0)
    B, W, mu = plda.between_, plda.within_, plda.mean_
    a, b = Xn[:5] - mean, Xn[6:11] - mean
    ref = [mvn(np.r_[mu, mu], np.block([[B + W, B], [B, B + W]])).logpdf(np.r_[u, v])
           - mvn(mu, B + W).logpdf(u) - mvn(mu, B + W).logpdf(v) for u, v in zip(a, b)]
    np.testing.assert_allclose(sv.decision_function((Xn[:5], Xn[6:11])), ref, rtol=1e-8)


def test_cosine_scores_and_s_norm_by_hand(data):
    _, _, _, (X, y, _), (Xn, _, _) = data
    sv = SpeakerVerifier(backend="cosine", whiten=False, calibration_cv=None).fit(X, y)
    Z = Xn - X.mean(axis=0)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    np.testing.assert_allclose(sv.decision_function((Xn[:4], Xn[4:8])),
                               np.sum(Z[:4] * Z[4:8], axis=1), rtol=1e-12)
    # s-norm: each side's scores against the cohort (the training speakers' mean vectors)
    sn = SpeakerVerifier(backend="cosine", whiten=False, score_norm="s-norm",
                         calibration_cv=None).fit(X, y)
    Zt = X - X.mean(axis=0)
    Zt /= np.linalg.norm(Zt, axis=1, keepdims=True)
    cohort = np.stack([Zt[y == s].mean(axis=0) for s in np.unique(y)])
    cohort /= np.linalg.norm(cohort, axis=1, keepdims=True)
    raw = np.sum(Z[:4] * Z[4:8], axis=1)
    ca, cb = Z[:4] @ cohort.T, Z[4:8] @ cohort.T
    ref = 0.5 * ((raw - ca.mean(1)) / ca.std(1) + (raw - cb.mean(1)) / cb.std(1))
    np.testing.assert_allclose(sn.decision_function((Xn[:4], Xn[4:8])), ref, rtol=1e-10)


def test_pair_formats_agree_and_bad_ones_explain(data):
    _, _, _, (X, y, _), (Xn, _, _) = data
    sv = SpeakerVerifier(calibration_cv=None).fit(X, y)
    stacked = np.stack([Xn[:7], Xn[7:14]], axis=1)  # (n_pairs, 2, n_features)
    np.testing.assert_array_equal(sv.decision_function(stacked),
                                  sv.decision_function((Xn[:7], Xn[7:14])))
    with pytest.raises(ValueError, match=r"tuple \(A, B\).*shape \(7, 12\)"):
        sv.predict(Xn[:7])
    with pytest.raises(ValueError, match="differ in length: 7 and 6"):
        sv.predict((Xn[:7], Xn[:6]))
    with pytest.raises(ValueError, match="has 5 features, but SpeakerVerifier is expecting 12"):
        sv.predict((Xn[:3, :5], Xn[3:6, :5]))


@pytest.mark.parametrize("backend,score_norm", [("plda", None), ("plda", "as-norm"),
                                                 ("cosine", "s-norm")])
def test_enrolling_changes_no_existing_score(data, backend, score_norm):
    rng, B, W, (X, y, _), (Xn, yn, _) = data
    sv = SpeakerVerifier(backend=backend, score_norm=score_norm, cohort_top=10,
                         calibration_cv=None).fit(X, y)
    before = sv.score_speakers(Xn)
    pairs_before = sv.decision_function((Xn[:10], Xn[10:20]))
    sv.enroll(Xn[yn < 1020], yn[yn < 1020])
    after = sv.score_speakers(Xn)
    assert after.shape[1] == before.shape[1] + 20
    np.testing.assert_array_equal(after[:, : before.shape[1]], before)
    np.testing.assert_array_equal(sv.decision_function((Xn[:10], Xn[10:20])), pairs_before)
    # more clips of an enrolled speaker change that speaker's column only
    col = list(sv.speakers_).index(1003)
    sv.enroll(Xn[yn == 1003][:2], [1003, 1003])
    again = sv.score_speakers(Xn)
    assert sv.n_clips_[col] == 8
    np.testing.assert_array_equal(np.delete(again, col, axis=1), np.delete(after, col, axis=1))
    assert not np.array_equal(again[:, col], after[:, col])


def test_identification_closed_and_open_set(data):
    rng, B, W, (X, y, _), (Xn, yn, _) = data
    # open set: an impostor is named when any of the 90 enrolled speakers accepts him,
    # so the threshold sits at a low false-accept rate per speaker
    sv = SpeakerVerifier(lda_components=10, calibration="far", target_far=0.002).fit(X, y)
    enrol = np.tile(np.arange(6) < 3, 40)  # 3 clips of each new speaker to enrol
    known = yn < 1030                      # 30 enrolled speakers, 10 impostors
    sv.enroll(Xn[enrol & known], yn[enrol & known])
    test = ~enrol
    closed = sv.identify(Xn[test & known], open_set=False)
    assert np.mean(closed == yn[test & known]) > 0.9
    opened = sv.identify(Xn[test])
    unknown = opened == "unknown"
    assert np.mean(unknown[~known[test]]) > 0.8   # impostors mostly rejected
    assert np.mean(unknown[known[test]]) < 0.25   # enrolled speakers mostly named
    right = opened[known[test]] == yn[test & known]
    assert np.mean(right) > 0.7
    # the verification threshold at the EER lets most impostors through
    lenient = sv.identify(Xn[test], threshold=np.quantile(sv.calibration_scores_.score, 0.5))
    assert np.mean(lenient[~known[test]] == "unknown") < 0.5


def test_threshold_at_target_far_holds_on_new_speakers():
    rng, B, W = _population(5)
    X, y, _ = _speakers(rng, B, W, 150, 5)
    Xn, yn, _ = _speakers(rng, B, W, 120, 5, start=1000)
    sv = SpeakerVerifier(lda_components=11, calibration="far", target_far=0.05).fit(X, y)
    pairs = make_pairs(yn, n_same=None, n_different=None)
    accept = sv.predict((Xn[pairs.i], Xn[pairs.j]))
    far = accept[~pairs.same].mean()
    assert abs(far - 0.05) < 0.02
    # calibrated on its own training pairs instead, it accepts more impostors
    naive = clone(sv).set_params(calibration_cv=None).fit(X, y)
    assert naive.predict((Xn[pairs.i], Xn[pairs.j]))[~pairs.same].mean() > far


def test_eer_and_logistic_calibration(data):
    _, _, _, (X, y, _), (Xn, yn, _) = data
    eer_sv = SpeakerVerifier().fit(X, y)
    cal = eer_sv.calibration_scores_
    fa = (cal.score >= eer_sv.threshold_)[~cal.same].mean()
    miss = (cal.score < eer_sv.threshold_)[cal.same].mean()
    assert abs(fa - miss) < 0.03
    assert not hasattr(eer_sv, "predict_proba")
    lg = SpeakerVerifier(calibration="logistic").fit(X, y)
    pairs = make_pairs(yn, n_same=20, n_different=2, random_state=0)
    P = (Xn[pairs.i], Xn[pairs.j])
    proba = lg.predict_proba(P)[:, 1]
    np.testing.assert_array_equal(proba >= 0.5, lg.predict(P))
    s = lg.decision_function(P)
    assert np.all(np.diff(proba[np.argsort(s)]) >= 0)


def test_score_and_scorer_are_negative_eer_of_all_pairs(data):
    _, _, _, (X, y, _), (Xn, yn, _) = data
    sv = SpeakerVerifier(calibration_cv=None).fit(X, y)
    pairs = make_pairs(yn, n_same=None, n_different=None)
    s = sv.decision_function((Xn[pairs.i], Xn[pairs.j]))
    expected = -equal_error_rate(pairs.same, s)
    assert sv.score(Xn, yn) == pytest.approx(expected, abs=1e-12)
    assert make_verification_scorer()(sv, Xn, yn) == pytest.approx(expected, abs=1e-12)


def test_grid_search_over_speaker_disjoint_folds(data):
    _, _, _, (X, y, _), _ = data
    search = GridSearchCV(SpeakerVerifier(calibration_cv=None),
                          {"backend": ["cosine", "plda"], "whiten": [False]},
                          cv=GroupKFold(3)).fit(X, y, groups=y)
    # the loud within-speaker directions hurt the cosine and not the PLDA
    assert search.best_params_["backend"] == "plda"
    assert (search.cv_results_["mean_test_score"] < 0).all()


def test_bad_fit_input_is_explained(data):
    _, _, _, (X, y, _), _ = data
    y1 = y.copy()
    y1[0] = 999  # speaker 999 has a single clip
    with pytest.raises(ValueError, match=r"two clips per speaker.*\['999'\].*make_windows"):
        SpeakerVerifier().fit(X, y1)
    with pytest.raises(ValueError, match="lda_components=80 is more than LDA can give"):
        SpeakerVerifier(lda_components=80).fit(X, y)
    with pytest.raises(ValueError, match="calibration_cv=3 needs at least 6"):
        SpeakerVerifier().fit(X[:24], y[:24])
    sv = SpeakerVerifier(calibration_cv=None).fit(X, y)
    with pytest.raises(ValueError, match=r"not enrolled: \['77'\].*enroll\(X, speakers\)"):
        sv.verify(X[:2], [0, 77])
    np.testing.assert_array_equal(sv.verify(X[:2], [0, 0]),
                                  sv.score_claims(X[:2], [0, 0]) >= sv.threshold_)


def _voice(f0, formants, sr, seconds, seed):
    from scipy.signal import lfilter

    r = np.random.default_rng(seed)
    n = int(sr * seconds)
    f = f0 * (1 + 0.05 * np.sin(2 * np.pi * r.uniform(0.5, 2) * np.arange(n) / sr))
    phase = np.cumsum(f) / sr
    src = (np.diff(np.floor(phase), prepend=0) > 0).astype(float) + 0.02 * r.normal(size=n)
    y = src
    for fm in formants:
        rad, th = np.exp(-np.pi * (60 + 0.05 * fm) / sr), 2 * np.pi * fm / sr
        y = lfilter([1 - rad], [1, -2 * rad * np.cos(th), rad**2], y)
    return 0.3 * y / np.abs(y).max()


def test_front_end_equals_precomputed_table_and_refuses_other_rates():
    sr = 8000
    rng = np.random.default_rng(0)
    spk = [(rng.uniform(90, 250), rng.uniform([500, 1000, 2200], [900, 1800, 3000]))
           for _ in range(12)]
    labels = np.repeat(np.arange(12), 3)
    clips = ClipArray([_voice(spk[s][0], spk[s][1], sr, 0.5, i) for i, s in enumerate(labels)],
                      sr=sr)
    front = MelFeatures(kind="mfcc", n_mfcc=8, deltas=0, n_fft=256, hop_length=80, n_mels=20)
    sv = SpeakerVerifier(front_end=front, lda_components=6, calibration_cv=None)
    sv.fit(clips, labels)
    table = clone(front).fit(clips).transform(clips)
    ref = SpeakerVerifier(lda_components=6, calibration_cv=None).fit(table, labels)
    np.testing.assert_allclose(sv.decision_function((clips[:6], clips[6:12])),
                               ref.decision_function((table[:6], table[6:12])), rtol=1e-10)
    assert sv.identify(clips[:3], open_set=False).tolist() == [0, 0, 0]
    other = ClipArray([_voice(120, (700, 1200, 2600), 16000, 0.5, 0)], sr=16000)
    with pytest.raises(ValueError, match="front end MelFeatures refused X.*16000"):
        sv.enroll(other, ["new"])


# Checks that feed a plain matrix to predict / decision_function, which take pairs
PAIR_CHECKS = {
    "check_n_features_in_after_fitting", "check_estimators_dtypes", "check_dtype_object",
    "check_estimators_nan_inf", "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_dict_unchanged", "check_fit_idempotent", "check_fit2d_predict1d",
    # fit's second argument is named `speakers`, not `y`
    "check_fit_score_takes_y",
}


def test_sklearn_common_checks_except_pair_methods():
    results = check_estimator(SpeakerVerifier(calibration_cv=None), on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed <= PAIR_CHECKS, failed - PAIR_CHECKS
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_estimators_empty_data_messages", "check_requires_y_none",
            "check_fit2d_1sample", "check_transformer_general",
            "check_no_attributes_set_in_init"} <= passed


def test_forget_removes_speakers_and_keeps_the_rest(data):
    _, _, _, (X, y, _), (Xn, yn, _) = data
    sv = SpeakerVerifier(score_norm="s-norm", calibration_cv=None).fit(X, y)
    before = sv.score_speakers(Xn[:12])
    sv.forget([0, 5])
    assert len(sv.speakers_) == 58 and 0 not in set(sv.speakers_)
    np.testing.assert_array_equal(sv.score_speakers(Xn[:12]), np.delete(before, [0, 5], axis=1))
    with pytest.raises(ValueError, match=r"\['0'\] are not enrolled"):
        sv.forget([0])
    sv.forget()
    with pytest.raises(ValueError, match="no speaker is enrolled"):
        sv.identify(Xn[:2])
    sv.enroll(Xn[:12], yn[:12])
    assert sv.speakers_.tolist() == [1000, 1001]


@pytest.mark.parametrize("score_norm", [None, "s-norm"])
def test_score_matrix_equals_pair_scores(data, score_norm):
    _, _, _, (X, y, _), (Xn, _, _) = data
    sv = SpeakerVerifier(score_norm=score_norm, calibration_cv=None).fit(X, y)
    S = sv.score_matrix(Xn[:5], Xn[5:9])
    i, j = np.meshgrid(np.arange(5), np.arange(4), indexing="ij")
    np.testing.assert_allclose(S.ravel(), sv.decision_function(
        (Xn[:5][i.ravel()], Xn[5:9][j.ravel()])), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sv.score_matrix(Xn[:5]), sv.score_matrix(Xn[:5], Xn[:5]))


def test_calibrate_on_uses_only_those_clips_pairs(data):
    _, _, _, (X, y, _), _ = data
    mask = y < 30
    sv = SpeakerVerifier(calibration_cv=None).fit(X, y, calibrate_on=mask)
    i, j = np.triu_indices(mask.sum(), k=1)
    assert len(sv.calibration_scores_) == len(i)
    S = sv.score_matrix(X[mask])
    np.testing.assert_allclose(np.sort(sv.calibration_scores_.score), np.sort(S[i, j]))
    crossfit = SpeakerVerifier().fit(X, y, calibrate_on=mask)
    # the held-out folds' pairs of the masked speakers only: same-speaker pairs 30 * 15
    assert crossfit.calibration_scores_.same.sum() == 30 * 15
    with pytest.raises(ValueError, match="boolean mask with one entry per clip"):
        SpeakerVerifier().fit(X, y, calibrate_on=mask[:-1])


def test_scorer_reads_a_pipeline_ending_with_the_verifier(data):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _, _, _, (X, y, _), (Xn, yn, _) = data
    pipe = make_pipeline(StandardScaler(), SpeakerVerifier(calibration_cv=None)).fit(X, y)
    scaled = pipe[0].transform(Xn)
    pairs = make_pairs(yn, n_same=None, n_different=None)
    s = pipe[-1].decision_function((scaled[pairs.i], scaled[pairs.j]))
    assert make_verification_scorer("min_dcf", p_target=0.05)(pipe, Xn, yn) == pytest.approx(
        -min_dcf(pairs.same, s, p_target=0.05))
    with pytest.raises(TypeError, match="SpeakerVerifier or a Pipeline ending with one"):
        make_verification_scorer()(StandardScaler().fit(X), Xn, yn)


def test_adapt_on_centres_on_in_domain_clips_and_makes_them_the_cohort(data):
    _, _, _, (X, y, _), (Xn, _, _) = data
    shift = np.r_[3.0, np.zeros(D - 1)]  # the in-domain clips sit elsewhere
    Xa = np.r_[X, X[y < 20] + shift]
    ya = np.r_[y, y[y < 20] + 500]
    adapt = np.r_[np.zeros(len(X), bool), np.ones((y < 20).sum(), bool)]
    sv = SpeakerVerifier(backend="cosine", whiten=False, score_norm="s-norm",
                         calibration_cv=None).fit(Xa, ya, adapt_on=adapt)
    # by hand: centre on the in-domain mean, cohort = the 20 in-domain speakers' means
    m = Xa[adapt].mean(axis=0)

    def unit(V):
        return V / np.linalg.norm(V, axis=1, keepdims=True)

    Z, Zt = unit(Xn + shift - m), unit(Xa[adapt] - m)
    cohort = unit(np.stack([Zt[ya[adapt] == s].mean(axis=0) for s in np.unique(ya[adapt])]))
    raw = np.sum(Z[:4] * Z[4:8], axis=1)
    ca, cb = Z[:4] @ cohort.T, Z[4:8] @ cohort.T
    ref = 0.5 * ((raw - ca.mean(1)) / ca.std(1) + (raw - cb.mean(1)) / cb.std(1))
    got = sv.decision_function((Xn[:4] + shift, Xn[4:8] + shift))
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert sv.backend_.cohort_.shape[0] == 20
    # the PLDA scores speakers around the in-domain mean of its input vectors
    plda = SpeakerVerifier(calibration_cv=None).fit(Xa, ya, adapt_on=adapt)
    np.testing.assert_allclose(plda.backend_.plda_.mean_, plda.transform(Xa[adapt]).mean(0),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="cohort needs at least two"):
        SpeakerVerifier().fit(Xa, ya, adapt_on=ya == 500)
    with pytest.raises(ValueError, match="adapt_on must be a boolean mask"):
        SpeakerVerifier().fit(Xa, ya, adapt_on=adapt[:-1])


def test_precision_dcf_and_prior_aware_logistic_calibration():
    rng, B, W = _population(7)
    X, y, _ = _speakers(rng, B, W, 150, 5)
    Xn, yn, _ = _speakers(rng, B, W, 120, 5, start=1000)
    pairs = make_pairs(yn, n_same=None, n_different=None)
    P = (Xn[pairs.i], Xn[pairs.j])
    sv = SpeakerVerifier(lda_components=11, calibration="precision", target_precision=0.9)
    thresholds, s = {}, None
    for prior in (0.02, 0.2):
        sv.set_params(p_target=prior).fit(X, y)
        s = sv.decision_function(P) if s is None else s
        thresholds[prior] = sv.threshold_
        # on new speakers, the precision expected at that prior is near the target
        got = verification_report(pairs.same, s, sv.threshold_, p_target=prior)
        assert abs(got["precision_at_p_target"] - 0.9) < 0.05, prior
    # rarer genuine trials need a stricter threshold; so does the cost at a lower prior
    assert thresholds[0.02] > thresholds[0.2]
    dcf = [clone(sv).set_params(calibration="dcf", p_target=p, calibration_cv=None).fit(X, y)
           for p in (0.01, 0.5)]
    assert dcf[0].threshold_ > dcf[1].threshold_
    cal = dcf[0].calibration_scores_
    assert dcf[0].threshold_ == min_dcf(cal.same, cal.score, p_target=0.01,
                                        return_threshold=True)[1]
    # logistic at a prior: the equal-prior posterior moved by Bayes' rule (log odds add)
    even = clone(sv).set_params(calibration="logistic", p_target=None, calibration_cv=None)
    even.fit(X, y)
    rare = clone(even).set_params(p_target=0.1).fit(X, y)
    pe, pr = even.predict_proba(P)[:, 1], rare.predict_proba(P)[:, 1]
    np.testing.assert_allclose(np.log(pr / (1 - pr)), np.log(pe / (1 - pe)) + np.log(1 / 9),
                               rtol=1e-9, atol=1e-9)
    for calibration in ("precision", "dcf"):
        with pytest.raises(ValueError, match="needs p_target"):
            SpeakerVerifier(calibration=calibration).fit(X, y)
