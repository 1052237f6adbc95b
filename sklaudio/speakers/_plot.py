"""A verification figure: the DET curve beside the histograms of both kinds of score."""

import os
from numbers import Real

import numpy as np
from scipy.stats import norm

from sklaudio.speakers._metrics import _rates, equal_error_rate, trials_function

__all__ = ["plot_verification"]

_TICKS = np.array([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4])


@trials_function(threshold=[Real, None], title=[str, None], path=[str, os.PathLike, None])
def plot_verification(y_true, scores, *, threshold=None, title=None, path=None):
    """Draw the DET curve and the score histograms of a set of verification trials.

    Left: miss rate against false-accept rate on normal-deviate axes (a straight line
    for Gaussian scores), with the equal error rate marked, and the operating point
    of ``threshold``. Right: histograms of same-speaker and different-speaker scores,
    with the threshold as a vertical line.

    Parameters
    ----------
    {trials}

    threshold : float or None, default=None
        A decision threshold to mark (e.g. ``SpeakerVerifier.threshold_``).

    title : str or None, default=None
        Figure title.

    path : str or Path or None, default=None
        Save the figure there (format from the extension).

    Returns
    -------
    fig : matplotlib Figure
        Two axes: the DET curve (its first line's data are the probit-scaled false
        accept and miss rates) and the histograms.

    See Also
    --------
    det_curve : The rates drawn on the left.
    verification_report : The figures at a threshold as numbers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklaudio.speakers import plot_verification
    >>> rng = np.random.default_rng(0)
    >>> same = np.r_[np.ones(200), np.zeros(2000)].astype(bool)
    >>> scores = np.where(same, 2.0, 0.0) + rng.normal(size=same.size)
    >>> fig = plot_verification(same, scores, threshold=1.0)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['false-accept rate (%)', 'score']
    """
    import matplotlib.pyplot as plt

    y, s = y_true, scores
    fpr, fnr, _ = _rates(y, s)
    eer = equal_error_rate(y, s)
    lo = norm.ppf(0.0005)

    def probit(p):
        return np.maximum(norm.ppf(np.clip(p, 1e-12, 1 - 1e-12)), lo)

    fig, (ax_det, ax_hist) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax_det.plot(probit(fpr), probit(fnr), color="C0", label="DET")
    ax_det.plot(probit(eer), probit(eer), "o", color="C3", label=f"EER {100 * eer:.2f} %")
    if threshold is not None:
        acc = s >= threshold
        far, frr = (acc & ~y).sum() / (~y).sum(), (~acc & y).sum() / y.sum()
        ax_det.plot(probit(far), probit(frr), "s", color="C2",
                    label=f"threshold: FA {100 * far:.2f} %, miss {100 * frr:.2f} %")
    ticks = probit(_TICKS)
    labels = [f"{100 * t:g}" for t in _TICKS]
    ax_det.set_xticks(ticks, labels)
    ax_det.set_yticks(ticks, labels)
    ax_det.set_xlim(lo, norm.ppf(0.5))
    ax_det.set_ylim(lo, norm.ppf(0.5))
    ax_det.plot([lo, norm.ppf(0.5)], [lo, norm.ppf(0.5)], ":", color="0.6", lw=0.8)
    ax_det.set_xlabel("false-accept rate (%)")
    ax_det.set_ylabel("miss rate (%)")
    ax_det.set_title("detection error trade-off")
    ax_det.grid(alpha=0.3)
    ax_det.legend(loc="upper right", fontsize=8)

    bins = np.histogram_bin_edges(s, bins=60)
    ax_hist.hist(s[~y], bins=bins, density=True, alpha=0.6, color="C1",
                 label=f"different speakers ({(~y).sum()})")
    ax_hist.hist(s[y], bins=bins, density=True, alpha=0.6, color="C0",
                 label=f"same speaker ({y.sum()})")
    if threshold is not None:
        ax_hist.axvline(threshold, color="C2", lw=1.5, label=f"threshold {threshold:.3g}")
    ax_hist.set_xlabel("score")
    ax_hist.set_ylabel("density")
    ax_hist.set_title("scores")
    ax_hist.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
