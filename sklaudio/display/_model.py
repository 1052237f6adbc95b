"""Pictures of model selection: grid-search scores against one parameter."""

import numpy as np

from sklaudio.display._common import _axes, _display_docs, _finish

__all__ = ["plot_grid_scores"]


def _label(value):
    if hasattr(value, "get_params"):
        return type(value).__name__
    return "none" if value is None or value == "passthrough" else str(value)


@_display_docs("ax", "title")
def plot_grid_scores(cv_results, param, *, by=None, ax=None, title=None, log_x=None):
    """Mean cross-validated score against one parameter, one line per other setting.

    For the age/gender grid: the score against ``clf__C``, one line per scaler and
    PCA choice.

    Parameters
    ----------
    cv_results : dict or fitted search
        ``search.cv_results_`` (or the search itself) of a
        :class:`~sklearn.model_selection.GridSearchCV`.
    param : str
        The parameter on the x axis, e.g. ``"clf__C"``.
    by : list of str or None, default=None
        Parameters whose combinations make the lines (None: every other parameter
        of the grid). Other parameters are maximised over.
    {ax}
    {title}
    log_x : bool or None, default=None
        Log x axis; None chooses it when the values are positive numbers spanning
        more than a factor 20.

    Returns
    -------
    ax : matplotlib Axes
        One line per combination of ``by``, with one-standard-deviation error bars
        over the folds.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Where ``cv_results_`` comes from.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import RobustScaler, StandardScaler
    >>> from sklaudio.display import plot_grid_scores
    >>> X, y = make_classification(random_state=0)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression())
    >>> grid = {"standardscaler": [StandardScaler(), RobustScaler()],
    ...         "logisticregression__C": [0.01, 1.0, 100.0]}
    >>> search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    >>> ax = plot_grid_scores(search, "logisticregression__C")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['standardscaler=RobustScaler', 'standardscaler=StandardScaler']
    """
    results = getattr(cv_results, "cv_results_", cv_results)
    key = f"param_{param}"
    if key not in results:
        names = sorted(k[len("param_"):] for k in results if k.startswith("param_"))
        raise ValueError(f"plot_grid_scores: {param!r} is not a grid parameter; "
                         f"the grid has {names}.")
    names = [k[len("param_"):] for k in results if k.startswith("param_") and k != key]
    by = names if by is None else list(by)
    x_all = np.asarray(results[key], dtype=object)
    mean = np.asarray(results["mean_test_score"], dtype=float)
    std = np.asarray(results["std_test_score"], dtype=float)
    groups = [tuple(_label(v) for v in row)
              for row in zip(*(results[f"param_{b}"] for b in by))] if by else [()] * len(mean)
    x_values = sorted({v for v in x_all if v is not None}, key=lambda v: (str(type(v)), v))
    ax = _axes(ax, figsize=(7, 4))
    for group in sorted(set(groups)):
        xs, ys, es = [], [], []
        for xv in x_values:
            sel = [i for i, (g, v) in enumerate(zip(groups, x_all)) if g == group and v == xv]
            if sel:
                best = sel[int(np.nanargmax(mean[sel]))]  # other parameters: their best
                xs.append(xv)
                ys.append(mean[best])
                es.append(std[best])
        label = ", ".join(f"{b}={g}" for b, g in zip(by, group)) or "score"
        ax.errorbar(xs, np.asarray(ys, dtype=float), yerr=np.asarray(es, dtype=float), marker="o",
                    capsize=3, label=label)
    numeric = all(isinstance(v, (int, float, np.number)) for v in x_values)
    if log_x is None:
        log_x = numeric and min(x_values) > 0 and max(x_values) / min(x_values) > 20
    if log_x:
        ax.set_xscale("log")
    ax.legend(fontsize=8)
    scoring = "score"
    return _finish(ax, xlabel=param, ylabel=f"mean cross-validated {scoring}", title=title)
