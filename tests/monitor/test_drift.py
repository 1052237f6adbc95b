"""DriftMonitor: calibration and power on synthetic tables, reference p-values, bad input,
prediction drift, the rolling window, audio input and saving with skops."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sklaudio.exceptions import AudioWarning
from sklaudio.monitor import DriftMonitor, DriftReport


def _gauss(r, n, shift=(0.0, 0.0, 0.0, 0.0, 0.0)):
    shift = np.asarray(shift, dtype=float)
    return pd.DataFrame(r.normal(size=(n, len(shift))) + shift,
                        columns=[f"f{j}" for j in range(len(shift))])


# ------------------------------------------------------------------ calibration
@pytest.mark.parametrize("params, trials", [
    (dict(), 300),
    (dict(correction="fdr_bh"), 300),
    (dict(detector="classifier", random_state=0), 100),
])
def test_false_alarm_rate_without_drift(params, trials):
    """Check that with no drift the batch is flagged at most alpha + 0.02 of the time."""
    r = np.random.default_rng(7)
    alarms = 0
    for _ in range(trials):
        mon = DriftMonitor(**params).fit(_gauss(r, 90))
        alarms += mon.test(_gauss(r, 60)).drift
    assert alarms / trials <= 0.05 + 0.02


@pytest.mark.parametrize("detector", ["features", "classifier", "both"])
def test_power_and_ranking_on_one_shifted_column(detector):
    """Check that a 0.8 std shift of one column of five is found and ranked first."""
    r = np.random.default_rng(11)
    hits = top = 0
    for _ in range(20):
        mon = DriftMonitor(detector=detector, random_state=0).fit(_gauss(r, 150))
        rep = mon.test(_gauss(r, 100, shift=(0, 0, 0.8, 0, 0)))
        hits += rep.drift
        top += rep.table["feature"].iloc[0] == "f2"
    assert hits >= 19 and top == 20


# ------------------------------------------------------------------ references
@pytest.mark.parametrize("method", ["auto", "asymp"])
def test_p_values_equal_scipy_ks_2samp(method):
    """Check each column's p-value against scipy's ks_2samp (alibi-detect's KSDrift calls it
    with method "asymp") and the corrections against scipy's."""
    r = np.random.default_rng(5)
    ref, cur = _gauss(r, 120), _gauss(r, 90, shift=(0, 0.3, 0, 0.6, 0))
    rep = DriftMonitor(ks_method=method).fit(ref).test(cur)
    table = rep.table.set_index("feature").loc[ref.columns]
    want = [stats.ks_2samp(ref[c], cur[c], method=method).pvalue for c in ref.columns]
    np.testing.assert_allclose(table["p_value"], want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["p_adjusted"], np.minimum(np.array(want) * 5, 1.0),
                               atol=1e-12)
    bh = DriftMonitor(ks_method=method, correction="fdr_bh").fit(ref).test(cur)
    np.testing.assert_allclose(bh.table.set_index("feature").loc[ref.columns, "p_adjusted"],
                               stats.false_discovery_control(want), atol=1e-12)
    # Bonferroni decision as alibi-detect's: drift where p < alpha / n_columns
    assert rep.drifted_features == [c for c in ref.columns[np.argsort(want)]
                                    if want[list(ref.columns).index(c)] < 0.05 / 5]


def test_large_samples_use_distances():
    """Check that a trivial shift in large samples alarms by p-value but not by distance."""
    r = np.random.default_rng(2)
    ref, cur = _gauss(r, 20000), _gauss(r, 5000, shift=(0.06, 0, 0, 0, 0))
    by_p = DriftMonitor(rule="p_value").fit(ref).test(cur)
    auto = DriftMonitor().fit(ref).test(cur)
    assert by_p.drift and by_p.drifted_features == ["f0"]
    assert auto.rule == "distance" and not auto.drift
    assert auto.table["wasserstein_norm"].max() < 0.1
    big = DriftMonitor().fit(ref).test(_gauss(r, 5000, shift=(0, 0, 0, 0.3, 0)))
    assert big.drift and big.drifted_features == ["f3"]
    row = big.table.iloc[0]
    assert row["wasserstein_norm"] == pytest.approx(0.3, abs=0.05)
    # the rule switches on the smaller sample: 100 rows against 20000 use p-values
    assert DriftMonitor().fit(ref).test(_gauss(r, 100)).rule == "p_value"


