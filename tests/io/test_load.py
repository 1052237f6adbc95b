"""Tests of load_audio, load_audio_batch and AudioLoader (the file-path form (c))."""

import os
import pickle
import re

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from sklaudio.exceptions import AudioLoadError, AudioWarning, ParameterError
from sklaudio.io import AudioLoader, load_audio, load_audio_batch
from sklaudio.utils import (
    AudioTransformerMixin,
    ClipArray,
    check_clips,
    resolve_sr,
    validate_clips,
    wrap_clips,
)
from tests.conftest import require_data


def _noise(n, seed=0, channels=None, amp=0.3):
    rng = np.random.default_rng(seed)
    shape = (n,) if channels is None else (n, channels)
    return np.clip(amp * rng.standard_normal(shape), -1, 1)


def _write(path, data, sr, **kw):
    sf.write(str(path), data, sr, **kw)
    return str(path)


# ----------------------------------------------------------------- load_audio vs librosa


@pytest.mark.parametrize("ext, kw", [("wav", {"subtype": "PCM_16"}), ("flac", {}), ("ogg", {})])
def test_load_audio_native_rate_equals_librosa(tmp_path, ext, kw):
    """Check that with sr=None the samples are exactly librosa.load's."""
    path = _write(tmp_path / f"x.{ext}", _noise(12000), 12000, **kw)
    y, sr = load_audio(path, sr=None)
    y_ref, sr_ref = librosa.load(path, sr=None)
    assert sr == sr_ref == 12000
    assert y.dtype == np.float32
    assert_array_equal(y, y_ref)


@pytest.mark.parametrize("sr_native", [8000, 44100])
def test_load_audio_resampling_matches_librosa(tmp_path, sr_native):
    """Check 8k->16k and 44.1k->16k against librosa.load (soxr_hq) and the duration."""
    t = np.arange(sr_native) / sr_native
    y_in = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * _noise(sr_native, seed=1, amp=1)
    path = _write(tmp_path / "x.wav", np.clip(y_in, -1, 1), sr_native, subtype="FLOAT")
    y, sr = load_audio(path, sr=16000)
    y_ref, _ = librosa.load(path, sr=16000)
    assert sr == 16000
    assert len(y) == 16000  # one second
    assert_allclose(y, y_ref, rtol=1e-5, atol=1e-6)
    # a 440 Hz tone survives resampling: correlation with the ideal tone at 16 kHz
    ideal = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.corrcoef(y[200:-200], ideal[200:-200])[0, 1] > 0.95


def test_load_audio_offset_duration_matches_librosa_and_slice(tmp_path):
    """Check offset/duration read exactly the samples of that span."""
    data = _noise(16000, seed=2)
    path = _write(tmp_path / "x.wav", data, 8000, subtype="FLOAT")
    y, sr = load_audio(path, sr=None, offset=0.5, duration=0.25)
    y_ref, _ = librosa.load(path, sr=None, offset=0.5, duration=0.25)
    assert sr == 8000
    assert_array_equal(y, y_ref)
    assert_array_equal(y, data[4000:6000].astype(np.float32))
    # duration past the end reads to the end
    y, _ = load_audio(path, sr=None, offset=1.5, duration=10.0)
    assert_array_equal(y, data[12000:].astype(np.float32))


def test_load_audio_offset_is_exact_for_mp3(tmp_path):
    """Check that an MP3 offset gives the same samples as decoding from the start.

    libsndfile's MP3 seek is not sample-exact on some files (this tone is one), so
    load_audio decodes up to the offset instead of seeking.
    """
    t = np.arange(32000) / 16000
    path = _write(tmp_path / "tone.mp3", 0.5 * np.sin(2 * np.pi * 440 * t), 16000)
    full, sr = load_audio(path, sr=None)
    part, _ = load_audio(path, sr=None, offset=0.5, duration=0.25)
    assert sr == 16000
    assert_allclose(part, full[8000:12000], atol=1e-6)


