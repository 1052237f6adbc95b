"""AudioAugmenter: counts, balancing, forms, reproducibility, pipeline/GridSearchCV behaviour."""

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import FunctionTransformer

from sklaudio.augment import (
    AddNoise,
    AudioAugmenter,
    Gain,
    PitchShift,
    TimeShift,
    TimeStretch,
    TrimSilence,
)
from sklaudio.exceptions import AudioWarning, ParameterError
from sklaudio.pipeline import Pipeline
from sklaudio.utils import ClipArray
from tests.conftest import harmonic

SR = 8000


def _data(n_per_class=(6, 3), n=4096, dtype=np.float64):
    rng = np.random.default_rng(0)
    X, y = [], []
    for label, count in enumerate(n_per_class):
        for _ in range(count):
            X.append(harmonic(200.0 * (label + 1) * rng.uniform(0.9, 1.1), sr=SR, duration=n / SR))
            y.append(label)
    return ClipArray(np.asarray(X, dtype=dtype), SR), np.asarray(y)


def test_counts_balancing_and_sample_indices():
    """Check n_copies copies per clip, then balancing to the majority count ("auto")."""
    X, y = _data((6, 3))
    aug = AudioAugmenter(operations=[Gain()], n_copies=2, sampling_strategy="auto",
                         random_state=0)
    X_res, y_res = aug.fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 18, 1: 18}
    assert aug.sampling_strategy_ == {1: 9}
    assert len(aug.sample_indices_) == len(X_res) == 36
    assert_array_equal(X_res[: len(X)], X)  # originals first, unchanged, in order
    assert_array_equal(y_res, y[aug.sample_indices_])
    # balancing copies use every minority clip in full rounds
    assert Counter(aug.sample_indices_[27:].tolist()) == {6: 3, 7: 3, 8: 3}
    assert isinstance(X_res, ClipArray) and X_res.sr == SR


def test_default_keeps_the_class_proportions():
    """Check that augmenting alone never rebalances: 60 + 4 clips stay 15:1 after copies."""
    X, y = _data((60, 4), n=256)
    aug = AudioAugmenter(operations=[Gain()], n_copies=2, random_state=0)
    _, y_res = aug.fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 180, 1: 12}
    assert aug.sampling_strategy_ == {}