def test_large_samples_classifier_uses_auc_threshold():
    """Check the domain classifier under the distance rule: drift iff AUC >= 0.55."""
    r = np.random.default_rng(4)
    ref = _gauss(r, 3000)
    # AUC of a 0.08 std shift in one column: Phi(0.08 / sqrt(2)) = 0.52
    tiny = DriftMonitor(detector="classifier", random_state=0).fit(ref).test(
        _gauss(r, 2000, shift=(0.08, 0, 0, 0, 0)))
    assert tiny.rule == "distance" and tiny.classifier["auc"] < 0.55 and not tiny.drift
    # the same batch by p-value: the folds' Mann-Whitney tests see the shift
    assert tiny.classifier["p_value"] < 0.05
    big = DriftMonitor(detector="classifier", random_state=0).fit(ref).test(
        _gauss(r, 2000, shift=(0.4, 0.4, 0, 0, 0)))
    assert big.classifier["auc"] >= 0.55 and big.drift


# ------------------------------------------------------------------ bad input
def test_column_mismatch_is_an_error_naming_them():
    """Check that missing or unexpected columns raise, naming them."""
    r = np.random.default_rng(0)
    mon = DriftMonitor().fit(_gauss(r, 50))
    cur = _gauss(r, 20).rename(columns={"f1": "rms"})
    with pytest.raises(ValueError, match=r"missing \['f1'\], unexpected \['rms'\]"):
        mon.test(cur)
    with pytest.raises(ValueError, match="pass the batch as a DataFrame"):
        mon.test(_gauss(r, 20).to_numpy())
    # same columns in another order: realigned by name, same report
    cur = _gauss(r, 20)
    a = mon.test(cur).table
    b = mon.test(cur[cur.columns[::-1]]).table
    pd.testing.assert_frame_equal(a, b)
    arr = DriftMonitor().fit(_gauss(r, 50).to_numpy())
    with pytest.raises(ValueError, match="batch has 4 columns, the reference 5"):
        arr.test(r.normal(size=(10, 4)))


def test_nan_and_inf_are_errors_naming_column_and_row():
    """Check that NaN or inf in the reference or a batch raises with column and row."""
    r = np.random.default_rng(0)
    ref = _gauss(r, 30)
    mon = DriftMonitor().fit(ref)
    cur = _gauss(r, 20)
    cur.loc[7, "f3"] = np.nan
    with pytest.raises(ValueError, match=r"NaN\) in column 'f3' at row 7"):
        mon.test(cur)
    cur.loc[7, "f3"] = np.inf
    with pytest.raises(ValueError, match=r"infinite value .* 'f3' at row 7"):
        mon.test(cur)
    bad = ref.copy()
    bad.loc[3, "f0"] = np.nan
    with pytest.raises(ValueError, match="reference has a missing value.*'f0' at row 3"):
        DriftMonitor().fit(bad)


def test_empty_and_single_row_batches():
    """Check that an empty batch raises and a one-row batch is tested with a warning."""
    r = np.random.default_rng(0)
    ref = _gauss(r, 200)
    mon = DriftMonitor().fit(ref)
    with pytest.raises(ValueError, match="batch is empty"):
        mon.test(ref.iloc[:0])
    one = pd.DataFrame([[50.0, 0, 0, 0, 0]], columns=ref.columns)
    with pytest.warns(AudioWarning, match="batch of 1 row"):
        rep = mon.test(one)
    # a value beyond the reference's range: D = 1 and the exact p-value is the chance
    # that one of n + 1 exchangeable values is the largest or the smallest, 2 / (n + 1)
    row = rep.table.set_index("feature").loc["f0"]
    assert row["statistic"] == 1.0
    assert row["p_value"] == pytest.approx(2 / 201, rel=1e-9)
    assert rep.drift == (5 * 2 / 201 < 0.05)
    # with 20 columns one row can never alarm at this reference size
    wide = pd.DataFrame(r.normal(size=(200, 20)))
    with pytest.warns(AudioWarning):
        assert not DriftMonitor().fit(wide).test(np.full((1, 20), 50.0)).drift
    with pytest.raises(ValueError, match="at least 2 rows in the batch"):
        DriftMonitor(detector="classifier").fit(ref).test(one)
    with pytest.raises(ValueError, match="at least 2 reference rows|minimum of 2"):
        DriftMonitor().fit(ref.iloc[:1])