def test_load_audio_reads_mp3_and_ogg_like_librosa(tmp_path):
    """Check MP3 decoding (libsndfile 1.2 with mpg123) against librosa.load."""
    path = _write(tmp_path / "x.mp3", _noise(16000, seed=3), 16000)
    y, sr = load_audio(path, sr=None)
    y_ref, _ = librosa.load(path, sr=None)
    assert sr == 16000
    assert_array_equal(y, y_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float64"])
def test_load_audio_dtype(tmp_path, dtype):
    path = _write(tmp_path / "x.wav", _noise(100), 8000)
    y, _ = load_audio(path, sr=None, dtype=dtype)
    assert y.dtype == np.dtype(dtype)


def test_load_audio_rejects_integer_dtype(tmp_path):
    path = _write(tmp_path / "x.wav", _noise(100), 8000)
    with pytest.raises(ParameterError, match=r"dtype=.*int16.* np.float32"):
        load_audio(path, dtype=np.int16)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sr": 0}, r"sr=0 is not a valid sampling rate"),
        ({"sr": "16k"}, r"sr='16k'"),
        ({"offset": -1.0}, r"offset=-1.0 is not valid"),
        ({"duration": 0}, r"duration=0 is not valid: expected a positive number"),
        ({"duration": np.nan}, r"duration=nan"),
    ],
)
def test_load_audio_rejects_bad_parameters(tmp_path, kwargs, match):
    path = _write(tmp_path / "x.wav", _noise(100), 8000)
    with pytest.raises(ParameterError, match=match):
        load_audio(path, **kwargs)


# ----------------------------------------------------------------- PCM and channels


def test_int16_wav_round_trips_exactly(tmp_path):
    """Check int16 PCM becomes value / 2**15 exactly."""
    pcm = np.array([-32768, -1, 0, 1, 12345, 32767], dtype=np.int16)
    path = _write(tmp_path / "x.wav", pcm, 8000, subtype="PCM_16")
    y, _ = load_audio(path, sr=None)
    assert y.dtype == np.float32
    assert_array_equal(y * 2**15, pcm.astype(np.float32))
    assert y.min() >= -1 and y.max() < 1


def test_int32_wav_round_trips_exactly_in_float64(tmp_path):
    """Check int32 PCM becomes value / 2**31, exactly in float64 (float32 has 24 bits)."""
    pcm = np.array([-(2**31), -1, 0, 1, 123456789, 2**31 - 1], dtype=np.int32)
    path = _write(tmp_path / "x.wav", pcm, 8000, subtype="PCM_32")
    y, _ = load_audio(path, sr=None, dtype=np.float64)
    assert_array_equal(y * 2**31, pcm.astype(np.float64))
    y32, _ = load_audio(path, sr=None)
    assert_allclose(y32, pcm / 2**31, rtol=1e-7, atol=1e-9)


def test_float64_wav_round_trips_exactly(tmp_path):
    data = _noise(1000, seed=4)
    path = _write(tmp_path / "x.wav", data, 8000, subtype="DOUBLE")
    y, _ = load_audio(path, sr=None, dtype=np.float64)
    assert_array_equal(y, data)


@pytest.mark.parametrize("layout", ["(2, n)", "(n, 2)"])
def test_stereo_file_loads_as_mean_of_channels(tmp_path, layout):
    """Check a stereo file from a (2, n) or (n, 2) array: mono = channel mean, or (2, n)."""
    left, right = _noise(800, seed=5), 0.5 * np.sin(np.arange(800) / 10)
    data = np.stack([left, right]) if layout == "(2, n)" else np.stack([left, right], axis=1)
    frames = data.T if layout == "(2, n)" else data  # soundfile wants (frames, channels)
    path = _write(tmp_path / "stereo.wav", frames, 8000, subtype="DOUBLE")
    assert sf.info(path).channels == 2
    y, _ = load_audio(path, sr=None, dtype=np.float64)
    assert y.shape == (800,)
    assert_allclose(y, (left + right) / 2, rtol=1e-12, atol=1e-15)
    y2, _ = load_audio(path, sr=None, mono=False, dtype=np.float64)
    assert y2.shape == (2, 800)
    assert_array_equal(y2, np.stack([left, right]))
    y_ref, _ = librosa.load(path, sr=None, mono=False, dtype=np.float64)
    assert_array_equal(y2, y_ref)


