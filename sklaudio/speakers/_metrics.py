"""Verification metrics: DET curve, equal error rate, minimum detection cost, a report."""

from functools import wraps
from numbers import Real

import numpy as np
from sklearn.utils.validation import column_or_1d

from sklaudio.utils._compat import Interval, validate_params
from sklaudio.utils._docstring import Substitution

__all__ = ["det_curve", "equal_error_rate", "min_dcf", "threshold_at_precision",
           "verification_report"]


# the two parameters every function of trials takes (a module-level docstring entry)
TRIALS_DOC = """y_true : array-like of shape (n_trials,)
        1 or True for same-speaker (target) trials, 0 or False for the others.

    scores : array-like of shape (n_trials,)
        Scores, higher meaning more likely the same speaker."""

SAMPLE_WEIGHT_DOC = """sample_weight : array-like of shape (n_trials,), default=None
        Non-negative weight of each trial; the rates are shares of the weight. An
        integer weight counts as that many copies of the trial (as when speakers are
        resampled for a bootstrap). None weighs every trial 1."""


def _check_trials(y_true, scores, caller):
    y = column_or_1d(y_true)
    s = column_or_1d(scores).astype(np.float64)
    if len(y) != len(s):
        raise ValueError(
            f"{caller}: y_true has {len(y)} trials but scores has {len(s)}; pass one score "
            "per trial."
        )
    if not np.isfinite(s).all():
        bad = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"{caller}: scores[{bad}] is {s[bad]}; scores must be finite.")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1, True, False}:
        raise ValueError(
            f"{caller}: y_true must be 1/True for same-speaker (target) trials and 0/False "
            f"for different-speaker ones; got values {sorted(values, key=str)[:5]}."
        )
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError(
            f"{caller} needs both same-speaker and different-speaker trials; all "
            f"{len(y)} trials are {'same' if y.any() else 'different'}-speaker."
        )
    return y, s


