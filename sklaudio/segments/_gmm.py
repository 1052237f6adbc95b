"""GMMSegmentSmoother: relabel the segments whose durations a Gaussian mixture calls spurious."""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state

from sklaudio.segments._base import BaseSegmentSmoother
from sklaudio.segments._hsmm import hsmm_decode
from sklaudio.segments._table import from_arrays, join_runs, stream_edges, to_arrays
from sklaudio.utils._compat import Interval, StrOptions, _fit_context, check_is_fitted

__all__ = ["GMMSegmentSmoother"]

# decodes of the hard EM (the estimates settle after three or four)
_EM_DECODES = 5
# spread (log seconds) of the spurious durations at most: +-2 of it spans a factor of 25
_MAX_FLIP_STD = 0.8
_MIN_LOG_STD = 0.05
# a mixture component is a population of short segments, not a few outliers, only with
# this weight at least and this spread (log seconds) at most
_MIN_SHORT_WEIGHT = 0.03
_MAX_SHORT_STD = 2.0


def _exposure(dur, code, n):
    """Seconds of the other classes' segments, per class."""
    per = np.bincount(code, weights=dur, minlength=n)
    return per.sum() - per


def _two_component_threshold(weights, means, stds):
    """Duration between the two means where the posteriors of the components are equal.

    ``means`` ascending. In one dimension GaussianMixture.predict assigns the durations
    between the means to the lower component up to this point. Below the lower mean, a
    much wider upper component can win again (predict would then keep the shortest,
    most clearly spurious segments); the smoother relabels everything under the
    threshold instead. Without a crossing between the means, the nearer mean is used.
    """
    (w0, w1), (m0, m1), (s0, s1) = weights, means, stds
    v0, v1 = s0 * s0, s1 * s1

    def f(x):  # log posterior ratio, lower over upper
        return (np.log(w0 / s0) - (x - m0) ** 2 / (2 * v0)) - (
            np.log(w1 / s1) - (x - m1) ** 2 / (2 * v1)
        )

    if f(m0) <= 0:
        return float(m0)
    if f(m1) >= 0:
        return float(m1)
    a = -1 / (2 * v0) + 1 / (2 * v1)
    b = m0 / v0 - m1 / v1
    c = -(m0**2) / (2 * v0) + m1**2 / (2 * v1) + np.log(w0 / s0) - np.log(w1 / s1)
    if abs(a) < 1e-12 * max(abs(b), 1e-300):
        root = -c / b
    else:
        disc = np.sqrt(max(b * b - 4 * a * c, 0.0))
        roots = np.array([(-b - disc) / (2 * a), (-b + disc) / (2 * a)])
        inside = roots[(roots >= m0) & (roots <= m1)]
        # exactly one root lies between the means (the sign of f changes there once)
        root = inside[0] if len(inside) else (m0 + m1) / 2
    return float(root)


def _mixtures(x, *, max_components, tol, random_state, init="kmeans"):
    """GaussianMixture with 1..max_components components on ``x`` (skipping more
    components than distinct values), with their AIC and BIC."""
    X = x.reshape(-1, 1)
    n_distinct = np.unique(x).size
    fits = []
    for k in range(1, max_components + 1):
        if k > n_distinct:
            break  # k components need k distinct durations
        with warnings.catch_warnings():
            # a mixture with too many components may stop early; BIC then rejects it
            warnings.simplefilter("ignore", ConvergenceWarning)
            gmm = GaussianMixture(n_components=k, random_state=random_state, tol=tol,
                                  init_params=init).fit(X)
        fits.append((gmm, gmm.aic(X), gmm.bic(X)))
    return fits


def _sorted_params(gmm):
    order = np.argsort(gmm.means_[:, 0])
    return (gmm.weights_[order], gmm.means_[order, 0], np.sqrt(gmm.covariances_[order, 0, 0]))


def _empty_result(n, max_components):
    nan = [np.nan] * max_components
    return {
        "n": n, "n_components": 0, "means": list(nan), "stds": list(nan),
        "weights": list(nan), "threshold": np.nan, "scores": list(nan), "gmm": None,
        "bic_gain": np.nan, "separation": np.nan, "short_ratio": np.nan, "spurious": False,
    }


def _subsample(d, max_fit_samples, random_state):
    if max_fit_samples is not None and len(d) > max_fit_samples:
        rng = check_random_state(random_state)
        d = d[rng.choice(len(d), max_fit_samples, replace=False)]
    return d