def test_stereo_resampled_keeps_channels_first(tmp_path):
    path = _write(tmp_path / "stereo.wav", _noise(8000, channels=2), 8000)
    y, sr = load_audio(path, sr=16000, mono=False)
    assert (y.shape, sr) == ((2, 16000), 16000)


# ----------------------------------------------------------------- bad files and inputs


def test_missing_file_names_path(tmp_path):
    path = str(tmp_path / "nope.wav")
    with pytest.raises(AudioLoadError, match=re.escape(repr(path)) + r".*holds no such file"):
        load_audio(path)
    with pytest.raises(AudioLoadError, match=r"Neither the file nor its folder exists"):
        load_audio(str(tmp_path / "no_dir" / "nope.wav"))


def test_string_that_is_not_a_file(tmp_path):
    """Check text passed as a path (e.g. the wrong column) gets a hint."""
    with pytest.raises(AudioLoadError, match=r"'the quick brown fox'.*no file extension"):
        load_audio("the quick brown fox")
    # an AudioLoadError is both a ValueError and an OSError
    with pytest.raises(OSError):
        load_audio("the quick brown fox")


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(AudioLoadError, match=r"is a folder, not an audio file.*read_folder"):
        load_audio(tmp_path)


def test_corrupt_file(tmp_path):
    """Check random bytes named .wav give an error naming the file."""
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(AudioLoadError, match=r"Cannot decode .*corrupt\.wav.*corrupt"):
        load_audio(path)


def test_truncated_wav(tmp_path):
    """Check a WAV cut in the middle of its header fails with the path."""
    good = _write(tmp_path / "good.wav", _noise(1000), 8000)
    bad = tmp_path / "cut.wav"
    bad.write_bytes(open(good, "rb").read()[:30])
    with pytest.raises(AudioLoadError, match=r"cut\.wav"):
        load_audio(bad)


def _cut_short(tmp_path, name="short.wav", keep=30000, **kw):
    """A 16-bit WAV whose header promises 225000 samples, cut to ``keep`` bytes on disk."""
    good = _write(tmp_path / f"full_{name}", _noise(225000), 16000, subtype="PCM_16", **kw)
    bad = tmp_path / name
    bad.write_bytes(open(good, "rb").read()[:keep])
    return good, bad


def test_wav_cut_short_on_disk_raises_naming_the_file(tmp_path):
    """Check a WAV holding 15 k of the 225 k samples its header promises is refused."""
    good, bad = _cut_short(tmp_path)
    msg = r"'.*short\.wav' is truncated: its header promises 225000 samples .* holds only 14978"
    with pytest.raises(AudioLoadError, match=msg):
        load_audio(bad, sr=None)
    with pytest.raises(AudioLoadError, match=r"short\.wav' is truncated"):
        load_audio_batch([good, bad], sr=None)
    with pytest.raises(AudioLoadError, match=r"short\.wav' is truncated"):
        AudioLoader(sr=None).fit_transform([good, bad])
    # the complete file is not flagged
    assert load_audio(good, sr=None)[0].shape == (225000,)


def test_wav_cut_short_on_disk_warns_with_on_truncated_warn(tmp_path):
    """Check on_truncated='warn' loads the samples present, equal to the full file's head."""
    good, bad = _cut_short(tmp_path)
    full, _ = load_audio(good, sr=None)
    with pytest.warns(AudioWarning, match=r"short\.wav' is truncated.*Using the samples"):
        y, sr = load_audio(bad, sr=None, on_truncated="warn")
    assert sr == 16000
    assert_array_equal(y, full[:14978])
    with pytest.warns(AudioWarning, match=r"short\.wav' is truncated"):
        X = AudioLoader(sr=None, on_truncated="warn").fit_transform([bad])
    assert_array_equal(X[0], full[:14978])
    with pytest.raises(ParameterError, match=r"on_truncated='skip' is not valid"):
        load_audio(bad, on_truncated="skip")
    with pytest.raises(InvalidParameterError, match="on_truncated"):
        AudioLoader(on_truncated="skip").fit([bad])