def test_constant_reference_column():
    """Check that a constant reference column warns at fit and drifts on any other value."""
    r = np.random.default_rng(0)
    ref = _gauss(r, 100).assign(clipping_rate=0.0)
    with pytest.warns(AudioWarning, match=r"\[.clipping_rate.\] are constant"):
        mon = DriftMonitor().fit(ref)
    same = mon.test(_gauss(r, 50).assign(clipping_rate=0.0))
    row = same.table.set_index("feature").loc["clipping_rate"]
    assert row["statistic"] == 0.0 and row["p_value"] == 1.0 and row["psi"] == 0.0
    clipped = _gauss(r, 50).assign(clipping_rate=np.r_[np.full(40, 0.0), np.full(10, 0.01)])
    rep = mon.test(clipped)
    row = rep.table.iloc[0]
    assert rep.drifted_features == ["clipping_rate"] and row["test"] == "chi2"
    assert row["p_value"] == pytest.approx(
        stats.chi2_contingency([[100, 0], [40, 10]], correction=False).pvalue, rel=1e-10)
    assert row["wasserstein_norm"] == pytest.approx(0.002 / 1e-3)
    # one differing row in 50 is no evidence
    one = _gauss(r, 50).assign(clipping_rate=np.r_[np.full(49, 0.0), 0.01])
    assert not mon.test(one).drift


def test_categorical_columns_use_chi_square():
    """Check a string column: chi-square on category counts, unseen categories drift."""
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"x": r.normal(size=300),
                        "quality": r.choice(["ok", "silent"], 300, p=[0.9, 0.1])})
    mon = DriftMonitor().fit(ref)
    assert mon.categories_ == {"quality": ["ok", "silent"]}
    cur = pd.DataFrame({"x": r.normal(size=100),
                        "quality": ["ok"] * 60 + ["silent"] * 30 + ["no_voice"] * 10})
    rep = mon.test(cur)
    row = rep.table.set_index("feature").loc["quality"]
    counts = ref["quality"].value_counts()
    table = [[counts["ok"], counts["silent"], 0], [60, 30, 10]]
    assert row["test"] == "chi2"
    assert row["p_value"] == pytest.approx(
        stats.chi2_contingency(table, correction=False).pvalue, rel=1e-10)
    assert rep.drifted_features == ["quality"] and np.isnan(row["wasserstein_norm"])


def test_report_to_dict_is_json():
    """Check that the report's dict is JSON-serialisable, NaN as None, rows as the table."""
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"x": r.normal(size=100), "q": r.choice(["a", "b"], 100)})
    rep = DriftMonitor(detector="both", random_state=0).fit(ref).test(ref.assign(x=ref.x + 3))
    assert isinstance(rep, DriftReport)
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["drift"] is True and d["drifted_features"] == ["x"]
    assert [row["feature"] for row in d["features"]] == rep.table["feature"].tolist()
    assert d["features"][1]["wasserstein_norm"] is None
    assert d["classifier"]["auc"] > 0.9
    text = str(rep)
    assert text.startswith("drift: YES") and "domain classifier: AUC" in text
    wide = pd.DataFrame(r.normal(size=(100, 30)), columns=[f"c{j}" for j in range(30)])
    rep = DriftMonitor().fit(wide).test(wide.iloc[:50] + np.r_[np.full(5, 3.0), np.zeros(25)])
    lines = rep.format(max_rows=8).splitlines()
    assert len(lines) == 1 + 1 + 8 + 1
    assert lines[-1] == "... 22 more columns (0 of them drifted)"
    assert len(rep.format(max_rows=None).splitlines()) == 2 + 30


