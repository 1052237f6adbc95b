"""DriftReport.plot: the panels show the report's columns and data."""

import numpy as np
import pandas as pd
import pytest

from sklaudio.monitor import DriftMonitor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_plot_panels_follow_the_ranking(tmp_path):
    """Check panel order, colours of drifted titles, histogram mass and category bars."""
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"a": r.normal(size=200), "b": r.normal(size=200),
                        "flag": r.choice(["ok", "silent"], 200, p=[0.8, 0.2])})
    cur = pd.DataFrame({"a": r.normal(size=60), "b": r.normal(3, 1, size=60),
                        "flag": ["ok"] * 30 + ["silent"] * 20 + ["no_voice"] * 10})
    rep = DriftMonitor().fit(ref).test(cur)
    path = tmp_path / "drift.png"
    fig = rep.plot(top=3, path=path)
    assert path.stat().st_size > 1000
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().splitlines()[0] for ax in axes] == rep.table["feature"].tolist()
    red = matplotlib.colors.to_rgba("C3")
    for ax, drifted in zip(axes, rep.table["drifted"]):
        assert (matplotlib.colors.to_rgba(ax.title.get_color()) == red) == drifted
    hist = axes[rep.table["feature"].tolist().index("b")]
    widths = np.array([p.get_width() for p in hist.patches])
    heights = np.array([p.get_height() for p in hist.patches])
    # two density histograms (reference, current), each integrating to 1
    half = len(widths) // 2
    assert np.sum(widths[:half] * heights[:half]) == pytest.approx(1.0)
    assert np.sum(widths[half:] * heights[half:]) == pytest.approx(1.0)
    bars = axes[rep.table["feature"].tolist().index("flag")]
    labels = [t.get_text() for t in bars.get_xticklabels()]
    assert labels == ["ok", "silent", "(unseen)"]
    cur_heights = [p.get_height() for p in bars.patches][3:]
    assert cur_heights == pytest.approx([0.5, 20 / 60, 10 / 60])
    matplotlib.pyplot.close(fig)


def test_plot_adds_drifted_health_columns():
    """Check that drifted quality__ columns below the top ones get panels after them."""
    r = np.random.default_rng(0)
    ref = pd.DataFrame(r.normal(size=(200, 4)),
                       columns=["a", "b", "quality__snr_db", "quality__rms_dbfs"])
    cur = pd.DataFrame(r.normal(size=(80, 4)), columns=ref.columns) + [4.0, 3.0, 1.0, 0.0]
    rep = DriftMonitor().fit(ref).test(cur)
    assert rep.drifted_health == ["quality__snr_db"]
    fig = rep.plot(top=2)
    titles = [ax.get_title().splitlines()[0] for ax in fig.axes if ax.get_visible()]
    assert titles == ["a", "b", "quality__snr_db"]
    fig = rep.plot(top=2, health=0)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    matplotlib.pyplot.close("all")


def test_plot_rejects_bad_top():
    """Check that top must be a positive integer."""
    r = np.random.default_rng(0)
    rep = DriftMonitor().fit(r.normal(size=(30, 2))).test(r.normal(size=(20, 2)))
    with pytest.raises(ValueError, match="top must be a positive integer"):
        rep.plot(top=0)