def test_flac_cut_short_on_disk_raises_naming_the_file(tmp_path):
    good = _write(tmp_path / "full.flac", _noise(225000), 16000)
    bad = tmp_path / "short.flac"
    bad.write_bytes(open(good, "rb").read()[:40000])
    with pytest.raises(AudioLoadError, match=r"short\.flac"):
        load_audio(bad, sr=None)


@pytest.mark.parametrize("name", ["notes.txt", "data.xyz"])
def test_unsupported_format_lists_extensions(tmp_path, name):
    path = tmp_path / name
    path.write_text("hello, this is not audio\n" * 20)
    with pytest.raises(AudioLoadError, match=r"not a supported audio format.*\.wav, \.flac"):
        load_audio(path)


def test_wav_content_with_unknown_extension_is_read(tmp_path):
    """Check libsndfile's header sniffing: a WAV named .xyz still loads."""
    data = _noise(500)
    path = _write(tmp_path / "x.wav", data, 8000, subtype="FLOAT")
    os.rename(path, tmp_path / "x.xyz")
    y, _ = load_audio(tmp_path / "x.xyz", sr=None)
    assert_array_equal(y, data.astype(np.float32))


def test_empty_files(tmp_path):
    """Check a 0-byte file and a header-only (0 frames) WAV give clear errors."""
    (tmp_path / "zero_bytes.wav").write_bytes(b"")
    with pytest.raises(AudioLoadError, match=r"zero_bytes\.wav.*empty \(0 bytes\)"):
        load_audio(tmp_path / "zero_bytes.wav")
    path = _write(tmp_path / "no_frames.wav", np.zeros(0), 8000)
    with pytest.raises(AudioLoadError, match=r"no_frames\.wav.*0 samples"):
        load_audio(path)
    with pytest.raises(AudioLoadError, match=r"no_frames\.wav"):
        AudioLoader().transform([path])


def test_offset_beyond_end(tmp_path):
    path = _write(tmp_path / "x.wav", _noise(8000), 8000)
    with pytest.raises(AudioLoadError, match=r"offset=2.0 s is at or beyond the end.*1\.000 s"):
        load_audio(path, offset=2.0)
    with pytest.raises(AudioLoadError, match=r"beyond the end"):
        load_audio(path, offset=1.0)


def test_nan_samples_in_float_file_name_the_file(tmp_path):
    """Check a float WAV holding NaN is rejected naming the file and sample, never returned."""
    data = _noise(100).astype(np.float32)
    data[37] = np.nan
    path = _write(tmp_path / "bad.wav", data, 8000, subtype="FLOAT")
    with pytest.raises(AudioLoadError, match=r"Input contains NaN: '.*bad\.wav' at sample 37"):
        load_audio(path, sr=None)
    data[37] = np.inf
    path = _write(tmp_path / "inf.wav", data, 8000, subtype="FLOAT")
    with pytest.raises(AudioLoadError, match=r"infinity \(inf\): '.*inf\.wav' at sample 37"):
        AudioLoader(sr=None).transform([path])


def test_nan_in_memory_clip_is_caught_by_the_next_step(tmp_path):
    """Check an in-memory NaN after loading is caught by check_clips with the clip index."""
    paths = [_write(tmp_path / f"{i}.wav", _noise(400, seed=i), 8000) for i in range(3)]
    X = AudioLoader(sr=None).transform(paths)
    X[1][5] = np.nan
    with pytest.raises(ValueError, match=r"Input contains NaN: clip 1 at sample 5"):
        _Gain().fit_transform(X)


def test_non_ascii_path(tmp_path):
    """Check a file whose name holds ñ (and a folder with é) loads, and errors keep the name."""
    folder = tmp_path / "grabación_é"
    folder.mkdir()
    data = _noise(1000)
    path = _write(folder / "señal_ñ.wav", data, 8000, subtype="FLOAT")
    y, sr = load_audio(path, sr=None)
    assert_array_equal(y, data.astype(np.float32))
    X = AudioLoader(sr=None).transform([path])
    assert_array_equal(X[0], data.astype(np.float32))
    with pytest.raises(AudioLoadError, match="año_ñ.wav"):
        load_audio(folder / "año_ñ.wav")


