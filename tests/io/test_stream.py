"""Files read block by block (AudioLoader(stream=...)) equal files loaded whole."""

import pickle

import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_array_equal

from sklaudio.exceptions import AudioLoadError, AudioWarning, ParameterError
from sklaudio.io import AudioLoader, load_audio
from sklaudio.io._stream import open_stream
from sklaudio.utils._stream import StreamedClip, checked_blocks


def _noise(n, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(0.3 * rng.standard_normal((n, channels)), -1, 1).astype(np.float32)


def _stream(path, **kw):
    kw = {"sr": 22050, "mono": True, "offset": 0.0, "duration": None, "dtype": np.float32,
          "res_type": "soxr_hq", "on_truncated": "error", **kw}
    return open_stream(str(path), **kw)


@pytest.mark.parametrize("fmt, subtype, ext", [("WAV", "PCM_16", "wav"), ("WAV", "FLOAT", "wav"),
                                               ("FLAC", "PCM_24", "flac"),
                                               ("OGG", "VORBIS", "ogg"), ("MP3", None, "mp3")])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("kw", [{"sr": None}, {"sr": 16000}, {"sr": 8000, "offset": 0.7},
                                {"sr": 22050, "offset": 0.25, "duration": 1.3},
                                {"sr": 16000, "dtype": np.float64}])
def test_stream_equals_load_audio(tmp_path, fmt, subtype, ext, channels, kw):
    """Check the streamed samples are load_audio's, bit for bit, for every block size.

    The soxr stream resampler gives the same samples as librosa's one-shot soxr call
    (tolerance 0 in these cases; librosa's length is restored by cutting or padding).
    """
    path = tmp_path / f"a.{ext}"
    sf.write(str(path), _noise(44100 + 17, channels), 44100, format=fmt, subtype=subtype)
    ref, sr = load_audio(path, **kw)
    clip = _stream(path, **kw)
    assert (clip.sr, clip.n_samples, clip.dtype) == (sr, len(ref), ref.dtype)
    for block in (999, 4096, 1 << 20):
        blocks = list(clip.blocks(block))
        assert all(0 < len(b) <= block for b in blocks)
        assert_array_equal(np.concatenate(blocks), ref)


def test_stream_is_picklable_and_rereadable(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), _noise(20000), 16000)
    clip = _stream(path, sr=8000)
    again = pickle.loads(pickle.dumps(clip))
    assert_array_equal(again.read(), clip.read())
    assert_array_equal(clip.read(), load_audio(path, sr=8000)[0])


def test_stream_cut_short_on_disk(tmp_path):
    """Check a WAV whose header promises more than it holds: an error, or the samples present."""
    good = tmp_path / "full.wav"
    sf.write(str(good), _noise(225000)[:, 0], 16000, subtype="PCM_16")
    bad = tmp_path / "short.wav"
    bad.write_bytes(good.read_bytes()[:30000])
    with pytest.raises(AudioLoadError, match=r"short\.wav' is truncated: its header promises"):
        _stream(bad, sr=None)
    with pytest.warns(AudioWarning, match=r"short\.wav' is truncated"):
        clip = _stream(bad, sr=None, on_truncated="warn")
    with pytest.warns(AudioWarning):
        ref, _ = load_audio(bad, sr=None, on_truncated="warn")
    assert_array_equal(clip.read(), ref)


def test_stream_nan_names_file_and_sample(tmp_path):
    data = _noise(50000)[:, 0]
    data[40001] = np.nan
    path = tmp_path / "bad.wav"
    sf.write(str(path), data, 8000, subtype="FLOAT")
    clip = _stream(path, sr=None)
    with pytest.raises(AudioLoadError, match=r"Input contains NaN: '.*bad\.wav' at sample 40001"):
        clip.read()
    # an in-memory NaN is caught by the readers' per-block check, at its absolute index
    with pytest.raises(ValueError, match=r"NaN: clip 'x' at sample 40001 \(5.00 s\), given to T"):
        list(checked_blocks(StreamedClip.from_array(data, 8000, name="x"), "T", block_size=333))


def test_stream_errors_up_front(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), _noise(8000, 2), 8000)
    with pytest.raises(AudioLoadError, match="offset=2.0 s is at or beyond the end"):
        _stream(path, offset=2.0)
    with pytest.raises(ParameterError, match="has 2 channels, but a long file is streamed"):
        _stream(path, mono=False)
    with pytest.raises(ParameterError, match="res_type='kaiser_best' cannot resample"):
        _stream(path, sr=16000, res_type="kaiser_best")
    with pytest.raises(AudioLoadError, match="not found"):
        _stream(tmp_path / "missing.wav")


@pytest.mark.parametrize("stream, expect", [("auto", [False, False]), (False, [False, False]),
                                            (True, [True, True]), (1.5, [False, True])])
def test_audio_loader_stream_parameter(tmp_path, stream, expect):
    """Check which files stream, and that streamed or not the samples are the same."""
    paths = []
    for i, n in enumerate((8000, 16000)):  # 1 s and 2 s
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], _noise(n)[:, 0], 8000)
    X = AudioLoader(sr=16000, stream=stream).fit_transform(paths)
    assert [isinstance(c, StreamedClip) for c in X] == expect
    whole = AudioLoader(sr=16000, stream=False).fit_transform(paths)
    for c, ref in zip(X, whole):
        assert_array_equal(c.read() if isinstance(c, StreamedClip) else c, ref)
    # streamed clips pass through a loader at their rate, and are refused at another one
    assert AudioLoader(sr=16000).fit_transform(X)[1] is X[1]
    if expect[1]:
        with pytest.raises(ParameterError, match=r"got clip \d, a streamed clip at 16000 Hz"):
            AudioLoader(sr=8000).fit_transform(X)


def test_audio_loader_auto_streams_long_part_only(tmp_path):
    """Check "auto" looks at the part read: a long file cut by duration loads whole."""
    path = str(tmp_path / "long.wav")
    sf.write(path, np.zeros(8000 * 130, np.int16), 8000)  # 130 s
    X = AudioLoader(sr=None).fit_transform([path])
    assert isinstance(X[0], StreamedClip) and X[0].n_samples == 8000 * 130
    X = AudioLoader(sr=None, duration=100.0).fit_transform([path])
    assert isinstance(X[0], np.ndarray) and len(X[0]) == 8000 * 100
    X = AudioLoader(sr=None, offset=20.0).fit_transform([path])
    assert isinstance(X[0], np.ndarray)
