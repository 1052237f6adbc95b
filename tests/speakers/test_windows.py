"""make_windows on synthetic recordings with known silences, and on a real file."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklaudio.exceptions import AudioWarning
from sklaudio.preprocessing import Trimmer
from sklaudio.speakers import make_windows
from sklaudio.utils import ClipArray
from tests.conftest import require_data

SR = 8000


def _recording(rng, seconds, silent=()):
    y = 0.1 * rng.standard_normal(int(seconds * SR))
    for a, b in silent:
        y[int(a * SR) : int(b * SR)] = 0.0
    return y


def test_windows_are_slices_with_times_and_speakers(rng):
    y1, y2 = _recording(rng, 5.3), _recording(rng, 3.0)
    table, W = make_windows([y1, y2], length=2.0, hop=1.0, sr=SR, speakers=["ann", "bob"],
                            names=["r1", "r2"])
    assert table.recording.tolist() == ["r1"] * 4 + ["r2"] * 2
    assert table.speaker.tolist() == ["ann"] * 4 + ["bob"] * 2
    assert table.start_s.tolist() == [0.0, 1.0, 2.0, 3.0, 0.0, 1.0]
    assert (table.end_s - table.start_s == 2.0).all()
    assert isinstance(W, ClipArray) and W.sr == SR and W.shape == (6, 2 * SR)
    for row, w in zip(table.itertuples(), W):
        y = y1 if row.recording == "r1" else y2
        np.testing.assert_array_equal(w, y[int(row.start_s * SR) : int(row.end_s * SR)])


def test_silent_windows_dropped_by_speech_fraction(rng):
    y = _recording(rng, 6.0, silent=[(2.0, 4.0)])
    table, _ = make_windows([y], length=1.0, sr=SR, min_speech=0.5)
    assert table.start_s.tolist() == [0.0, 1.0, 4.0, 5.0]
    everything, _ = make_windows([y], length=1.0, sr=SR, min_speech=0.0)
    frac = dict(zip(everything.start_s, everything.speech_fraction))
    assert frac[2.0] < 0.1 and frac[1.0] == 1.0 and frac[0.0] == 1.0
    half, _ = make_windows([y], length=2.0, hop=1.0, sr=SR, min_speech=0.0)
    assert dict(zip(half.start_s, half.speech_fraction))[1.0] == pytest.approx(0.5, abs=0.05)


def test_head_and_tail_shift_times(rng):
    y = _recording(rng, 10.0)
    table, W = make_windows([y], length=2.0, sr=SR, drop_head=1.5, drop_tail=2.0)
    assert table.start_s.tolist() == [1.5, 3.5, 5.5]
    np.testing.assert_array_equal(W[1], y[int(3.5 * SR) : int(5.5 * SR)])


def test_trimmer_removes_pauses_and_says_so(rng):
    y = _recording(rng, 6.0, silent=[(1.0, 4.0)])  # 3 s of speech around a 3 s pause
    plain, _ = make_windows([y], length=1.0, sr=SR, min_speech=0.0)
    trimmed, W = make_windows([y], length=1.0, sr=SR, min_speech=0.0,
                              trimmer=Trimmer(min_silence=0.3, keep_silence=0.05))
    assert len(plain) == 6 and len(trimmed) == 3 and trimmed.trimmed.all()
    assert plain.speech_fraction.mean() == pytest.approx(0.5, abs=0.05)
    assert trimmed.speech_fraction.mean() > 0.85


def test_short_recordings_skipped_with_their_names(rng):
    with pytest.warns(AudioWarning, match=r"skipped 1 recording.*'tiny' \(0\.50 s\)"):
        table, _ = make_windows([_recording(rng, 3.0), _recording(rng, 0.5)], length=1.0,
                                sr=SR, names=["long", "tiny"])
    assert set(table.recording) == {"long"}
    with pytest.warns(AudioWarning), pytest.raises(ValueError, match="no window of length=2.0"):
        make_windows([_recording(rng, 0.5)], length=2.0, sr=SR)
    with pytest.raises(ValueError, match="2 recordings but 1 speakers"):
        make_windows([_recording(rng, 3.0)] * 2, length=1.0, sr=SR, speakers=["a"])


def test_paths_need_a_rate_and_load_at_it(rng, tmp_path):
    path = tmp_path / "talk.wav"
    sf.write(path, _recording(rng, 3.0), 16000)  # written at 16 kHz: 1.5 s
    with pytest.raises(ValueError, match="sr=None"):
        make_windows([str(path)], length=1.0)
    table, W = make_windows([str(path)], length=0.5, sr=SR)
    assert W.sr == SR and len(table) == 3 and table.recording[0] == str(path)


def test_real_recording_window_count():
    root = require_data("librispeech-251")
    m = pd.read_csv(root / "manifest.csv").iloc[:2]
    table, W = make_windows([str(root / p) for p in m.path], length=3.0, hop=1.5, sr=16000,
                            speakers=m.speaker, min_speech=0.0)
    expected = [int((d - 3.0) // 1.5) + 1 for d in m.duration_s]
    assert table.groupby("recording", sort=False).size().tolist() == expected
    assert table.speaker.tolist() == np.repeat(m.speaker.to_numpy(), expected).tolist()