def test_path_types(tmp_path):
    """Check str, pathlib.Path and bytes paths."""
    path = _write(tmp_path / "x.wav", _noise(100), 8000)
    ref, _ = load_audio(path, sr=None)
    for p in (tmp_path / "x.wav", os.fsencode(path)):
        assert_array_equal(load_audio(p, sr=None)[0], ref)


@pytest.mark.parametrize(
    "bad, match",
    [
        (None, r"got None"),
        (3, r"got int"),
        (np.zeros((2, 3, 4)), r"got ndarray of shape \(2, 3, 4\)"),
    ],
)
def test_load_audio_rejects_non_paths(bad, match):
    with pytest.raises(TypeError, match=match):
        load_audio(bad)


# ----------------------------------------------------------------- batches


def _paths(tmp_path, lengths=(800, 1200, 400), sr=8000):
    return [
        _write(tmp_path / f"clip{i}.wav", _noise(n, seed=i), sr) for i, n in enumerate(lengths)
    ]


def test_load_audio_batch_keeps_order_and_sr(tmp_path):
    paths = _paths(tmp_path)
    X = load_audio_batch(paths, sr=16000)
    assert isinstance(X, ClipArray) and X.is_ragged
    assert X.sr == 16000
    assert_array_equal(X.lengths, [1600, 2400, 800])
    for x, p in zip(X, paths):
        assert_array_equal(x, load_audio(p, sr=16000)[0])


def test_load_audio_batch_equal_lengths_stays_ragged(tmp_path):
    """Check equal-length files still come back in the object form, one clip per item."""
    X = load_audio_batch(_paths(tmp_path, lengths=(800, 800)), sr=None)
    assert X.is_ragged and X.shape == (2,) and X.sr == 8000


def test_load_audio_batch_parallel_same_as_serial(tmp_path):
    """Check n_jobs=2 keeps the order (threads: worker processes take seconds to start)."""
    paths = _paths(tmp_path, lengths=(800, 1200, 400, 1000))
    serial = load_audio_batch(paths, sr=16000)
    with parallel_config(backend="threading"):
        parallel = load_audio_batch(paths, sr=16000, n_jobs=2)
    assert parallel.sr == 16000
    for a, b in zip(serial, parallel):
        assert_array_equal(a, b)


def test_load_audio_batch_verbose_prints_progress(tmp_path, capsys):
    load_audio_batch(_paths(tmp_path), sr=None, verbose=1)
    assert "3/3" in capsys.readouterr().err


def test_empty_input_list():
    with pytest.raises(ValueError, match=r"got 0 file paths"):
        load_audio_batch([])
    with pytest.raises(ValueError, match=r"AudioLoader got 0 file paths"):
        AudioLoader().fit_transform([])


def test_sr_none_needs_one_rate(tmp_path):
    """Check sr=None with 8 kHz and 16 kHz files names both files and says to set sr."""
    a = _write(tmp_path / "a8k.wav", _noise(800), 8000)
    b = _write(tmp_path / "b16k.wav", _noise(1600), 16000)
    msg = r"'.*a8k\.wav' is at 8000 Hz and '.*b16k\.wav' at 16000 Hz\. Set sr"
    with pytest.raises(ParameterError, match=msg):
        AudioLoader(sr=None).transform([a, b])
    X = AudioLoader(sr=16000).transform([a, b])
    assert_array_equal(X.lengths, [1600, 1600])


def test_batch_error_names_the_bad_file(tmp_path):
    paths = _paths(tmp_path)
    paths.insert(1, str(tmp_path / "missing.wav"))
    with pytest.raises(AudioLoadError, match=r"missing\.wav"):
        AudioLoader().transform(paths)


# ----------------------------------------------------------------- AudioLoader API