# ------------------------------------------------------------------ prediction drift
def test_prediction_drift_of_a_classifier_and_a_regressor():
    """Check the prediction column: chi-square on class counts, KS on regression outputs."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    r = np.random.default_rng(0)
    X = _gauss(r, 300)
    y = (X["f0"] > 0).astype(int).map({0: "female", 1: "male"})
    clf = LogisticRegression().fit(X, y)
    mon = DriftMonitor(model=clf).fit(X)
    assert mon.kinds_[-1] == "prediction" and mon.categories_ == {
        "prediction": ["female", "male"]}
    cur = _gauss(r, 100, shift=(1.0, 0, 0, 0, 0))
    rep = mon.test(cur)
    row = rep.table.set_index("feature").loc["prediction"]
    ref_counts = pd.Series(clf.predict(X)).value_counts()[["female", "male"]]
    cur_counts = pd.Series(clf.predict(cur)).value_counts().reindex(
        ["female", "male"], fill_value=0)
    assert row["p_value"] == pytest.approx(stats.chi2_contingency(
        [ref_counts.to_numpy(), cur_counts.to_numpy()], correction=False).pvalue, rel=1e-10)
    assert row["drifted"]

    reg = LinearRegression().fit(X, 3 * X["f1"] + 40)
    rep = DriftMonitor(model=reg).fit(X).test(cur)
    row = rep.table.set_index("feature").loc["prediction"]
    assert row["test"] == "ks"
    assert row["p_value"] == pytest.approx(
        stats.ks_2samp(reg.predict(X), reg.predict(cur)).pvalue, rel=1e-12)


# ------------------------------------------------------------------ rolling window
def test_window_keeps_the_last_rows():
    """Check update(): the window holds the last window_size rows, tested like a batch."""
    r = np.random.default_rng(0)
    ref = _gauss(r, 200)
    mon = DriftMonitor(window_size=150).fit(ref)
    with pytest.raises(ValueError, match="rolling window is empty"):
        mon.test()
    batches = [_gauss(r, 60) for _ in range(4)]
    for i, b in enumerate(batches):
        mon.update(b, timestamp=1000.0 + i)
    assert mon.window_.shape == (150, 5)
    last = pd.concat(batches, ignore_index=True).iloc[-150:]
    pd.testing.assert_frame_equal(mon.test().table, mon.test(last).table)
    assert np.array_equal(mon.window_times_, np.r_[np.full(30, 1001.0), np.full(60, 1002.0),
                                                   np.full(60, 1003.0)])


def test_window_by_time_drops_old_rows():
    """Check window_seconds: rows older than the window at the last update are dropped."""
    r = np.random.default_rng(0)
    mon = DriftMonitor(window_seconds=60.0).fit(_gauss(r, 100))
    mon.update(_gauss(r, 10), timestamp=0.0)
    mon.update(_gauss(r, 20), timestamp=30.0)
    assert len(mon.window_) == 30
    mon.update(_gauss(r, 5), timestamp=80.0)
    assert len(mon.window_) == 25 and mon.window_times_.min() == 30.0
    mon.update(_gauss(r, 0), timestamp=200.0)
    assert len(mon.window_) == 0


def test_max_reference_keeps_a_random_subset_of_rows():
    """Check max_reference: that many distinct reference rows, in their order, and the
    report is the one of a monitor fitted on exactly those rows."""
    r = np.random.default_rng(0)
    ref = _gauss(r, 500)
    mon = DriftMonitor(max_reference=120, random_state=0).fit(ref)
    assert mon.reference_.shape == (120, 5) and mon.n_reference_ == 120
    rows = [int(np.flatnonzero((ref.to_numpy() == row).all(axis=1))[0])
            for row in mon.reference_]
    assert len(set(rows)) == 120 and rows == sorted(rows)
    cur = _gauss(r, 80, shift=(0.5, 0, 0, 0, 0))
    pd.testing.assert_frame_equal(mon.test(cur).table,
                                  DriftMonitor().fit(ref.iloc[rows]).test(cur).table)


def test_skops_round_trip_keeps_reference_and_window():
    """Check that skops stores the fitted monitor (plain arrays) and the copy tests alike."""
    sio = pytest.importorskip("skops.io")
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"x": r.normal(size=200), "q": r.choice(["ok", "silent"], 200)})
    mon = DriftMonitor().fit(ref).update(ref.iloc[:40], timestamp=5.0)
    blob = sio.dumps(mon)
    untrusted = sio.get_untrusted_types(data=blob)
    assert all(t.startswith("sklaudio.") for t in untrusted), untrusted
    copy = sio.loads(blob, trusted=untrusted)
    cur = ref.assign(x=ref.x + 0.5).iloc[:80]
    pd.testing.assert_frame_equal(copy.test(cur).table, mon.test(cur).table)
    pd.testing.assert_frame_equal(copy.test().table, mon.test().table)


# ------------------------------------------------------------------ audio input
def _clips(r, n, sr=8000, noise_db=None):
    """Synthetic utterances: two vowels with a quiet pause between them."""
    from sklaudio.utils import ClipArray
    from tests.conftest import harmonic

    out = []
    for _ in range(n):
        f0 = r.uniform(100, 220)
        v = harmonic(f0, sr=sr, duration=0.3, amp=r.uniform(0.2, 0.5))
        y = np.r_[v, 0.001 * r.standard_normal(int(0.2 * sr)), v]
        if noise_db is not None:
            p = np.mean(y**2) / 10 ** (noise_db / 10)
            y = y + np.sqrt(p) * r.standard_normal(len(y))
        out.append(y)
    return ClipArray(np.array(out), sr)


def test_audio_input_adds_quality_columns_and_finds_noise():
    """Check fit on clips with features=MelFeatures: quality columns are monitored, and a
    noisy batch drifts with the SNR estimate among its top columns."""
    from sklaudio.features import MelFeatures, assess_quality

    r = np.random.default_rng(0)
    ref = _clips(r, 40)
    mel = MelFeatures(kind="mfcc", sr=8000, n_mfcc=4, n_fft=256, hop_length=128, n_mels=16)
    mel.fit(ref)
    mon = DriftMonitor(features=mel).fit(ref)
    names = list(mon.feature_names_)
    k = len(mel.get_feature_names_out())
    assert names[:k] == list(mel.get_feature_names_out())
    assert names[k:] == ["quality__" + c for c in assess_quality(ref[:1], 8000).columns]
    assert mon.categories_ == {"quality__quality": ["ok"]}
    np.testing.assert_allclose(mon.reference_[:, names.index("quality__snr_db")],
                               assess_quality(ref, 8000)["snr_db"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        assert not mon.test(_clips(r, 30)).drift
        rep = mon.test(_clips(r, 30, noise_db=5.0))
    assert rep.drift
    assert "quality__snr_db" in rep.drifted_features[:3]


def test_audio_paths_through_a_pipeline_with_a_loader(tmp_path):
    """Check files through features=model[:2] (loader + MelFeatures): the loaded clips feed
    the quality columns and the model's predictions come from its last step alone."""
    import soundfile as sf
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklaudio.features import MelFeatures, assess_quality
    from sklaudio.io import AudioLoader

    r = np.random.default_rng(1)
    clips = _clips(r, 24)
    paths = []
    for i, y in enumerate(clips):
        paths.append(str(tmp_path / f"c{i}.wav"))
        sf.write(paths[-1], y, 8000, subtype="FLOAT")
    labels = np.array(["low", "high"] * 12)
    model = Pipeline([
        ("load", AudioLoader(sr=8000)),
        ("mel", MelFeatures(kind="mfcc", sr=8000, n_mfcc=4, n_fft=256, hop_length=128,
                            n_mels=16)),
        ("clf", LogisticRegression()),
    ]).fit(paths, labels)
    mon = DriftMonitor(features=model[:2], model=model).fit(paths)
    names = list(mon.feature_names_)
    assert names[-1] == "prediction"
    k = len(model[1].get_feature_names_out())
    assert names[:k] == list(model[1].get_feature_names_out())  # the loader has none
    np.testing.assert_allclose(mon.reference_[:, names.index("quality__rms_dbfs")],
                               assess_quality(clips, 8000)["rms_dbfs"], atol=1e-4)
    pred = mon.reference_[:, -1].astype(int)
    assert [mon.categories_["prediction"][k] for k in pred] == list(model.predict(paths))
    rep = mon.test(paths[:12])
    assert set(rep.table["feature"]) == set(names)
    with pytest.raises(ValueError, match=r"audio_quality=True\) needs audio clips"):
        DriftMonitor(features=model[1]).fit(paths)


def test_window_of_audio_requests_tests_like_one_batch():
    """Check the service's path: update() with a few clips per request, then test() on the
    window equals test() on the same clips at once."""
    from sklaudio.features import MelFeatures
    from sklaudio.utils import ClipArray

    r = np.random.default_rng(3)
    ref = _clips(r, 30)
    mel = MelFeatures(kind="mfcc", sr=8000, n_mfcc=4, n_fft=256, hop_length=128,
                      n_mels=16).fit(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        mon = DriftMonitor(features=mel, window_size=12).fit(ref)
        new = _clips(r, 15, noise_db=10.0)
        for start in range(0, 15, 3):
            mon.update(ClipArray(list(new[start:start + 3]), 8000), timestamp=float(start))
        assert len(mon.window_) == 12
        pd.testing.assert_frame_equal(mon.test().table,
                                      mon.test(ClipArray(list(new[3:]), 8000)).table)
