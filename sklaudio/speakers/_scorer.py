"""A grid-search scorer for verifiers: a metric over every pair of the held-out clips."""

from numbers import Real

from sklaudio.speakers._metrics import equal_error_rate, min_dcf
from sklaudio.utils._compat import Interval, StrOptions, validate_params

__all__ = ["make_verification_scorer"]


@validate_params(
    {"metric": [StrOptions({"eer", "min_dcf"})],
     "p_target": [Interval(Real, 0, 1, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def make_verification_scorer(metric="eer", *, p_target=0.01):
    """A scorer for :class:`~sklearn.model_selection.GridSearchCV` over speaker-disjoint folds.

    The scorer builds the trials inside the held-out fold, every unordered pair of its
    clips (same-speaker when their labels agree), scores them with the fitted
    verifier and returns the negated metric (greater is better). Split by speaker
    (``GroupKFold`` with ``groups=speakers``), or the held-out pairs are of speakers
    the back end has seen.

    Parameters
    ----------
    metric : {"eer", "min_dcf"}, default="eer"
        :func:`equal_error_rate` or :func:`min_dcf`.

    p_target : float in (0, 1), default=0.01
        Target prior of ``"min_dcf"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, speakers) -> float``, for a :class:`SpeakerVerifier`
        or a :class:`~sklearn.pipeline.Pipeline` ending with one.

    See Also
    --------
    SpeakerVerifier.score : The negated EER, the default of a grid search.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, GroupKFold
    >>> from sklaudio.speakers import SpeakerVerifier, make_verification_scorer
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat(np.arange(60), 4)
    >>> noise = np.r_[np.full(5, 2.0), np.full(5, 0.3)]     # a loud nuisance in 5 dims
    >>> X = rng.normal(size=(60, 10))[speakers] + noise * rng.normal(size=(240, 10))
    >>> search = GridSearchCV(SpeakerVerifier(), {"backend": ["cosine", "plda"]},
    ...                       scoring=make_verification_scorer("min_dcf"), cv=GroupKFold(3))
    >>> search.fit(X, speakers, groups=speakers).best_params_
    {'backend': 'plda'}
    """

    def scorer(estimator, X, speakers):
        verifier, table = estimator, X
        if not hasattr(verifier, "_all_pairs") and hasattr(estimator, "steps"):
            verifier = estimator.steps[-1][1]
            for _, step in estimator.steps[:-1]:
                if step is not None and step != "passthrough":
                    table = step.transform(table)
        if not hasattr(verifier, "_all_pairs"):
            raise TypeError(
                "make_verification_scorer scores a SpeakerVerifier or a Pipeline ending "
                f"with one; got {type(estimator).__name__}."
            )
        y, i, j, s = verifier._all_pairs(table, speakers)
        same = y[i] == y[j]
        if metric == "eer":
            return -equal_error_rate(same, s)
        return -min_dcf(same, s, p_target=p_target)

    return scorer