def test_audio_loader_input_containers(tmp_path):
    """Check list, ndarray, Series, 1-column DataFrame and (n, 1) array give the same clips."""
    paths = _paths(tmp_path)
    ref = AudioLoader(sr=None).transform(paths)
    inputs = [
        np.array(paths),
        np.array(paths, dtype=object).reshape(-1, 1),
        pd.Series(paths, index=[10, 11, 12]),
        pd.DataFrame({"path": paths}),
        tuple(paths),
    ]
    for X in inputs:
        out = AudioLoader(sr=None).fit_transform(X)
        assert out.sr == 8000
        assert len(out) == 3
        for a, b in zip(out, ref):
            assert_array_equal(a, b)


@pytest.mark.parametrize(
    "X, err, match",
    [
        ("a.wav", TypeError, r"single path 'a.wav'.*\[path\]"),
        (pd.DataFrame({"path": ["a"], "y": [1]}), ValueError, r"2 columns \['path', 'y'\]"),
        (np.zeros((2, 3, 4)), ValueError, r"dim 3.*got shape \(2, 3, 4\).*mix them down"),
        (["a.wav", None], TypeError, r"item 1 of the paths got None"),
        (["a.wav", np.nan], TypeError, r"item 1 of the paths got NaN"),
        ([np.zeros(10), "a.wav"], TypeError, r"clip 1 is a path \('a.wav'\)"),
        (5, TypeError, r"expects a list of file paths; got int"),
    ],
)
def test_audio_loader_rejects_bad_input(X, err, match):
    with pytest.raises(err, match=match):
        AudioLoader().fit_transform(X)


def test_audio_loader_parameters_are_validated_in_fit_and_transform(tmp_path):
    paths = _paths(tmp_path)
    for params in ({"sr": -1}, {"dtype": "int16"}, {"mono": "yes"}, {"offset": -0.1},
                   {"duration": 0}):
        with pytest.raises(InvalidParameterError):
            AudioLoader(**params).fit(paths)
        with pytest.raises(InvalidParameterError):
            AudioLoader(**params).transform(paths)


def test_audio_loader_params_reach_load_audio(tmp_path):
    path = _write(tmp_path / "s.wav", _noise(8000, channels=2), 8000)
    X = AudioLoader(sr=None, mono=False, offset=0.25, duration=0.5, dtype="float64").transform(
        [path]
    )
    ref, _ = load_audio(path, sr=None, mono=False, offset=0.25, duration=0.5, dtype=np.float64)
    assert X[0].shape == (2, 4000) and X[0].dtype == np.float64
    assert_array_equal(X[0], ref)
    X = AudioLoader(sr=8000, dtype=np.float64).transform([path])
    assert X[0].dtype == np.float64


def test_audio_loader_clone_pickle_and_tags(tmp_path):
    """Check the loader clones, pickles, and declares its non-matrix, stateless input."""
    paths = _paths(tmp_path)
    loader = AudioLoader(sr=16000, duration=0.05, n_jobs=1)
    assert clone(loader).get_params() == loader.get_params()
    restored = pickle.loads(pickle.dumps(loader.fit(paths)))
    for a, b in zip(restored.transform(paths), loader.transform(paths)):
        assert_array_equal(a, b)
    tags = loader.__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True
    # stateless: transform works without fit, and check_is_fitted passes
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(AudioLoader())
    assert AudioLoader(sr=None).transform(paths).sr == 8000


def test_audio_loader_output_survives_indexing_and_pickle(tmp_path):
    X = AudioLoader(sr=16000).transform(_paths(tmp_path))
    assert X[[2, 0]].sr == 16000
    Y = pickle.loads(pickle.dumps(X))
    assert Y.sr == 16000 and Y.is_ragged
    assert_array_equal(Y[1], X[1])


def test_audio_loader_feature_names_and_set_output(tmp_path):
    """Check get_feature_names_out explains itself and set_output keeps the clips."""
    paths = _paths(tmp_path)
    loader = AudioLoader(sr=None).fit(paths)
    with pytest.raises(ValueError, match=r"no column names.*get_feature_names_out"):
        loader.get_feature_names_out()
    out = loader.set_output(transform="pandas").transform(paths)
    assert isinstance(out, ClipArray) and out.sr == 8000