def _check_weights(sample_weight, y, caller):
    """Float weights, one per trial, non-negative, with weight on both kinds of trial."""
    if sample_weight is None:
        return None
    w = column_or_1d(sample_weight).astype(np.float64)
    if len(w) != len(y):
        raise ValueError(
            f"{caller}: sample_weight has {len(w)} entries but there are {len(y)} trials; "
            "pass one weight per trial."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{caller}: sample_weight must be finite and non-negative.")
    for kind, mask in (("same", y), ("different", ~y)):
        if not w[mask].sum() > 0:
            raise ValueError(
                f"{caller}: the {kind}-speaker trials' weights sum to 0; rates need weight "
                "on both kinds of trial."
            )
    return w


def trials_function(**constraints):
    """Decorate a public function of ``(y_true, scores, ...)``: one place for its checks.

    Validates ``y_true``, ``scores`` and the other parameters (``constraints``, as
    :func:`~sklearn.utils._param_validation.validate_params` takes them), fills
    ``{trials}`` (and ``{sample_weight}`` if it is a parameter) in the docstring, and
    hands the function the checked trials (:func:`_check_trials`): a boolean
    ``y_true`` and float ``scores``, and float weights or None (:func:`_check_weights`).
    """

    def decorate(func):
        @wraps(func)
        def checked(y_true, scores, *args, **kwargs):
            y, s = _check_trials(y_true, scores, func.__name__)
            if weighted:
                kwargs["sample_weight"] = _check_weights(kwargs.get("sample_weight"), y,
                                                         func.__name__)
            return func(y, s, *args, **kwargs)

        weighted = "sample_weight" in constraints
        docs = dict(trials=TRIALS_DOC, **({"sample_weight": SAMPLE_WEIGHT_DOC} if weighted
                                          else {}))
        params = {"y_true": ["array-like"], "scores": ["array-like"], **constraints}
        return validate_params(params, prefer_skip_nested_validation=True)(
            Substitution(**docs)(checked))

    return decorate


def _rates(y, s, w=None):
    """Miss and false-accept rates for the thresholds 'accept when score >= t'.

    Returns (fpr, fnr, thresholds) with thresholds increasing: the distinct scores,
    then +inf (accept nothing). ``w``: a weight per trial (None: 1 each).
    """
    order = np.argsort(s, kind="mergesort")
    s, y = s[order], y[order]
    w = np.ones(len(s)) if w is None else w[order]
    tar, non = np.where(y, w, 0.0), np.where(y, 0.0, w)
    n_tar, n_non = tar.sum(), non.sum()
    # trials strictly below each distinct score are rejected
    thresholds, first = np.unique(s, return_index=True)
    tar_below = np.r_[0, np.cumsum(tar)][first]
    non_below = np.r_[0, np.cumsum(non)][first]
    fnr = np.r_[tar_below, n_tar] / n_tar
    fpr = np.r_[n_non - non_below, 0] / n_non
    return fpr, fnr, np.r_[thresholds, np.inf]


@trials_function(sample_weight=["array-like", None])
def det_curve(y_true, scores, *, sample_weight=None):
    """False-accept and miss rates at every threshold (the detection error trade-off).

    A trial is accepted (called same-speaker) when its score is at least the threshold.

    Parameters
    ----------
    {trials}

    {sample_weight}

    Returns
    -------
    fpr : ndarray of shape (n_thresholds,)
        False-accept rate: share of different-speaker trials accepted.

    fnr : ndarray of shape (n_thresholds,)
        Miss rate: share of same-speaker trials rejected.

    thresholds : ndarray of shape (n_thresholds,)
        Increasing: every distinct score, then ``inf`` (accept nothing).

    See Also
    --------
    sklearn.metrics.det_curve : The same trade-off, without the redundant points.
    equal_error_rate : Where the two rates meet.

    Examples
    --------
    >>> from sklaudio.speakers import det_curve
    >>> fpr, fnr, thr = det_curve([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> fpr.tolist(), fnr.tolist(), thr.tolist()
    ([1.0, 0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5, 1.0], [0.1, 0.4, 0.6, 0.9, inf])
    """
    return _rates(y_true, scores, sample_weight)


@trials_function(sample_weight=["array-like", None], return_threshold=["boolean"])
def equal_error_rate(y_true, scores, *, sample_weight=None, return_threshold=False):
    """The error rate where false accepts and misses are equally frequent.

    The DET curve is a staircase; the EER is read where the miss rate overtakes the
    false-accept rate, halfway between the two rates at that step (as Kaldi's
    ``compute-eer`` does between neighbouring points).

    Parameters
    ----------
    {trials}

    {sample_weight}

    return_threshold : bool, default=False
        Also return the threshold (accept when ``score >= threshold``) at the EER.

    Returns
    -------
    eer : float
        Equal error rate in [0, 1].

    threshold : float
        Only when ``return_threshold``.

    See Also
    --------
    det_curve : Both error rates at every threshold.
    min_dcf : The lowest detection cost over thresholds.

    Examples
    --------
    >>> from sklaudio.speakers import equal_error_rate
    >>> equal_error_rate([0, 0, 0, 0, 1, 1, 1, 1], [1, 2, 3, 6, 4, 5, 7, 8])
    0.25

    A trial of weight 3 counts as three copies of it:

    >>> equal_error_rate([0, 0, 0, 0, 1, 1, 1, 1], [1, 2, 3, 6, 4, 5, 7, 8],
    ...                  sample_weight=[1, 1, 1, 1, 3, 1, 1, 1])
    0.375
    >>> equal_error_rate([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 2, 3, 6, 4, 4, 4, 5, 7, 8])
    0.375
    """
    fpr, fnr, thr = _rates(y_true, scores, sample_weight)
    i = int(np.argmax(fnr >= fpr))  # first threshold where misses catch up
    if i == 0 or fnr[i] == fpr[i]:
        eer, t = (fpr[i] + fnr[i]) / 2, thr[i]
    else:
        # between step i-1 (fnr < fpr) and i: take the point of the two closest to equal
        j = i if abs(fnr[i] - fpr[i]) <= abs(fnr[i - 1] - fpr[i - 1]) else i - 1
        eer, t = (fpr[j] + fnr[j]) / 2, thr[j]
    return (float(eer), float(t)) if return_threshold else float(eer)


@trials_function(p_target=[Interval(Real, 0, 1, closed="neither")],
                 c_miss=[Interval(Real, 0, None, closed="neither")],
                 c_fa=[Interval(Real, 0, None, closed="neither")],
                 sample_weight=["array-like", None], return_threshold=["boolean"])
def min_dcf(y_true, scores, *, p_target=0.01, c_miss=1.0, c_fa=1.0, sample_weight=None,
            return_threshold=False):
    """Minimum normalised detection cost over all thresholds (NIST SRE's minDCF).

    ``DCF(t) = c_miss * p_target * P_miss(t) + c_fa * (1 - p_target) * P_fa(t)``,
    divided by the cost of the best trivial system, ``min(c_miss * p_target, c_fa *
    (1 - p_target))``: 1.0 means no better than always accepting or always rejecting.

    Parameters
    ----------
    {trials}

    p_target : float in (0, 1), default=0.01
        Prior probability of a same-speaker trial.

    c_miss : float, default=1.0
        Cost of a miss.

    c_fa : float, default=1.0
        Cost of a false accept.

    {sample_weight}

    return_threshold : bool, default=False
        Also return the threshold reaching the minimum.

    Returns
    -------
    min_dcf : float
        The minimum normalised cost, in [0, 1].

    threshold : float
        Only when ``return_threshold``.

    See Also
    --------
    equal_error_rate : The error rate where misses equal false accepts.

    Examples
    --------
    >>> from sklaudio.speakers import min_dcf
    >>> round(min_dcf([0, 0, 0, 0, 1, 1, 1, 1], [1, 2, 3, 6, 4, 5, 7, 8], p_target=0.5), 3)
    0.25
    """
    fpr, fnr, thr = _rates(y_true, scores, sample_weight)
    dcf = c_miss * p_target * fnr + c_fa * (1 - p_target) * fpr
    dcf = dcf / min(c_miss * p_target, c_fa * (1 - p_target))
    i = int(np.argmin(dcf))
    return (float(dcf[i]), float(thr[i])) if return_threshold else float(dcf[i])


def _precision(tpr, fpr, p_target):
    """Share of accepted trials that are same-speaker when a share ``p_target`` of all
    trials are (Bayes' rule on the two rates); NaN where nothing is accepted."""
    accepted = tpr * p_target + fpr * (1 - p_target)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(accepted > 0, tpr * p_target / accepted, np.nan)


@trials_function(target_precision=[Interval(Real, 0, 1, closed="right")],
                 p_target=[Interval(Real, 0, 1, closed="neither"), None])
def threshold_at_precision(y_true, scores, target_precision, *, p_target=None):
    """The lowest threshold whose same-speaker calls reach a precision, at a given prior.

    Precision depends on how many trials are same-speaker: with the same error rates,
    a verifier that is right 96 % of the time it says "same" on balanced trials is
    right far less often when different-speaker trials are 50 times as many. This
    function reads both error rates from the trials and computes the precision
    expected when a share ``p_target`` of the trials to come are same-speaker, then
    returns the lowest threshold (so the highest recall) that reaches
    ``target_precision``.

    Parameters
    ----------
    {trials}

    target_precision : float in (0, 1]
        Wanted share of same-speaker trials among those accepted.

    p_target : float in (0, 1) or None, default=None
        Expected share of same-speaker trials where the threshold will be used. None
        takes the share in ``y_true``, which is only right if the trials were drawn
        like the ones to come.

    Returns
    -------
    threshold : float
        Accept when ``score >= threshold``.

    recall : float
        Share of same-speaker trials accepted at that threshold (on these trials).

    Raises
    ------
    ValueError
        If no threshold reaches ``target_precision`` (the message gives the highest
        precision reachable).

    See Also
    --------
    min_dcf : The threshold minimising the expected cost at a prior.
    verification_report : Precision at a threshold, also at a given prior.

    Examples
    --------
    >>> from sklaudio.speakers import threshold_at_precision
    >>> y = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> s = [1, 2, 3, 6, 4, 5, 7, 8]
    >>> threshold_at_precision(y, s, 0.75)               # the trials' own mix (half)
    (4.0, 1.0)
    >>> threshold_at_precision(y, s, 0.75, p_target=0.1)  # same-speaker trials rarer
    (7.0, 0.5)
    """
    fpr, fnr, thr = _rates(y_true, scores)
    p = float(y_true.mean()) if p_target is None else p_target
    precision = _precision(1 - fnr, fpr, p)
    ok = np.flatnonzero(precision >= target_precision)
    if not len(ok):
        raise ValueError(
            f"threshold_at_precision: no threshold reaches precision {target_precision} "
            f"at p_target={p:.4g}; the highest reachable on these trials is "
            f"{np.nanmax(precision):.4g}. Lower target_precision, or expect more "
            "same-speaker trials."
        )
    # thresholds increase, so the first qualifying one keeps the most same-speaker trials
    return float(thr[ok[0]]), float(1 - fnr[ok[0]])


@trials_function(threshold=[Real], p_target=[Interval(Real, 0, 1, closed="neither"), None])
def verification_report(y_true, scores, threshold, *, p_target=None):
    """Error rates, precision and recall of same-speaker decisions at a threshold.

    Parameters
    ----------
    {trials}

    threshold : float
        Trials with ``score >= threshold`` are called same-speaker.

    p_target : float in (0, 1) or None, default=None
        Also report ``precision_at_p_target``: the precision expected at that
        threshold when a share ``p_target`` of the trials are same-speaker (from the
        two error rates), as opposed to ``precision``, which holds only for the mix
        of ``y_true``.

    Returns
    -------
    report : dict
        ``eer``, ``min_dcf`` (p_target=0.01), and at the threshold: ``far`` (false-accept
        rate), ``frr`` (miss rate), ``precision`` and ``recall`` of the same-speaker
        calls (as :func:`sklearn.metrics.precision_score` / ``recall_score``),
        ``n_target``, ``n_nontarget``; with ``p_target``, ``precision_at_p_target``
        (NaN if the threshold accepts nothing).

    See Also
    --------
    equal_error_rate, min_dcf, threshold_at_precision

    Examples
    --------
    >>> from sklaudio.speakers import verification_report
    >>> r = verification_report([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    >>> r["precision"], r["recall"], r["far"]
    (0.5, 0.5, 0.5)
    """
    y, s = y_true, scores
    accept = s >= threshold
    tp = int((accept & y).sum())
    far, recall = float((accept & ~y).sum() / (~y).sum()), float(tp / y.sum())
    report = dict(
        eer=equal_error_rate(y, s), min_dcf=min_dcf(y, s), far=far,
        frr=float((~accept & y).sum() / y.sum()),
        precision=float(tp / accept.sum()) if accept.any() else 0.0,
        recall=recall, n_target=int(y.sum()), n_nontarget=int((~y).sum()),
    )
    if p_target is not None:
        report["precision_at_p_target"] = float(_precision(recall, far, p_target))
    return report