def _fit_duration_model(d, *, rule, min_samples, n_std, tol, random_state, max_fit_samples,
                        max_components, min_gain, min_separation, max_short_ratio):
    """One class's duration model; ``rule`` is "original" or "robust"."""
    out = _empty_result(len(d), max_components)
    if len(d) <= min_samples or len(d) < 2:  # GaussianMixture needs two samples
        return out
    d = _subsample(d, max_fit_samples, random_state)
    log = rule == "robust"
    x = np.log(d) if log else d
    # the original starts from k-means (scikit-learn's default); k-means++ initialisation alone
    # is as good on one dimension and much cheaper
    fits = _mixtures(x, max_components=max_components, tol=tol, random_state=random_state,
                     init="kmeans" if rule == "original" else "k-means++")
    if rule == "original":
        scores = [(aic + bic) / 2 for _, aic, bic in fits]
    else:
        scores = [bic for _, _, bic in fits]
    best = fits[int(np.argmin(scores))][0]  # the first of equal scores, as a strict "<" loop
    out["scores"][: len(scores)] = [float(v) for v in scores]
    weights, means, stds = _sorted_params(best)
    out.update(n_components=best.n_components, gmm=best)
    out["means"][: len(means)] = means
    out["stds"][: len(stds)] = stds
    out["weights"][: len(weights)] = weights
    if rule == "original":
        if best.n_components == 1:
            # compare the durations (the original compared their index) with mean - n_std * std
            out["threshold"] = float(means[0] - n_std * stds[0])
        else:
            out["threshold"] = _two_component_threshold(weights[:2], means[:2], stds[:2])
        out["spurious"] = True
        return out
    if best.n_components >= 2:
        gain = scores[0] - scores[best.n_components - 1]
        # the short component against the main population of longer segments
        h = 1 + int(np.argmax(weights[1:]))
        sep = (means[h] - means[0]) / (stds[0] + stds[h])
        ratio = float(np.exp(means[0] - means[h]))  # median short / median main
        out.update(bic_gain=float(gain), separation=float(sep), short_ratio=ratio)
        if gain >= min_gain and sep >= min_separation and ratio <= max_short_ratio:
            out["spurious"] = True
            out["threshold"] = float(np.exp(
                _two_component_threshold(weights[:2], means[:2], stds[:2])))
    return out


def _fit_turn_model(d, *, max_components, random_state, max_fit_samples):
    """Log-normal mixture (BIC-selected) of real-turn durations: weights, means, stds."""
    w = np.full(max_components, np.nan)
    m = np.full(max_components, np.nan)
    s = np.full(max_components, np.nan)
    d = d[d > 0]
    if len(d) == 0:  # no turn seen: a broad log-normal around ten seconds
        w[0], m[0], s[0] = 1.0, np.log(10.0), 2.0
        return w, m, s
    d = _subsample(d, max_fit_samples, random_state)
    x = np.log(d)
    if len(d) < 3 or np.unique(x).size < 2:
        # too few turns to fit: a broad log-normal around what was seen
        w[0], m[0], s[0] = 1.0, float(x.mean()), 1.0
        return w, m, s
    # the turns' shape, not a model choice, is needed: a looser tolerance keeps a mixture
    # of unimodal durations from iterating for long
    fits = _mixtures(x, max_components=max_components, tol=1e-3, random_state=random_state,
                     init="k-means++")
    best = min(fits, key=lambda f: f[2])[0]
    weights, means, stds = _sorted_params(best)
    k = len(weights)
    w[:k], m[:k], s[:k] = weights, means, np.maximum(stds, 0.05)
    return w, m, s


def _relabel_pass(start, end, code, stream, k, threshold, active, n_classes):
    """Relabel the target class's interior segments shorter than ``threshold``, then join;
    also returns how many were relabelled."""
    first, last = stream_edges(stream)
    dur = end - start
    rel = (code == k) & ~first & ~last & (dur < threshold)
    if not active.all():
        rel &= active[stream]
    idx = np.flatnonzero(rel)
    if len(idx) == 0:
        return start, end, code, stream, 0
    code = code.copy()
    if n_classes == 2:
        code[idx] = 1 - k
    else:
        # merge into the longer touching neighbour (the earlier one on a tie); a segment
        # with gaps on both sides keeps its label. Targets are never adjacent after a join,
        # so the neighbours' labels and durations are the pre-pass ones.
        left_ok = end[idx - 1] == start[idx]
        right_ok = end[idx] == start[idx + 1]
        use_left = left_ok & (~right_ok | (dur[idx - 1] >= dur[idx + 1]))
        use_right = right_ok & ~use_left
        code[idx[use_left]] = code[idx[use_left] - 1]
        code[idx[use_right]] = code[idx[use_right] + 1]
    return (*join_runs(start, end, code, stream), len(idx))


