"""Figure of a drift report: reference against current batch, most drifted columns first."""

import numpy as np
import pandas as pd

from sklaudio.display._common import _display_docs, _pyplot, _save

__all__ = ["plot_report"]


@_display_docs("path")
def plot_report(report, *, top=6, health=3, path=None):
    """Histograms (or category proportions) of the top ``top`` columns of ``report.table``.

    Parameters
    ----------
    report : DriftReport
        A report from :meth:`DriftMonitor.test`.
    top : int, default=6
        Number of columns shown, from the top of the table.
    health : int, default=3
        Also show up to this many drifted audio health columns
        (``report.drifted_health``) that are not among the ``top`` ones: they say
        what changed in the recordings.
    {path}

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per column, titled with its name and test results (red when it
        drifted); the suptitle gives the overall decision.

    See Also
    --------
    DriftMonitor.test : Makes the report.
    DriftReport.plot : The same, as a method.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklaudio.monitor import DriftMonitor
    >>> from sklaudio.display import plot_drift
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"snr_db": rng.normal(30, 5, 200), "rms_dbfs": rng.normal(-25, 3, 200)})
    >>> report = DriftMonitor().fit(ref).test(ref.assign(snr_db=ref.snr_db - 15).iloc[:80])
    >>> fig = plot_drift(report, top=2)
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes]
    ['snr_db', 'rms_dbfs']
    """
    if report._reference is None:
        raise ValueError("this report carries no data to plot (it was rebuilt from a dict)")
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive integer; got {top!r}.")
    rows = report.table.head(top)
    extra = [f for f in report.drifted_health if f not in set(rows["feature"])][:health]
    if extra:
        rows = pd.concat([rows, report.table[report.table["feature"].isin(extra)]])
    n = len(rows)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows),
                                   squeeze=False)
    for ax, (_, row) in zip(axes.flat, rows.iterrows()):
        j = report._columns.index(row["feature"])
        ref, cur = report._reference[:, j], report._current[:, j]
        if row["feature"] in report._categories:
            _draw_categories(ax, ref, cur, report._categories[row["feature"]])
            detail = f"chi2 p_adj={row['p_adjusted']:.2g}, PSI={row['psi']:.2f}"
        else:
            _draw_numbers(ax, ref, cur)
            detail = (f"KS p_adj={row['p_adjusted']:.2g}, W/std={row['wasserstein_norm']:.2f}, "
                      f"PSI={row['psi']:.2f}")
        ax.set_title(f"{row['feature']}\n{detail}", fontsize=9,
                     color="C3" if row["drifted"] else "black")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    verdict = "DRIFT" if report.drift else "no drift"
    fig.suptitle(f"{verdict}: {len(report.drifted_features)} of {len(report.table)} columns "
                 f"drifted ({report.rule} rule, alpha={report.alpha})", fontsize=11)
    return _save(fig, path, tight=True)


def _draw_categories(ax, ref, cur, categories):
    """Category proportions, reference beside current; codes < 0 are unseen categories."""
    cats = list(categories) + ["(unseen)"]
    k = len(cats) - 1
    rp = np.bincount(ref.astype(int), minlength=k + 1) / len(ref)
    cp = np.bincount(np.where(cur < 0, k, cur).astype(int), minlength=k + 1) / len(cur)
    keep = (rp + cp) > 0
    x = np.arange(keep.sum())
    ax.bar(x - 0.2, rp[keep], 0.4, label=f"reference (n={len(ref)})", color="C0", alpha=0.6)
    ax.bar(x + 0.2, cp[keep], 0.4, label=f"current (n={len(cur)})", color="C3", alpha=0.6)
    ax.set_xticks(x, [c for c, m in zip(cats, keep) if m], rotation=30)
    ax.set_ylabel("proportion")


def _draw_numbers(ax, ref, cur):
    """Density histograms of reference and current on shared bins."""
    edges = np.histogram_bin_edges(np.r_[ref, cur], bins=30)
    if edges[0] == edges[-1]:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    ax.hist(ref, bins=edges, density=True, alpha=0.5, color="C0",
            label=f"reference (n={len(ref)})")
    ax.hist(cur, bins=edges, density=True, alpha=0.5, color="C3",
            label=f"current (n={len(cur)})")
    ax.set_ylabel("density")
