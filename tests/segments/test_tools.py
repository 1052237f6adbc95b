"""SegmentDetector, plot_segments and the readers/writers (the smooth command: tests/cli)."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklaudio.segments import (
    MinDurationSmoother,
    SegmentDetector,
    plot_segments,
    read_rttm,
    read_segments,
    write_segments,
)
from tests.conftest import require_data

SR = 8000


def _features(X):
    """RMS and zero-crossing rate per clip."""
    X = np.asarray(X, dtype=float)
    rms = np.sqrt(np.mean(X**2, axis=1))
    zcr = np.mean(np.abs(np.diff(np.signbit(X), axis=1)), axis=1)
    return np.c_[rms, zcr]


def _tone(n, rng):
    return 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / SR) + 0.01 * rng.standard_normal(n)


def _noise(n, rng):
    return 0.5 * rng.standard_normal(n)


def _clf(rng):
    X = np.stack([_tone(SR // 2, rng) for _ in range(20)]
                 + [_noise(SR // 2, rng) for _ in range(20)])
    y = ["tone"] * 20 + ["noise"] * 20
    pipe = make_pipeline(FunctionTransformer(_features), StandardScaler(), LogisticRegression())
    return pipe.fit(X, y)


def test_detector_finds_tone_and_noise_boundaries():
    """Check a tone/noise/tone recording gives three segments with boundaries within one hop."""
    rng = np.random.default_rng(0)
    y = np.r_[_tone(3 * SR, rng), _noise(2 * SR, rng), _tone(SR, rng)]
    det = SegmentDetector(_clf(rng), window=0.5, hop=0.25, sr=SR).fit()
    out = det.predict(y)
    assert out.label.tolist() == ["tone", "noise", "tone"]
    np.testing.assert_allclose(out.start.tolist()[1:], [3.0, 5.0], atol=0.25)
    assert out.start.iloc[0] == 0 and out.end.iloc[-1] == pytest.approx(6.0)
    # two recordings -> two streams; fit on clips via a clone
    det2 = SegmentDetector(make_pipeline(FunctionTransformer(_features), LogisticRegression()),
                           window=0.5, hop=0.5, sr=SR)
    X = np.stack([_tone(SR // 2, rng) for _ in range(10)]
                 + [_noise(SR // 2, rng) for _ in range(10)])
    out2 = det2.fit(X, ["tone"] * 10 + ["noise"] * 10).predict([y, y[: 3 * SR]])
    assert out2.stream.unique().tolist() == [0, 1]
    assert out2[out2.stream == 1].label.tolist() == ["tone"]


def test_detector_with_smoother_and_unfitted_estimator():
    """Check the smoother runs on the detections, and an unfitted classifier is refused."""
    rng = np.random.default_rng(1)
    y = np.r_[_tone(3 * SR, rng), _noise(SR // 4, rng), _tone(3 * SR, rng)]
    raw = SegmentDetector(_clf(rng), window=0.25, hop=0.25, sr=SR).fit().predict(y)
    assert len(raw) == 3
    sm = SegmentDetector(_clf(rng), window=0.25, hop=0.25, sr=SR,
                         smoother=MinDurationSmoother(min_duration_on=0.5, positive="noise"))
    assert sm.fit().predict(y).label.tolist() == ["tone"]
    with pytest.raises(Exception, match="not fitted"):
        SegmentDetector(LogisticRegression()).fit()


def test_plot_segments_rows_bars_and_colours(tmp_path):
    """Check one bar per segment in its row, coloured per class, and the file written."""
    import matplotlib.colors as mcolors

    raw = [{"start": 0, "end": 2, "label": "background"},
           {"start": 2, "end": 2.5, "label": "foreground"},
           {"start": 2.5, "end": 6, "label": "background"}]
    smooth = [{"start": 0, "end": 6, "label": "background"}]
    path = tmp_path / "p.png"
    ax = plot_segments([raw, smooth], titles=["raw", "smoothed"], colors={"foreground": "red"},
                       path=path)
    assert path.stat().st_size > 0
    bars = ax.patches
    assert len(bars) == 4
    rows = [b.get_y() + b.get_height() / 2 for b in bars]
    assert rows == [1, 1, 1, 0]  # first list on top
    assert [b.get_x() for b in bars[:3]] == [0, 2, 2.5]
    assert [b.get_width() for b in bars] == [2, 0.5, 3.5, 6]
    assert mcolors.to_hex(bars[1].get_facecolor()) == "#ff0000"
    assert mcolors.to_hex(bars[0].get_facecolor()) == "#fc997c"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["raw", "smoothed"]


def test_plot_segments_datetime_axis():
    """Check datetime segments are drawn on a date axis with the right widths."""
    import matplotlib.dates as mdates

    t0 = pd.Timestamp("2022-11-19T00:00:00Z")
    segs = [{"startTime": t0, "endTime": t0 + pd.Timedelta(hours=1), "segment": "background"}]
    ax = plot_segments(segs)
    (bar,) = ax.patches
    assert bar.get_x() == pytest.approx(mdates.date2num(t0.to_pydatetime()))
    assert bar.get_width() == pytest.approx(1 / 24)


def test_read_write_round_trip(tmp_path):
    """Check JSON and CSV round trips, ISO datetimes and pyAudioAnalysis' tab files."""
    segs = [{"start": 0.0, "end": 1.5, "label": "a"}, {"start": 1.5, "end": 2.0, "label": "b"}]
    write_segments(segs, tmp_path / "s.json")
    assert read_segments(tmp_path / "s.json") == segs
    write_segments(segs, tmp_path / "s.csv")
    pd.testing.assert_frame_equal(read_segments(tmp_path / "s.csv"), pd.DataFrame(segs))
    seed = [{"startTime": "2022-11-19T00:00:00Z", "endTime": "2022-11-19T01:00:00Z",
             "segment": "background"}]
    (tmp_path / "d.json").write_text(json.dumps(seed))
    got = read_segments(tmp_path / "d.json")
    assert got[0]["endTime"] - got[0]["startTime"] == pd.Timedelta(hours=1)
    (tmp_path / "x.segments").write_text("0.0\t0.13\tsilence\n0.13\t0.5\tspeech\t\n")
    assert read_segments(tmp_path / "x.segments").label.tolist() == ["silence", "speech"]


