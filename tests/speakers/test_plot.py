"""plot_verification draws the DET curve of det_curve and the two score histograms."""

import numpy as np
import pytest
from matplotlib.image import imread
from scipy.stats import norm

from sklaudio.speakers import det_curve, equal_error_rate, plot_verification


def test_figure_shows_the_det_curve_and_histograms(tmp_path):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    same = np.r_[np.ones(300), np.zeros(3000)].astype(bool)
    scores = np.where(same, 2.5, 0.0) + rng.normal(size=same.size)
    path = tmp_path / "det.png"
    fig = plot_verification(same, scores, threshold=1.5, path=path)
    ax_det, ax_hist = fig.axes
    fpr, fnr, _ = det_curve(same, scores)
    x, y = ax_det.lines[0].get_data()
    floor = norm.ppf(0.0005)
    np.testing.assert_allclose(x, np.maximum(norm.ppf(np.clip(fpr, 1e-12, 1 - 1e-12)), floor))
    np.testing.assert_allclose(y, np.maximum(norm.ppf(np.clip(fnr, 1e-12, 1 - 1e-12)), floor))
    eer = equal_error_rate(same, scores)
    assert f"EER {100 * eer:.2f} %" in [t.get_text() for t in ax_det.get_legend().get_texts()]
    heights = [sum(p.get_height() for p in c) for c in ax_hist.containers]
    widths = [c[0].get_width() for c in ax_hist.containers]
    # two density histograms, each integrating to one
    assert [h * w for h, w in zip(heights, widths)] == pytest.approx([1.0, 1.0])
    assert ax_hist.lines[0].get_xdata()[0] == 1.5  # the threshold line
    image = imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 800
    assert image[..., :3].std() > 0.05  # not a blank canvas
    plt.close(fig)