class GMMSegmentSmoother(BaseSegmentSmoother):
    """Relabel spurious short segments, learning from their durations which are real.

    A detector cuts a long stream into ``[start, end, class]`` segments, and its mistakes
    are short spurious segments. For each class, a Gaussian mixture of the durations of
    its segments (the first and last segment of each stream left out: the stream's limits
    cut them) tells whether a separate population of short segments exists, and where it
    ends. ``strategy`` decides what is done with that:

    ``"hsmm"`` (default)
        Decode each whole stream at once with an explicit-duration (semi-Markov) model:
        each class's real turns last as a mixture of log-normals says, spurious segments
        of a class appear inside the other classes' turns at a rate per second and with
        log-normal durations, and the detector's labels are the observations. The
        models are learned from the detector's output alone: starting from the mixture's
        short component, decode, re-estimate, five decodes in all (hard EM). A segment is
        relabelled when the whole stream is more probable that way, so a short segment
        between two pieces of one turn goes while a short real turn between two whole
        turns stays.
    ``"threshold"``
        Relabel the segments shorter than the class's threshold (the duration where the
        short component stops being the more probable one), class after class.
    ``"original"``
        The original algorithm, exactly: durations in seconds, the mixture with 1 or 2
        components of lower ``(AIC + BIC) / 2`` is always used, a one-component model
        relabels segments shorter than ``mean - n_std * std``, a two-component model the
        segments assigned to the short component; one pass per class in ``order``.

    Evidence. A class is a candidate only when, on log durations, the BIC-selected
    mixture of its segments has at least two components and its BIC beats one
    component by ``min_gain``. ``"threshold"`` also needs the short component to stand
    apart from the main population of longer segments (the heaviest other component:
    ``(m_main - m_short) / (s_short + s_main)`` at least ``min_separation``) with a
    median duration at most ``max_short_ratio`` times the main one's, and relabels on
    that alone, so it cannot tell a real population of short turns from spurious
    segments. ``"hsmm"`` asks the whole stream instead: after the EM, the median
    duration of the class's spurious segments must be at most ``max_short_ratio``
    times its turns' typical (geometric mean) duration, and the decoded streams must
    be more probable, by ``min_stream_gain``, than the detector's own segmentation
    read with the same turn model plus the spurious durations as one more kind of real
    turn (as frequent as the decoder relabelled them). That comparison is where spurious
    segments and short real turns differ: a spurious segment sits between two pieces
    of one turn, whose total is a typical turn, while a short real turn sits between
    two whole turns. Last, in every class the segments relabelled must stand apart from
    the turns kept: the shortest decoded turns (5 % quantile) must last at least
    ``min_gap`` times as long as the segments relabelled (90 % quantile); where real
    turns reach down to the spurious durations the models, learned without labels,
    cannot tell them apart, and nothing is relabelled. Even then, segment by segment, a
    segment lasting at least the shortest decoded turns (the smallest 5 % quantile over
    the classes) divided by ``min_gap`` is never relabelled. Without evidence the class
    is left alone, so a stream without spurious segments comes back unchanged.
    ``evidence_`` shows the figures and the decision.

    Relabelling in the threshold passes: with two classes a segment takes the other
    class. With more classes it merges into its longer touching neighbour (the earlier
    one on a tie); a segment with gaps on both sides keeps its label. First and last
    segments of a stream are never relabelled by a threshold pass. Gaps between segments
    are kept (never joined across; a gap ends a turn for the decoder).

    Within a stream, a segment starting less than ``tolerance`` seconds before or after
    the previous one ends (float rounding such as ``start = end - duration``) is snapped
    to start exactly there; larger overlaps raise an error.

    Parameters
    ----------
    strategy : {"hsmm", "threshold", "original"}, default="hsmm"
        How the duration models relabel segments (see above).

    min_samples : int, default=10
        A class is modelled only when more than ``min_samples`` interior segments of it
        are seen in :term:`fit`.

    order : array-like of labels, default=None
        Classes of the threshold passes, in order. None: every class seen in fit, sorted
        (for ``background``/``foreground``: background first).

    stop_when_unchanged : bool, default=True
        Threshold passes: in each stream, a pass runs only if the previous pass changed
        the number of segments (the original's cascade). False runs every pass.

    n_std : float, default=2.0
        ``"original"`` only: with a one-component model, segments shorter than
        ``mean - n_std * std`` are relabelled.

    tol : float, default=None
        Convergence threshold of the mixtures. None: 1e-6 for ``"original"`` (its
        value), scikit-learn's 1e-3 otherwise.

    max_fit_samples : int, default=20000
        At most this many durations per class (drawn without replacement with
        ``random_state``) fit the mixtures, which keeps fitting on a million segments to
        a fraction of a second. None fits on all of them.

    max_components : int, default=None
        Mixtures with 1 to ``max_components`` components are compared. None: 2 for
        ``"original"`` (its choice), 3 otherwise (spurious segments, fragments of turns
        cut by them, and whole turns).

    min_gain : float, default=10.0
        Evidence, in log-probability units: the mixture's BIC must beat one component by
        this much (10 is "very strong" evidence on Kass and Raftery's scale).

    min_stream_gain : float, default=10.0
        ``"hsmm"`` evidence, in log-probability units: the decoded streams must beat the
        detector's own segmentation read as real turns by this much.

    min_separation : float, default=1.0
        ``"threshold"`` evidence: ``(m_main - m_short) / (s_short + s_main)`` on log
        durations between the short component and the main population (at 2 their
        two-standard-deviation ranges just touch).

    max_short_ratio : float, default=0.2
        Evidence: the short component's median duration at most this fraction of the
        main component's (``"threshold"``); the spurious segments' median duration at
        most this fraction of the turns' geometric mean (``"hsmm"``, which also starts
        its turn model from the components longer than this fraction of the main one).

    min_gap : float, default=1.75
        ``"hsmm"`` evidence: in every class the decoder relabels, the decoded turns (5 %
        quantile of their durations) must last at least this many times as long as the
        segments relabelled (90 % quantile), otherwise no class is relabelled; and
        segments lasting at least the shortest decoded turns (the smallest 5 % quantile
        over the classes) divided by this are never relabelled. 0 drops both (more
        relabelled, and short real turns may be taken for spurious segments).

    max_spurious : float, default=None
        ``"hsmm"`` only: segments lasting this long (seconds) or longer are never
        relabelled, on top of the ``min_gap`` limit. None: that limit alone (a knob for
        supervised tuning).

    bias : float, default=0.0
        ``"hsmm"`` only: added to the log-probability of each spurious segment when
        :meth:`transform` decodes (fit learns and decides without it); positive values
        relabel more, negative fewer (a knob for supervised tuning).

    tolerance : float, default=1e-6
        Boundaries closer than this (seconds) are snapped together (see above).

    random_state : int, RandomState instance or None, default=0
        Controls the mixtures' initialisation and the subsampling.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen in fit, sorted.

    order_ : ndarray of shape (n_passes,)
        Labels of the threshold passes, in pass order.

    n_components_ : ndarray of shape (n_classes,)
        Components of the selected mixture per class; 0 when the class was skipped.

    means_, stds_, weights_ : ndarray of shape (n_classes, max_components)
        Component parameters, ascending means, in seconds (``"original"``) or log
        seconds; NaN where absent.

    thresholds_ : ndarray of shape (n_classes,)
        Interior segments of a class shorter than this (seconds) are relabelled by a
        threshold pass; NaN when the class is left alone.

    spurious_ : ndarray of bool of shape (n_classes,)
        Whether fit found a population of spurious short segments of each class.

    evidence_ : DataFrame
        Per class: ``n_durations``, ``n_components``, ``bic_gain``, ``separation``,
        ``short_ratio``, and for ``"hsmm"`` ``spurious_ratio`` (median spurious duration
        over the turns' geometric mean), ``stream_gain`` (log-probability of the
        decoded streams over the detector's segmentation read as real turns) and
        ``duration_gap`` (the turns' 5 % duration quantile over the relabelled
        segments' 90 % quantile), ``max_spurious`` (seconds; segments this long or
        longer stay, inf without a limit), then ``spurious`` (the decision).

    n_durations_ : ndarray of shape (n_classes,)
        Durations seen per class in fit (before any subsampling).

    fitting_scores_ : ndarray of shape (n_classes, max_components)
        Model-selection score of the mixtures with 1, 2, ... components: BIC, or
        ``(AIC + BIC) / 2`` for ``"original"``.

    gmms_ : list of GaussianMixture or None
        The selected mixture per class.

    turn_weights_, turn_means_, turn_stds_ : ndarray of shape (n_classes, max_components)
        ``"hsmm"``: log-normal mixture of each class's real-turn durations (log seconds),
        fitted on the decoded streams (the mixture of all segments when no class has
        evidence).

    flip_rates_ : ndarray of shape (n_classes,)
        ``"hsmm"``: spurious segments of each class per second of the other classes'
        turns (0 for a class without evidence).

    flip_means_, flip_stds_ : ndarray of shape (n_classes,)
        ``"hsmm"``: log-normal duration of each class's spurious segments (log seconds);
        NaN for a class without evidence.

    max_spurious_ : ndarray of shape (n_classes,)
        ``"hsmm"``: segments of each class lasting this long (seconds) or longer are never
        relabelled (the ``min_gap`` safeguard and ``max_spurious``); inf without a limit.

    See Also
    --------
    MinDurationSmoother : Fixed minimum durations (pyannote's Binarize rules).
    MedianFilterSmoother : Majority filter over frame labels.
    ViterbiSmoother : Best label path with a switch penalty.
    make_segment_scorer : Tune any smoother against reference segments.

    Notes
    -----
    The original algorithm always selects a model: a two-component mixture of real turns
    whose durations are not exactly Gaussian is preferred by ``(AIC + BIC) / 2`` and its
    short component then swallows real turns; with one component, ``mean - 2 std``
    relabels the shortest real turns. Its second pass sees the segments the first pass
    joined. The evidence rule and the decoder avoid both.

    The models are learned without labels, so the evidence can mislead when many real
    turns are only a few times longer than the spurious segments: the short component
    then mixes both, and the decoder would relabel short real turns. ``min_gap`` leaves
    such streams alone (so the smoother does nothing there, where a
    :class:`ViterbiSmoother` may still help); ``min_gap=0`` relabels as the decoder
    says. Check the output against a few annotated streams (:meth:`score`) before
    trusting it on such data.

    The decoder costs O(n_segments * span) per stream, where the span is the number of
    segments a plausible turn holds; the rest is vectorised over flat arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.segments import GMMSegmentSmoother
    >>> rng = np.random.default_rng(0)
    >>> segs, t = [], 0.0
    >>> for i in range(150):  # turns of 20-40 s, a third of them cut by a 0.1-0.5 s blip
    ...     lab, other = ("background", "foreground")[:: 1 if i % 2 == 0 else -1]
    ...     d = rng.uniform(20, 40)
    ...     pieces = [(d, lab)]
    ...     if rng.random() < 1 / 3:
    ...         cut = rng.uniform(5, d - 5)
    ...         pieces = [(cut, lab), (rng.uniform(0.1, 0.5), other), (d - cut, lab)]
    ...     for dur, name in pieces:
    ...         segs.append({"startTime": t, "endTime": t + dur, "segment": name})
    ...         t += dur
    >>> smoother = GMMSegmentSmoother()
    >>> out = smoother.fit_transform(segs)
    >>> len(segs), len(out)  # every blip relabelled: the 150 turns come back
    (234, 150)
    >>> smoother.spurious_.tolist()
    [True, True]
    >>> GMMSegmentSmoother().fit_transform(out) == out  # a clean stream stays unchanged
    True
    """

    _parameter_constraints: dict = {
        "strategy": [StrOptions({"hsmm", "threshold", "original"})],
        "min_samples": [Interval(Integral, 0, None, closed="left")],
        "order": [None, "array-like"],
        "stop_when_unchanged": ["boolean"],
        "n_std": [Interval(Real, 0, None, closed="left")],
        "tol": [None, Interval(Real, 0, None, closed="neither")],
        "max_fit_samples": [None, Interval(Integral, 1, None, closed="left")],
        "max_components": [None, Interval(Integral, 1, None, closed="left")],
        "min_gain": [Interval(Real, None, None, closed="neither")],
        "min_stream_gain": [Interval(Real, None, None, closed="neither")],
        "min_separation": [Interval(Real, 0, None, closed="left")],
        "max_short_ratio": [Interval(Real, 0, None, closed="neither")],
        "min_gap": [Interval(Real, 0, None, closed="left")],
        "max_spurious": [None, Interval(Real, 0, None, closed="neither")],
        "bias": [Interval(Real, None, None, closed="neither")],
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        strategy="hsmm",
        min_samples=10,
        order=None,
        stop_when_unchanged=True,
        n_std=2.0,
        tol=None,
        max_fit_samples=20000,
        max_components=None,
        min_gain=10.0,
        min_stream_gain=10.0,
        min_separation=1.0,
        max_short_ratio=0.2,
        min_gap=1.75,
        max_spurious=None,
        bias=0.0,
        tolerance=1e-6,
        random_state=0,
    ):
        self.strategy = strategy
        self.min_samples = min_samples
        self.order = order
        self.stop_when_unchanged = stop_when_unchanged
        self.n_std = n_std
        self.tol = tol
        self.max_fit_samples = max_fit_samples
        self.max_components = max_components
        self.min_gain = min_gain
        self.min_stream_gain = min_stream_gain
        self.min_separation = min_separation
        self.max_short_ratio = max_short_ratio
        self.min_gap = min_gap
        self.max_spurious = max_spurious
        self.bias = bias
        self.tolerance = tolerance
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the duration models from one or many streams.

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            A list of dicts (``startTime``, ``endTime``, ``segment`` or ``start``,
            ``end``, ``label``; seconds or datetimes), a DataFrame with ``start``,
            ``end``, ``label`` and an optional ``stream`` column, or a list of such
            streams.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        self : GMMSegmentSmoother
            The fitted smoother.
        """
        self._fit(self._arrays(X))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on the segments and smooth them (reading the input once).

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments in any of the forms :meth:`fit` accepts.

        y : Ignored
            Not used, present here for API consistency by convention.

        Returns
        -------
        segments : same form as X
            Smoothed segments (new objects; ``X`` is left untouched).
        """
        seg = self._arrays(X)
        self._fit(seg)
        return from_arrays(seg, *self._smooth(seg))

    def _arrays(self, X):
        return to_arrays(X, caller=type(self).__name__, tolerance=self.tolerance)

    def _fit(self, seg):
        classes = seg.classes
        n = len(classes)
        if self.order is None:
            order_codes = np.arange(n)
        else:
            lookup = {c: i for i, c in enumerate(classes.tolist())}
            missing = [c for c in list(self.order) if c not in lookup]
            if missing:
                raise ValueError(
                    f"order={list(self.order)!r} names {missing}, which fit did not see; "
                    f"the segments have the classes {classes.tolist()}."
                )
            order_codes = np.array([lookup[c] for c in self.order], dtype=np.intp)
        self.classes_ = classes
        self.order_ = classes[order_codes]
        self._order_codes = order_codes
        m = self._max_components()
        self.n_components_ = np.zeros(n, dtype=int)
        self.means_ = np.full((n, m), np.nan)
        self.stds_ = np.full((n, m), np.nan)
        self.weights_ = np.full((n, m), np.nan)
        self.thresholds_ = np.full(n, np.nan)
        self.spurious_ = np.zeros(n, dtype=bool)
        self.n_durations_ = np.zeros(n, dtype=int)
        self.fitting_scores_ = np.full((n, m), np.nan)
        self.gmms_ = [None] * n
        evidence = {key: np.full(n, np.nan) for key in ("bic_gain", "separation", "short_ratio")}
        rule = "original" if self.strategy == "original" else "robust"
        tol = self.tol if self.tol is not None else (1e-6 if rule == "original" else 1e-3)

        def learn(k, s, e, c, sid):
            first, last = stream_edges(sid)
            d = (e - s)[(c == k) & ~first & ~last]
            res = _fit_duration_model(
                d, rule=rule, min_samples=self.min_samples, n_std=self.n_std, tol=tol,
                random_state=self.random_state, max_fit_samples=self.max_fit_samples,
                max_components=m, min_gain=self.min_gain,
                min_separation=self.min_separation, max_short_ratio=self.max_short_ratio,
            )
            self.n_components_[k] = res["n_components"]
            self.means_[k] = res["means"]
            self.stds_[k] = res["stds"]
            self.weights_[k] = res["weights"]
            self.thresholds_[k] = res["threshold"]
            self.spurious_[k] = res["spurious"] and res["n_components"] > 0
            self.n_durations_[k] = res["n"]
            self.fitting_scores_[k] = res["scores"]
            self.gmms_[k] = res["gmm"]
            for key in evidence:
                evidence[key][k] = res[key]

        self.flip_rates_ = np.zeros(n)
        if self.strategy == "hsmm":
            # every class learns from the detector's own segments, then the decoder
            js, je, jc, jsid = join_runs(seg.start, seg.end, seg.code, seg.stream)
            for k in range(n):
                learn(k, js, je, jc, jsid)
            evidence["spurious_ratio"] = np.full(n, np.nan)
            evidence["stream_gain"] = np.full(n, np.nan)
            evidence["duration_gap"] = np.full(n, np.nan)
            evidence["max_spurious"] = np.full(n, np.nan)
            self._fit_decoder(js, je, jc, jsid, evidence)
        else:
            # the passes learn on the output of the previous ones, exactly as transform runs
            self._run(seg, learn=learn)
        self.evidence_ = pd.DataFrame(
            {"n_durations": self.n_durations_, "n_components": self.n_components_, **evidence,
             "spurious": self.spurious_},
            index=pd.Index(classes, name="class"),
        )

    def _decode(self, s, e, c, sid, turns, rates, flips, return_score=False, bias=0.0,
                max_flip=None):
        # fit decodes without ``bias``: it moves transform's decisions, not the models
        return hsmm_decode(
            s, e, c, sid, turn_weights=turns[0], turn_means=turns[1], turn_stds=turns[2],
            rates=rates, flip_means=flips[0], flip_stds=flips[1], bias=bias,
            max_flip=max_flip, return_score=return_score)

    def _max_components(self):
        if self.max_components is not None:
            return self.max_components
        return 2 if self.strategy == "original" else 3

    def _turn_models(self, s, e, c, sid):
        """Log-normal mixtures of each class's interior turn durations."""
        n, m = len(self.classes_), self._max_components()
        first, last = stream_edges(sid)
        dur = e - s
        turns = [np.full((n, m), np.nan) for _ in range(3)]
        for k in range(n):
            mask = c == k
            inner = mask & ~first & ~last
            d = dur[inner] if inner.sum() > self.min_samples else dur[mask]
            # the turns' shape needs fewer durations than the model choice
            w, mu, sd = _fit_turn_model(d, max_components=m, random_state=self.random_state,
                                        max_fit_samples=min(self.max_fit_samples or 5000, 5000))
            turns[0][k], turns[1][k], turns[2][k] = w, mu, sd
        return turns

    def _fit_decoder(self, s, e, c, sid, evidence):
        """Turn and spurious-segment models by hard EM on the decoded streams, kept only
        for the classes whose spurious segments are much shorter than their turns and
        explain the streams better than short real turns would.

        Candidates: the classes whose mixture has a short component (BIC gain of at
        least ``min_gain``). Start: each class's turns are the components longer than
        ``max_short_ratio`` times its main one; its spurious segments last as the
        segments below the short component's crossing. Then decode, and re-estimate the
        spurious rates and durations (from the relabelled segments) and the turn
        durations (from all decoded turns), five decodes in all. Evidence: the median
        spurious duration is at most ``max_short_ratio`` times the turns' geometric
        mean, and the decoded streams beat, by ``min_stream_gain``, the detector's own
        segmentation with the same turn model plus the spurious durations as one more
        kind of real turn, and every class with relabelled segments has a
        ``duration_gap`` of at least ``min_gap`` (else no class is kept). Segments of
        the decoded turns' smallest 5 % quantile over ``min_gap`` or longer are never
        relabelled (``max_spurious_``).
        """
        n = len(self.classes_)
        w0 = np.where(np.isnan(self.weights_), 0.0, self.weights_)
        cand = self.n_components_ >= 2
        cand &= np.nan_to_num(evidence["bic_gain"], nan=-np.inf) >= self.min_gain
        self.spurious_[:] = False
        self.turn_weights_, self.turn_means_, self.turn_stds_ = (
            w0, self.means_.copy(), np.maximum(self.stds_, _MIN_LOG_STD))
        self.flip_means_ = np.full(n, np.nan)
        self.flip_stds_ = np.full(n, np.nan)
        self.max_spurious_ = np.full(n, np.inf)
        if not cand.any():
            return
        # decode a bounded part of the training streams: the estimates need no more
        lim = min(len(s), 100_000)
        s, e, c, sid = s[:lim], e[:lim], c[:lim], sid[:lim]
        # two starts when they differ (the shortest short component, or every component
        # short enough); the more probable fit is kept, as with any EM restart
        fits = []
        for merge in (False, True):
            start = self._initial_models(s, e, c, cand, w0, merge)
            if fits and all(np.array_equal(a, b) for a, b in zip(start[2], fits[0][5])):
                break
            fits.append(self._hard_em(s, e, c, sid, cand, *start) + (start[2],))
        score1, code, turns, rates, flips, _ = max(fits, key=lambda f: f[0])
        # H0: the same segments, each a real turn; the spurious durations are one more
        # kind of turn of their class, as frequent as the decoder relabelled them
        moved = code != c
        share = (np.bincount(c[moved], minlength=n)
                 / np.maximum(np.bincount(c, minlength=n), 1))
        h0 = (np.c_[turns[0] * (1 - share[:, None]), share], np.c_[turns[1], flips[0]],
              np.c_[turns[2], flips[1]])
        zeros = np.zeros(n)
        _, score0 = self._decode(s, e, c, sid, h0, zeros, (zeros, zeros + 1),
                                 return_score=True)
        gain = score1 - score0
        # the turns' typical duration: the geometric mean of their mixture
        tw = np.nan_to_num(turns[0])
        typical = (tw * np.nan_to_num(turns[1])).sum(axis=1) / np.maximum(tw.sum(axis=1), 1e-300)
        ratio = np.where(cand & (rates > 0), np.exp(flips[0] - typical), np.nan)
        evidence["spurious_ratio"] = ratio
        evidence["stream_gain"] = np.where(cand, gain, np.nan)
        gap, floor = self._duration_gap(s, e, c, sid, code, cand)
        evidence["duration_gap"] = gap
        keep = cand & (rates > 0) & (np.nan_to_num(ratio, nan=np.inf) <= self.max_short_ratio)
        active = cand & (rates > 0)
        # one class whose real turns reach down to its relabelled segments makes the
        # whole decode suspect (the turn and spurious models are learned together)
        if (active & ~(np.nan_to_num(gap, nan=np.inf) >= self.min_gap)).any():
            keep[:] = False
        # and segment by segment: one lasting at least the shortest decoded turns of any
        # class (5 % quantile) over min_gap may be a short real turn, and stays
        caps = np.full(n, np.inf)
        if active.any() and self.min_gap > 0:
            caps[:] = np.nanmin(np.where(active, floor, np.inf)) / self.min_gap
        if self.max_spurious is not None:
            caps = np.minimum(caps, self.max_spurious)
        evidence["max_spurious"] = np.where(active, caps, np.nan)
        self.max_spurious_ = caps
        if gain >= self.min_stream_gain and keep.any():
            self.spurious_[:] = keep
            self.turn_weights_, self.turn_means_, self.turn_stds_ = turns
            self.flip_rates_ = np.where(keep, rates, 0.0)
            self.flip_means_ = np.where(keep, flips[0], np.nan)
            self.flip_stds_ = np.where(keep, flips[1], np.nan)

    def _duration_gap(self, s, e, c, sid, code, cand):
        """Per class, the decoded turns' 5 % duration quantile over the 90 % quantile of
        the segments the decoder relabelled (NaN when either is missing)."""
        dur = e - s
        moved = code != c
        ts, te, tc, tsid = join_runs(s, e, code, sid)
        first, last = stream_edges(tsid)
        tdur = (te - ts)[~first & ~last]
        tc = tc[~first & ~last]
        gap = np.full(len(self.classes_), np.nan)
        floor = np.full(len(self.classes_), np.nan)
        for k in np.flatnonzero(cand):
            r, t = dur[moved & (c == k)], tdur[tc == k]
            if len(t):
                floor[k] = np.quantile(t, 0.05)
            if len(r) and len(t):
                gap[k] = floor[k] / np.quantile(r, 0.9)
        return gap, floor

    def _hard_em(self, s, e, c, sid, cand, turns, rates, flips):
        """Decode and re-estimate, ``_EM_DECODES`` decodes; the last decode and models."""
        for it in range(_EM_DECODES):
            code, score = self._decode(s, e, c, sid, turns, rates, flips, return_score=True)
            if it == _EM_DECODES - 1:
                break
            turns, rates, flips = self._reestimate(s, e, c, sid, code, cand, turns, rates,
                                                   flips)
        return score, code, turns, rates, flips

    def _initial_models(self, s, e, c, cand, w0, merge):
        """EM start: turns without the short components; spurious segments last as the
        segments below the crossing of the short component and the next one (``merge``:
        of the longest component shorter than ``max_short_ratio`` of the main one)."""
        n = len(self.classes_)
        dur = e - s
        means = np.nan_to_num(self.means_, nan=-np.inf)
        stds = np.nan_to_num(self.stds_, nan=np.inf)
        main = means[np.arange(n), np.argmax(w0, axis=1)]
        tw = w0 * (means > main[:, None] + np.log(self.max_short_ratio))
        fm, fs, count = np.zeros(n), np.ones(n), np.zeros(n)
        for k in np.flatnonzero(cand):
            # the short component: the shortest that is a population, not a few outliers
            # spread over decades
            ok = (w0[k] >= _MIN_SHORT_WEIGHT) & (stds[k] <= _MAX_SHORT_STD)
            j = int(np.argmax(ok)) if ok[: self.n_components_[k] - 1].any() else 0
            if merge:
                j = max(j, int(np.sum(tw[k, : self.n_components_[k]] == 0)) - 1)
            tw[k, : j + 1] = 0.0
            cut = np.exp(_two_component_threshold(w0[k, j:j + 2], self.means_[k, j:j + 2],
                                                  self.stds_[k, j:j + 2]))
            ld = np.log(dur[(c == k) & (dur < cut)])
            count[k] = len(ld)
            if len(ld) >= 2:
                fm[k], fs[k] = np.median(ld), min(max(ld.std(), 0.1), _MAX_FLIP_STD)
            else:
                fm[k], fs[k] = self.means_[k, j], min(self.stds_[k, j], _MAX_FLIP_STD)
        empty = tw.sum(axis=1) == 0
        tw[empty] = w0[empty]  # a class without a model (too few segments) stays without
        total = tw.sum(axis=1, keepdims=True)
        tw = np.divide(tw, total, out=np.zeros_like(tw), where=total > 0)
        rates = count / np.maximum(_exposure(dur, c, n), 1e-9)
        turns = (tw, self.means_.copy(), np.maximum(self.stds_, _MIN_LOG_STD))
        return turns, rates, (fm, fs)

    def _reestimate(self, s, e, c, sid, code, cand, turns, rates, flips):
        """One hard-EM step: spurious rates and durations from the segments the decoder
        relabelled, turn durations from the decoded turns."""
        dur = e - s
        moved = code != c
        exposure = _exposure(dur, code, len(self.classes_))
        fm, fs, r = flips[0].copy(), flips[1].copy(), rates.copy()
        for k in np.flatnonzero(cand):
            ld = np.log(dur[moved & (c == k)])
            r[k] = len(ld) / max(exposure[k], 1e-9)
            if len(ld) >= 2:
                # capped spread: a wide spurious population would reach into real turns
                fm[k], fs[k] = ld.mean(), min(max(ld.std(), 0.1), _MAX_FLIP_STD)
        if (cand & (r > 0)).any():
            turns = self._turn_models(*join_runs(s, e, code, sid))
        return turns, r, (fm, fs)

    def _known_classes(self):
        return self.classes_

    def _run(self, seg, learn=None):
        """Threshold passes; returns the joined arrays and the segments relabelled per class."""
        cascade = self.stop_when_unchanged
        s, e, c, sid = join_runs(seg.start, seg.end, seg.code, seg.stream)
        active = np.ones(seg.n_streams, dtype=bool)
        n_classes = len(self.classes_)
        counts = np.zeros(n_classes)
        for k in self._order_codes:
            if learn is not None:
                learn(k, s, e, c, sid)
            thr = self.thresholds_[k]
            if np.isnan(thr) or not active.any():
                s2, e2, c2, sid2, hit = s, e, c, sid, 0
            else:
                s2, e2, c2, sid2, hit = _relabel_pass(s, e, c, sid, k, thr, active, n_classes)
            counts[k] += hit
            if cascade:
                before = np.bincount(sid, minlength=seg.n_streams)
                after = np.bincount(sid2, minlength=seg.n_streams)
                active &= after != before
            s, e, c, sid = s2, e2, c2, sid2
        return s, e, c, sid, counts

    def _smooth(self, seg):
        if self.strategy != "hsmm":
            return self._run(seg)[:4]
        s, e, c, sid = join_runs(seg.start, seg.end, seg.code, seg.stream)
        if not self.spurious_.any():
            return s, e, c, sid
        turns = (self.turn_weights_, self.turn_means_, self.turn_stds_)
        code = self._decode(s, e, c, sid, turns, self.flip_rates_,
                            (self.flip_means_, self.flip_stds_), bias=self.bias,
                            max_flip=self.max_spurious_)
        return join_runs(s, e, code, sid)

    def transform(self, X):
        """Apply the learned duration models to each stream.

        Parameters
        ----------
        X : list of dict, DataFrame or list of streams
            Segments in any of the forms :meth:`fit` accepts, with labels seen in fit.

        Returns
        -------
        segments : same form as X
            Smoothed segments (new objects; ``X`` is left untouched). Times are the
            input's own boundaries, so datetimes and seconds come back exactly.
        """
        check_is_fitted(self, "thresholds_")
        return super().transform(X)