def test_real_speech_silence_segments_read():
    """Check pyAudioAnalysis' real .segments files read as valid, gap-free streams."""
    root = require_data("speech-silence")
    df = read_segments(root / "count.segments")
    assert set(df.label) == {"speech", "silence"}
    assert (df.start.to_numpy()[1:] == df.end.to_numpy()[:-1]).all()


def test_read_rttm_union_of_turns_on_real_ami():
    """Check speech = union of overlapping turns; uri trn00 from the RTTM; UEM fills spans."""
    root = require_data("ami-segments")
    df = read_rttm(root / "debug.train.rttm", uem=root / "debug.train.uem")
    assert "trn00" in set(df.stream)  # the RTTM's name (the wav file is trñ00.wav)
    for _, g in df.groupby("stream"):
        assert g.start.iloc[0] == 0 and g.end.iloc[-1] == 30
        assert (g.start.to_numpy()[1:] == g.end.to_numpy()[:-1]).all()
        assert (g.label.to_numpy()[1:] != g.label.to_numpy()[:-1]).all()
    # first trn00 turns: 3.168+0.8 and 5.463..6.103 overlapping 5.496..6.070
    g = df[df.stream == "trn00"]
    assert g.iloc[1][["start", "end"]].tolist() == pytest.approx([3.168, 3.968])
    assert g.iloc[3][["start", "end"]].tolist() == pytest.approx([5.463, 6.103])