# ----------------------------------------------------------------- pipelines (form (c))


class _Gain(AudioTransformerMixin, BaseEstimator):
    """A trivial audio step following the contract: clips in, clips out, sr checked."""

    def __init__(self, *, gain=2.0, sr=None):
        self.gain = gain
        self.sr = sr

    def fit(self, X, y=None):
        validate_clips(self, X, reset=True)
        self.sr_ = resolve_sr(self.sr, X, caller="_Gain")
        return self

    def transform(self, X):
        clips, is_matrix = validate_clips(self, X, reset=False)
        sr = resolve_sr(self.sr, X, caller="_Gain")
        out = [self.gain * c for c in clips] if not is_matrix else self.gain * clips
        return self._wrap_output(wrap_clips(out, sr, as_matrix=is_matrix), sr, X)


def _rms_and_seconds(X):
    return np.array([[np.sqrt(np.mean(x**2)), len(x) / X.sr] for x in X])


def _feature_names(transformer, names_in):
    return np.array(["rms", "seconds"], dtype=object)


def _classification_files(tmp_path, n=8):
    """Loud and quiet noise files of different lengths and rates: class = loud."""
    paths, y = [], []
    for i in range(n):
        loud = i % 2
        sr = 8000 if i % 3 else 16000
        data = _noise(int(sr * (0.1 + 0.02 * i)), seed=i, amp=0.4 if loud else 0.02)
        paths.append(_write(tmp_path / f"f{i}.wav", data, sr))
        y.append(loud)
    return paths, np.array(y)


def _pipeline(**loader_params):
    return make_pipeline(
        AudioLoader(**{"sr": 16000, **loader_params}),
        _Gain(gain=2.0),
        FunctionTransformer(_rms_and_seconds, feature_names_out=_feature_names),
        LogisticRegression(),
    )


def test_pipeline_from_paths_carries_sr(tmp_path):
    """Check AudioLoader -> audio step -> features -> classifier on files at 8 and 16 kHz."""
    paths, y = _classification_files(tmp_path)
    pipe = _pipeline().fit(paths, y)
    assert pipe[1].sr_ == 16000  # the audio step read the rate from the loader's output
    clips = pipe[:2].transform(paths)
    assert isinstance(clips, ClipArray) and clips.sr == 16000
    feats = pipe[:3].transform(paths)
    expected_seconds = [sf.info(p).duration for p in paths]
    assert_allclose(feats[:, 1], expected_seconds, atol=1 / 16000)
    assert_array_equal(pipe.predict(paths), y)


def test_pipeline_sr_mismatch_is_an_error(tmp_path):
    paths, y = _classification_files(tmp_path)
    pipe = _pipeline()
    pipe.set_params(_gain__sr=8000)
    with pytest.raises(ParameterError, match=r"_Gain has sr=8000, but the clips .* 16000"):
        pipe.fit(paths, y)


def test_fitted_pipeline_pickle_round_trip(tmp_path):
    paths, y = _classification_files(tmp_path)
    pipe = _pipeline().fit(paths, y)
    restored = pickle.loads(pickle.dumps(pipe))
    assert_array_equal(restored.predict_proba(paths), pipe.predict_proba(paths))
    assert restored[:2].transform(paths).sr == 16000


def test_pipeline_set_output_pandas(tmp_path):
    """Check Pipeline.set_output(transform='pandas') works with a loader at its head."""
    paths, y = _classification_files(tmp_path)
    pipe = _pipeline().set_output(transform="pandas").fit(paths, y)
    feats = pipe[:-1].transform(paths)
    assert isinstance(feats, pd.DataFrame)
    assert list(feats.columns) == ["rms", "seconds"]
    assert isinstance(pipe[:2].transform(paths), ClipArray)
    assert_array_equal(pipe[2:-1].get_feature_names_out(), ["rms", "seconds"])