def test_changes_length_is_an_attribute_of_the_operation():
    """Check the length-changing property each operation declares, and its use."""
    assert not Gain().changes_length and not AddNoise().changes_length
    assert TrimSilence().changes_length
    assert TimeStretch().changes_length and not TimeStretch(keep_length=True).changes_length

    class Crop(Gain):  # a user's own operation that shortens clips
        changes_length = True

        def _apply(self, y, sr, rng):
            return y[: len(y) // 2]

    X, y = _data((2, 2), n=512)
    aug = AudioAugmenter(operations=[Crop()], random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="no fixed output columns"):
        aug.get_feature_names_out()
    out, _ = aug.fit_resample(X, y)
    assert [len(c) for c in out] == [512] * 4 + [256] * 4


def test_operations_are_scikit_learn_estimators():
    """Check that operations get clone, repr and parameter validation from scikit-learn."""
    from sklearn.base import BaseEstimator

    op = AddNoise(snr_db=(5.0, 8.0), p=0.5)
    assert isinstance(op, BaseEstimator)
    twin = clone(op)
    assert twin is not op and twin.get_params() == op.get_params()
    assert repr(op) == "AddNoise(p=0.5, snr_db=(5.0, 8.0))"
    with pytest.raises(ValueError, match="'noise' parameter of AddNoise"):
        AddNoise(noise="purple").apply(np.ones(8), sr=SR)


def test_copies_are_new_audio_not_duplicates():
    """Check that every copy differs from its source and stays close in level (gain only)."""
    X, y = _data((4, 4))
    aug = AudioAugmenter(operations=[Gain(gain_db=(1.0, 3.0))], random_state=0)
    X_res, _ = aug.fit_resample(X, y)
    for src, copy in zip(X, X_res[len(X):]):
        ratio_db = 20 * np.log10(np.std(copy) / np.std(src))
        assert 1.0 - 1e-9 <= ratio_db <= 3.0 + 1e-9


@pytest.mark.parametrize("strategy, expected", [
    ("auto", {0: 6, 1: 6, 2: 6}),
    ("minority", {0: 6, 1: 4, 2: 6}),
    ({1: 5, 2: 4}, {0: 6, 1: 5, 2: 4}),
    (None, {0: 6, 1: 4, 2: 2}),
])
def test_sampling_strategy_follows_imblearn(strategy, expected):
    """Check imblearn's over-sampling meaning; with n_copies=0 untargeted classes are kept."""
    X, y = _data((6, 4, 2))
    aug = AudioAugmenter(operations=[AddNoise()], n_copies=0, sampling_strategy=strategy,
                         random_state=0)
    _, y_res = aug.fit_resample(X, y)
    assert Counter(y_res.tolist()) == expected


def test_dict_strategy_below_the_copied_count_explains_n_copies():
    """Check that a dict asking fewer clips than n_copies already gives says so."""
    X, y = _data((4, 2))
    aug = AudioAugmenter(operations=[Gain()], n_copies=1, sampling_strategy={1: 3})
    with pytest.raises(ValueError, match="after its n_copies=1 copies"):
        aug.fit_resample(X, y)


def test_reproducible_and_independent_of_n_jobs():
    """Check identical output for a fixed random_state (n_jobs 1 or 2), different otherwise."""
    X, y = _data((3, 2))
    ops = [("noise", AddNoise(noise="pink")), ("shift", TimeShift()), ("pitch", PitchShift(p=0.5))]
    a, _ = AudioAugmenter(operations=ops, n_copies=2, random_state=7).fit_resample(X, y)
    b, _ = AudioAugmenter(operations=ops, n_copies=2, random_state=7, n_jobs=2).fit_resample(X, y)
    c, _ = AudioAugmenter(operations=ops, n_copies=2, random_state=8).fit_resample(X, y)
    assert_array_equal(a, b)
    assert not np.allclose(a[len(X):], c[len(X):])


def test_dtype_and_forms():
    """Check float32 is kept; ragged in -> ragged out; stretch makes a matrix ragged."""
    X, y = _data((3, 3), dtype=np.float32)
    aug = AudioAugmenter(operations=[AddNoise(), PitchShift()], random_state=0)
    X_res, _ = aug.fit_resample(X, y)
    assert X_res.dtype == np.float32 and X_res.ndim == 2

    stretched, _ = AudioAugmenter(operations=[TimeStretch(rate=(0.8, 0.9))],
                                  random_state=0).fit_resample(X, y)
    assert stretched.is_ragged and stretched.sr == SR
    assert all(c.dtype == np.float32 for c in stretched)
    lengths = stretched.lengths
    assert np.all(lengths[:6] == 4096) and np.all(lengths[6:] > 4096 / 0.9 - 2)

    kept, _ = AudioAugmenter(operations=[TimeStretch(keep_length=True)],
                             random_state=0).fit_resample(X, y)
    assert kept.ndim == 2 and kept.shape == (12, 4096)

    ragged = ClipArray([X[0][:3000], X[1], X[3][:2500], X[4]], SR)
    out, y_out = AudioAugmenter(operations=[TrimSilence(), Gain()], random_state=0).fit_resample(
        ragged, [0, 0, 1, 1])
    assert out.is_ragged and len(out) == 8 and y_out == [0, 0, 1, 1, 0, 0, 1, 1]
    assert [len(c) for c in out[:4]] == [3000, 4096, 2500, 4096]


def test_containers_follow_the_input():
    """Check DataFrame -> DataFrame and list -> list (imblearn's rule); DataFrame + stretch
    raises."""
    X, y = _data((2, 2), n=64)
    df = pd.DataFrame(np.asarray(X), columns=[f"s{i}" for i in range(64)])
    aug = AudioAugmenter(operations=[Gain()], random_state=0)
    df_res, y_res = aug.fit_resample(df, pd.Series(y, name="label"))
    assert isinstance(df_res, pd.DataFrame) and list(df_res.columns) == list(df.columns)
    assert isinstance(y_res, pd.Series) and y_res.name == "label"
    list_res, y_list = aug.fit_resample([list(c) for c in X], y.tolist())
    assert isinstance(list_res, list) and isinstance(y_list, list) and len(list_res) == 8
    with pytest.raises(ValueError, match="DataFrame cannot"):
        AudioAugmenter(operations=[TrimSilence()]).fit_resample(df, y)


def test_short_clips_are_skipped_with_a_warning():
    """Check the documented skip: pitch shift needs 64 samples; others still apply."""
    X = ClipArray([np.ones(50) * 0.5, harmonic(300.0, sr=SR, duration=0.5)], SR)
    aug = AudioAugmenter(operations=[("pitch", PitchShift(n_steps=2.0)),
                                     ("gain", Gain(gain_db=6.0))],
                         random_state=0)
    with pytest.warns(AudioWarning, match=re.escape("'pitch' (PitchShift) was skipped for 1")):
        out, _ = aug.fit_resample(X, [0, 1])
    assert aug.n_skipped_ == {"pitch": 1}
    assert aug.n_applied_ == {"pitch": 1, "gain": 2}
    np.testing.assert_allclose(out[2], 0.5 * 10 ** (6 / 20))


def test_sr_is_resolved_against_the_clips():
    """Check that a different sr parameter than the clips carry raises."""
    X, y = _data((2, 2))
    with pytest.raises(ParameterError, match="carry sr=8000"):
        AudioAugmenter(sr=16000).fit_resample(X, y)
    assert AudioAugmenter(random_state=0).fit(X, y).sr_ == SR


def test_params_are_tunable_and_cloneable():
    """Check deep get_params/set_params through operation names, and clone."""
    aug = AudioAugmenter(operations=[("noise", AddNoise()), PitchShift(), PitchShift()])
    params = aug.get_params()
    assert params["noise__snr_db"] == (10.0, 30.0)
    assert "pitchshift-1__n_steps" in params and "pitchshift-2__p" in params
    aug.set_params(noise__snr_db=(0.0, 5.0), n_copies=3, **{"pitchshift-2__p": 0.25})
    assert aug.get_params()["noise__snr_db"] == (0.0, 5.0) and aug.n_copies == 3
    assert aug.get_params()["pitchshift-2__p"] == 0.25
    twin = clone(aug)
    assert twin.operations[0][1] is not aug.operations[0][1]
    assert twin.get_params()["noise__snr_db"] == (0.0, 5.0)
    # the defaults (operations=None) are tunable too
    default = AudioAugmenter().set_params(noise__p=1.0)
    assert dict(default.operations)["noise"].p == 1.0
    assert "AddNoise(snr_db=(0.0, 5.0))" in repr(aug)


@pytest.mark.parametrize("ops, err, msg", [
    ([AddNoise(snr_db=(30, 10))], ValueError, "'snr_db' parameter of AddNoise"),
    ([TimeShift(direction="up")], ValueError, "'direction' parameter of TimeShift"),
    ([Gain(p=1.5)], ValueError, "'p' parameter of Gain"),
    ([TimeStretch(rate=0.0)], ValueError, "'rate' parameter of TimeStretch"),
    (["noise"], TypeError, re.escape("operations[0] is 'noise', not an operation")),
    ([("a", Gain()), ("a", AddNoise())], ParameterError, "names must be unique"),
])
def test_invalid_operations_are_named(ops, err, msg):
    """Check that each bad operation or setting raises an error naming it."""
    X, y = _data((2, 2))
    with pytest.raises(err, match=msg):
        AudioAugmenter(operations=ops).fit_resample(X, y)


_CALLS = []


class _Recorder(ClassifierMixin, BaseEstimator):
    """Remembers how many rows reach fit and predict (module-level log: GridSearchCV clones)."""

    def fit(self, X, y):
        _CALLS.append(("fit", len(X)))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        _CALLS.append(("predict", len(X)))
        return np.full(len(X), self.classes_[0])


def _rms(clips):
    return np.array([[np.sqrt(np.mean(np.square(c)))] for c in clips])


def test_grid_search_sees_augmented_rows_at_fit_and_original_rows_at_predict():
    """Check by counting: fit gets n_train*(1+n_copies) rows, predict the original n_test."""
    X, y = _data((8, 8), n=512)
    pipe = Pipeline([
        ("aug", AudioAugmenter(operations=[("noise", AddNoise()), ("gain", Gain())],
                               random_state=0)),
        ("rms", FunctionTransformer(_rms)),
        ("clf", _Recorder()),
    ])
    grid = GridSearchCV(pipe, {"aug__n_copies": [1, 3], "aug__noise__snr_db": [5.0, 20.0]},
                        cv=StratifiedKFold(4), refit=True)
    _CALLS.clear()
    grid.fit(X, y)
    fits = [n for kind, n in _CALLS if kind == "fit"]
    predicts = [n for kind, n in _CALLS if kind == "predict"]
    # 4 candidates x 4 folds: n_copies 1 -> 24 rows, 3 -> 48 rows; scoring predicts 4 test rows
    assert sorted(fits[:-1]) == [24] * 8 + [48] * 8
    assert predicts == [4] * 16
    best_copies = grid.best_params_["aug__n_copies"]
    assert fits[-1] == 16 * (1 + best_copies)  # the refit on all 16 clips
    _CALLS.clear()
    assert len(grid.predict(X)) == 16
    assert _CALLS == [("predict", 16)]


def test_clips_shorter_than_the_default_fft_are_shifted_and_stretched():
    """Check that 0.125 s clips at 8 kHz (1000 samples < 2048) are augmented, not skipped."""
    y = harmonic(250.0, sr=8000, duration=0.125)
    X = ClipArray([y, harmonic(180.0, sr=8000, duration=0.2)], 8000)
    aug = AudioAugmenter(
        operations=[("pitch", PitchShift(n_steps=(3.0, 4.0))), ("stretch", TimeStretch(rate=0.8))],
        random_state=0,
    )
    out, _ = aug.fit_resample(X, [0, 1])
    assert aug.n_skipped_ == {} and aug.n_applied_ == {"pitch": 2, "stretch": 2}
    assert len(out[2]) == 1250 and len(out[3]) == 2000  # n / 0.8
    # f0 raised by 3-4 semitones (250 Hz -> 297-315 Hz)
    core = np.asarray(out[2][300:-300], dtype=np.float64)
    spec = np.abs(np.fft.rfft(core * np.hanning(len(core)), n=1 << 16))
    f = np.fft.rfftfreq(1 << 16, 1 / 8000)
    band = (f > 150) & (f < 450)
    assert 297 * 0.99 < f[band][np.argmax(spec[band])] < 315 * 1.01