def test_pipeline_cross_validation_on_paths(tmp_path):
    """Check cross-validation indexes a list of paths and reloads each fold's files."""
    paths, y = _classification_files(tmp_path)
    scores = cross_val_score(_pipeline(), np.array(paths), y, cv=2)
    assert scores.shape == (2,) and np.all(scores == 1.0)


def test_check_clips_rejects_paths_not_loaded(tmp_path):
    """Check a path list given straight to an audio step points to AudioLoader."""
    with pytest.raises(TypeError, match=r"AudioLoader"):
        check_clips(_paths(tmp_path), caller="Step")


# ----------------------------------------------------------------- real recordings


def test_real_files_at_8_and_16_khz_in_one_run():
    """Check FSDD (8 kHz WAV) and LibriSpeech (16 kHz FLAC) clips loaded together at 16 kHz."""
    fsdd = require_data("fsdd")
    libri = require_data("librispeech-251")
    m_fsdd = pd.read_csv(fsdd / "manifest.csv").iloc[[0, 777, 2999]]
    m_libri = pd.read_csv(libri / "manifest.csv").iloc[[0, 100]]
    paths = [str(fsdd / p) for p in m_fsdd["path"]] + [str(libri / p) for p in m_libri["path"]]
    durations = list(m_fsdd["duration_s"]) + list(m_libri["duration_s"])
    X = AudioLoader(sr=16000).fit_transform(paths)
    assert X.sr == 16000 and len(X) == 5
    for x, p, d in zip(X, paths, durations):
        info = sf.info(p)
        # soxr's output length: ceil(frames * 16000 / sr_native)
        assert len(x) == int(np.ceil(info.frames * 16000 / info.samplerate))
        # the manifest rounds durations to the millisecond
        assert abs(len(x) - d * 16000) <= 0.0005 * 16000 + 1
        assert np.all(np.isfinite(x)) and np.abs(x).max() <= 1.0
    with pytest.raises(ParameterError, match=r"8000 Hz and .* 16000 Hz"):
        AudioLoader(sr=None).transform(paths)


def test_real_files_match_librosa():
    """Check real 8 kHz WAV and 44.1 kHz Ogg files against librosa.load at 16 kHz."""
    fsdd = require_data("fsdd")
    esc = require_data("esc10")
    for path in (fsdd / "recordings" / "3_jackson_7.wav",
                 esc / pd.read_csv(esc / "manifest.csv")["path"].iloc[0]):
        y, sr = load_audio(path, sr=16000, duration=2.0)
        y_ref, _ = librosa.load(path, sr=16000, duration=2.0)
        assert sr == 16000
        assert_allclose(y, y_ref, rtol=1e-5, atol=1e-6)


def test_real_non_ascii_file_name():
    """Check the AMI copy's file named trñ00.wav loads."""
    ami = require_data("ami-segments")
    y, sr = load_audio(ami / "trñ00.wav", sr=None, duration=1.0)
    assert sr == 16000 and len(y) == 16000


def test_audio_loader_passes_loaded_clips_through_and_resamples():
    """Check that clips in memory pass the loader: resampled as librosa does when they
    carry another rate, taken as they are when plain, and refused with sr=None when
    they carry no rate."""
    import librosa

    from sklaudio.exceptions import ParameterError
    from sklaudio.utils import ClipArray

    y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32)
    X = ClipArray([y, y[:4000]], sr=8000)
    out = AudioLoader(sr=16000).fit_transform(X)
    assert out.sr == 16000 and [len(c) for c in out] == [16000, 8000]
    np.testing.assert_allclose(out[0], librosa.resample(y, orig_sr=8000, target_sr=16000),
                               atol=1e-6)
    plain = AudioLoader(sr=8000).fit_transform(np.stack([y, y]))
    assert plain.sr == 8000 and plain.shape == (2, 8000)
    np.testing.assert_array_equal(plain[1], y)
    assert AudioLoader(sr=None).fit_transform(X).sr == 8000
    with pytest.raises(ParameterError, match="carry no sampling rate"):
        AudioLoader(sr=None).fit_transform([y])
