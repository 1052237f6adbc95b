"""DriftMonitor: does a batch of production data still look like the training data?"""

import math
import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import check_random_state

from sklaudio.exceptions import AudioWarning
from sklaudio.monitor import _stats
from sklaudio.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_feature_names,
    _check_n_features,
    _fit_context,
    check_is_fitted,
    validate_data,
)

__all__ = ["DriftMonitor", "DriftReport"]

# Below this many rows a batch can hardly show drift (with one row the smallest KS
# p-value is about 2 / (n_reference + 1)): test() warns.
_MIN_USEFUL_BATCH = 10

_TABLE_COLUMNS = ["feature", "kind", "test", "statistic", "p_value", "p_adjusted", "psi",
                  "psi_band", "wasserstein_norm", "drifted"]


@dataclass
class DriftReport:
    """What :meth:`DriftMonitor.test` found: one decision and a ranked table of features.

    Made by :meth:`DriftMonitor.test`; its fields are read, not set.

    Parameters
    ----------
    drift : bool
        The overall decision.
    rule : {"p_value", "distance"}
        How the per-feature decisions were made: corrected p-values below ``alpha``, or
        (large samples) normed Wasserstein distance or PSI above their thresholds.
    table : pandas.DataFrame
        One row per monitored column, most drifted first, with columns ``feature``,
        ``kind`` ("feature", "quality" or "prediction"), ``test`` ("ks", or "chi2"
        for categorical and constant reference columns), ``statistic``, ``p_value``,
        ``p_adjusted`` (after ``correction``), ``psi``, ``psi_band`` ("stable" < 0.1
        <= "moderate" < 0.25 <= "major"), ``wasserstein_norm`` (NaN for categorical
        columns, where it is not defined) and ``drifted``.
    drifted_features : list of str
        Names of the drifted columns, most drifted first.
    drifted_health : list of str
        The drifted audio health columns (kind "quality"), most drifted first: what
        changed in the recordings (level, noise, clipping, voicing, length), in terms
        a user can act on.
    classifier : dict or None
        The domain classifier's ``auc``, ``p_value``, ``n_splits`` and ``drift``, when
        the monitor's ``detector`` uses it.
    alpha : float
        The test's level.
    correction : str
        The correction of the p-values for their number.
    n_reference : int
        Rows of the reference.
    n_current : int
        Rows of the batch (or window) tested.

    See Also
    --------
    DriftMonitor : Makes the reports.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.monitor import DriftMonitor
    >>> rng = np.random.default_rng(0)
    >>> report = DriftMonitor().fit(rng.normal(size=(200, 2))).test(rng.normal(size=(50, 2)))
    >>> report.drift, report.table["feature"].tolist()
    (False, ['x1', 'x0'])
    """

    drift: bool
    rule: str
    table: pd.DataFrame
    drifted_features: list
    drifted_health: list
    classifier: dict
    alpha: float
    correction: str
    n_reference: int
    n_current: int
    # the data behind the figure; set by DriftMonitor.test, not part of the record
    _reference: np.ndarray = field(default=None, init=False, repr=False, compare=False)
    _current: np.ndarray = field(default=None, init=False, repr=False, compare=False)
    _columns: list = field(default=None, init=False, repr=False, compare=False)
    _categories: dict = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self):
        """The report as plain Python types (JSON-serialisable; NaN becomes None).

        Returns
        -------
        report : dict
            ``drift``, ``rule``, ``alpha``, ``correction``, ``n_reference``,
            ``n_current``, ``drifted_features``, ``drifted_health``, ``classifier``
            and ``features`` (the table's rows, most drifted first).
        """
        rows = []
        for rec in self.table.to_dict(orient="records"):
            rows.append({k: _plain(v) for k, v in rec.items()})
        clf = None if self.classifier is None else {k: _plain(v)
                                                     for k, v in self.classifier.items()}
        return {
            "drift": bool(self.drift),
            "rule": self.rule,
            "alpha": float(self.alpha),
            "correction": self.correction,
            "n_reference": int(self.n_reference),
            "n_current": int(self.n_current),
            "drifted_features": list(self.drifted_features),
            "drifted_health": list(self.drifted_health),
            "classifier": clf,
            "features": rows,
        }

    def __str__(self):
        return self.format()

    def format(self, max_rows=20):
        """The decision, the drifted audio health and the top ``max_rows`` of the table.

        Parameters
        ----------
        max_rows : int or None, default=20
            Rows of :attr:`table` shown; None shows them all.

        Returns
        -------
        text : str
            The report as printed by ``sklaudio monitor``.
        """
        head = (f"drift: {'YES' if self.drift else 'no'} ({self.rule} rule, alpha={self.alpha}, "
                f"{self.correction}; {self.n_current} rows against {self.n_reference})")
        if self.drifted_health:
            head += "\naudio health drifted: " + ", ".join(self.drifted_health)
        if self.classifier is not None:
            c = self.classifier
            head += (f"\ndomain classifier: AUC {c['auc']:.3f}, p-value {c['p_value']:.3g}"
                     f" -> {'drift' if c['drift'] else 'no drift'}")
        shown = self.table if max_rows is None else self.table.head(max_rows)
        with pd.option_context("display.width", 140, "display.float_format", "{:.4g}".format):
            text = head + "\n" + shown.to_string(index=False)
        if len(shown) < len(self.table):
            text += (f"\n... {len(self.table) - len(shown)} more columns "
                     f"({int(self.table['drifted'].iloc[len(shown):].sum())} of them drifted)")
        return text

    def plot(self, *, top=6, health=3, path=None):
        """Histograms of the reference and the current batch for the most drifted columns.

        Needs matplotlib (``pip install matplotlib``).

        Parameters
        ----------
        top : int, default=6
            Number of columns shown, from the top of :attr:`table`.
        health : int, default=3
            Also show up to this many drifted audio health columns that are not
            among the ``top`` ones.
        path : str or path-like or None, default=None
            Save the figure there (PNG, PDF, ... from the suffix).

        Returns
        -------
        fig : matplotlib.figure.Figure
            One panel per column shown.
        """
        from sklaudio.monitor._plot import plot_report

        return plot_report(self, top=top, health=health, path=path)


def _plain(v):
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return v


class DriftMonitor(BaseEstimator):
    """Watch production data for drift away from a reference (the training data).

    ``fit`` stores a reference: a feature table, or audio (file paths or clips) turned
    into features by an already fitted ``features`` transformer, with audio health
    columns (level, clipping, SNR, voiced fraction, quality flag) added next to them.
    :meth:`test` compares a batch with the reference column by column (two-sample
    Kolmogorov-Smirnov test, or chi-square for categorical columns, p-values corrected
    for the number of columns; population stability index on the reference's quantile
    bins; Wasserstein distance divided by the reference's standard deviation) and
    returns a :class:`DriftReport` with one overall decision. Optionally a domain
    classifier tests all columns together, and the model's own predictions are
    compared with its predictions on the reference. :meth:`update` keeps a rolling
    window of recent rows that ``test()`` without arguments checks.

    Parameters
    ----------
    features : transformer or None, default=None
        A fitted transformer (typically the feature steps of a fitted pipeline, such as
        ``pipe[:4]``) that turns the audio given to ``fit``/``test`` into a feature
        table; it is used as is, never refitted. None: ``fit``/``test`` take the
        feature table itself (a DataFrame or a numeric array).

    model : estimator or None, default=None
        A fitted model whose predictions are monitored too, as a column
        ``"prediction"``: class proportions (chi-square test) for a classifier, the
        output distribution (KS test) for a regressor. It takes the same input as
        ``fit``; when it is a pipeline that starts with the steps of ``features``, only
        its remaining steps are run on the extracted features.

    audio_quality : bool, default=True
        With ``features``, also monitor the clips' health
        (:func:`sklaudio.features.assess_quality`), as columns ``quality__*``. Needs
        clips, or a ``features`` pipeline whose first step is an
        :class:`~sklaudio.io.AudioLoader`.

    alpha : float in (0, 1), default=0.05
        Level of the overall test: its false-alarm rate when nothing drifted.

    correction : {"bonferroni", "fdr_bh"}, default="bonferroni"
        Correction of the per-column p-values for their number: Bonferroni (the
        family-wise error rate is at most ``alpha``) or Benjamini-Hochberg (the false
        discovery rate is).

    rule : {"auto", "p_value", "distance"}, default="auto"
        How a column is declared drifted. "p_value": its corrected p-value is below
        ``alpha``. "distance": its normed Wasserstein distance is at least
        ``wasserstein_threshold`` or its PSI at least ``psi_threshold`` (with large
        samples every p-value flags trivial shifts). "auto": "distance" when both the
        reference and the batch have more than ``large_sample`` rows, else "p_value".

    large_sample : int, default=1000
        Sample size above which ``rule="auto"`` uses distances.

    wasserstein_threshold : float, default=0.1
        Normed Wasserstein distance at which a column drifts under the distance rule.

    psi_threshold : float, default=0.25
        PSI at which a column drifts under the distance rule (0.25 starts the "major"
        band; 0.1 the "moderate" one).

    n_bins : int, default=10
        Number of reference quantile bins of the PSI.

    detector : {"features", "classifier", "both"}, default="features"
        "features": the batch drifts when any column does. "classifier": a domain
        classifier is trained to tell the batch from the reference (stratified K-fold,
        out-of-fold probabilities) and the batch drifts when its AUC is significantly
        above 0.5 (or, under the distance rule, at least ``auc_threshold``). "both":
        either, each at level ``alpha / 2``.

    classifier : classifier or None, default=None
        The domain classifier (with ``predict_proba``); None uses a standardised
        logistic regression. Categorical columns are left out of it.

    classifier_test : {"folds", "permutation"}, default="folds"
        "folds": in each fold, the one-sided Mann-Whitney U test (AUC = 0.5) of the
        held-out probabilities, Bonferroni-combined over the folds. "permutation": the
        pooled out-of-fold AUC against ``n_permutations`` AUCs with shuffled labels
        (refits the folds each time: slower, more powerful). Both keep their level.

    cv : int, default=2
        Number of folds of the domain classifier. With ``classifier_test="folds"``
        two folds test the most rows each, which gives more power than more folds
        under the Bonferroni combination.

    n_permutations : int, default=100
        Permutations of ``classifier_test="permutation"``.

    auc_threshold : float, default=0.55
        AUC at which the domain classifier flags drift under the distance rule.

    ks_method : {"auto", "exact", "asymp"}, default="auto"
        How :func:`scipy.stats.ks_2samp` computes p-values ("asymp" is alibi-detect's).

    window_size : int, default=1000
        Rows kept by :meth:`update` (the most recent ones).

    window_seconds : float or None, default=None
        Also drop rows older than this many seconds at each :meth:`update`.

    max_reference : int or None, default=None
        Keep at most this many reference rows, drawn at random without replacement
        (the tests stay exact on the kept rows; the monitor saved in a model bundle
        stays small). None keeps them all.

    random_state : int, RandomState instance or None, default=None
        The reference rows kept by ``max_reference``, the folds and permutations of
        the domain classifier.

    Attributes
    ----------
    feature_names_ : ndarray of str
        Monitored columns, in the reference's order.
    kinds_ : ndarray of str
        "feature", "quality" (audio health: the ``quality__*`` columns, also in a
        table given to ``fit``) or "prediction", for each column.
    categories_ : dict of str to list of str
        Categories of the categorical columns (others are numeric).
    reference_ : ndarray of shape (n_reference, n_columns)
        The reference table, categorical columns as category codes.
    n_reference_ : int
        Its number of rows.
    bin_edges_ : list of ndarray
        Inner PSI bin edges of each numeric column (empty for categorical ones).
    window_ : ndarray of shape (n_window, n_columns)
        Rows of the rolling window, oldest first.
    window_times_ : ndarray of shape (n_window,)
        Their arrival times (seconds since the epoch).
    n_features_in_ : int
        Number of columns of a table given to ``fit`` (table input only).
    feature_names_in_ : ndarray of str
        Its column names, when it was a DataFrame.

    See Also
    --------
    sklaudio.features.assess_quality : The audio health columns.

    Notes
    -----
    The state is plain numpy arrays, lists and dicts, so a fitted monitor can be saved
    with skops next to the model. A one-row batch is tested, but its smallest KS
    p-value is ``2 / (n_reference + 1)``, so after Bonferroni it can alarm only when
    ``n_columns * 2 / (n_reference + 1) < alpha``; :meth:`test` warns below 10 rows:
    accumulate rows with :meth:`update` and test the window. NaN or infinite values,
    and columns other than the reference's, raise an error naming them. A constant
    reference column (a clipping rate of 0 on clean training audio) warns at ``fit``;
    it is tested by chi-square on the counts below, at and above its value, so a
    batch where a fair share of rows differ from it drifts.

    References
    ----------
    S. Rabanser, S. Günnemann, Z. Lipton, "Failing Loudly: An Empirical Study of
    Methods for Detecting Dataset Shift", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklaudio.monitor import DriftMonitor
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"rms_dbfs": rng.normal(-25, 3, 300),
    ...                     "snr_db": rng.normal(30, 5, 300)})
    >>> monitor = DriftMonitor().fit(ref)
    >>> same = pd.DataFrame({"rms_dbfs": rng.normal(-25, 3, 100),
    ...                      "snr_db": rng.normal(30, 5, 100)})
    >>> monitor.test(same).drift
    False
    >>> noisy = same.assign(snr_db=rng.normal(10, 5, 100))
    >>> report = monitor.test(noisy)
    >>> report.drift, report.drifted_features
    (True, ['snr_db'])
    """

    _parameter_constraints = {
        "features": [HasMethods(["transform"]), None],
        "model": [HasMethods(["predict"]), None],
        "audio_quality": ["boolean"],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "correction": [StrOptions({"bonferroni", "fdr_bh"})],
        "rule": [StrOptions({"auto", "p_value", "distance"})],
        "large_sample": [Interval(Integral, 1, None, closed="left")],
        "wasserstein_threshold": [Interval(Real, 0, None, closed="neither")],
        "psi_threshold": [Interval(Real, 0, None, closed="neither")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "detector": [StrOptions({"features", "classifier", "both"})],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "classifier_test": [StrOptions({"folds", "permutation"})],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "auc_threshold": [Interval(Real, 0.5, 1, closed="neither")],
        "ks_method": [StrOptions({"auto", "exact", "asymp"})],
        "window_size": [Interval(Integral, 1, None, closed="left")],
        "window_seconds": [Interval(Real, 0, None, closed="neither"), None],
        "max_reference": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, features=None, model=None, audio_quality=True, alpha=0.05,
                 correction="bonferroni", rule="auto", large_sample=1000,
                 wasserstein_threshold=0.1, psi_threshold=0.25, n_bins=10,
                 detector="features", classifier=None, classifier_test="folds", cv=2,
                 n_permutations=100, auc_threshold=0.55, ks_method="auto",
                 window_size=1000, window_seconds=None, max_reference=None,
                 random_state=None):
        self.features = features
        self.model = model
        self.audio_quality = audio_quality
        self.alpha = alpha
        self.correction = correction
        self.rule = rule
        self.large_sample = large_sample
        self.wasserstein_threshold = wasserstein_threshold
        self.psi_threshold = psi_threshold
        self.n_bins = n_bins
        self.detector = detector
        self.classifier = classifier
        self.classifier_test = classifier_test
        self.cv = cv
        self.n_permutations = n_permutations
        self.auc_threshold = auc_threshold
        self.ks_method = ks_method
        self.window_size = window_size
        self.window_seconds = window_seconds
        self.max_reference = max_reference
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the reference: the training features (or audio) the batches are compared with.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features), or audio
            The reference table; with ``features``, file paths or clips.
        y : None
            Ignored.

        Returns
        -------
        self : DriftMonitor
            The fitted monitor.
        """
        frame, kinds = self._extract(X, reset=True)
        if len(frame) < 2:
            raise ValueError(f"DriftMonitor.fit needs at least 2 reference rows; got "
                             f"{len(frame)}. Pass the training data's features.")
        names = [str(c) for c in frame.columns]
        self.feature_names_ = np.asarray(names, dtype=object)
        self.kinds_ = np.asarray(kinds, dtype=object)
        self.categories_ = {}
        for name in names:
            col = frame[name]
            if not _is_numeric(col):
                self.categories_[name] = sorted({str(v) for v in col})
        self.reference_ = self._encode(frame, what="the reference")
        if self.max_reference is not None and len(self.reference_) > self.max_reference:
            rng = check_random_state(self.random_state)
            keep = np.sort(rng.choice(len(self.reference_), self.max_reference, replace=False))
            self.reference_ = self.reference_[keep]
        self.n_reference_ = len(self.reference_)
        self.bin_edges_ = [
            np.array([]) if name in self.categories_
            else _stats.quantile_edges(self.reference_[:, j], self.n_bins)
            for j, name in enumerate(names)
        ]
        const = [name for j, name in enumerate(names) if name not in self.categories_
                 and np.ptp(self.reference_[:, j]) == 0]
        if const:
            warnings.warn(f"DriftMonitor: reference columns {const} are constant; they are "
                          "tested by chi-square on the counts below, at and above the "
                          "value.", AudioWarning, stacklevel=2)
        self.window_ = np.empty((0, len(names)))
        self.window_times_ = np.empty(0)
        return self

    # ------------------------------------------------------------ rolling window
    def update(self, X, *, timestamp=None):
        """Add a batch to the rolling window tested by ``test()`` without arguments.

        Keeps the last ``window_size`` rows (and, with ``window_seconds``, only rows
        that arrived within that many seconds of ``timestamp``). This is not
        ``partial_fit``: the reference stays as fitted.

        Parameters
        ----------
        X : DataFrame, array-like or audio
            New rows, in the form ``fit`` took.
        timestamp : float or None, default=None
            Arrival time in seconds since the epoch; None is now.

        Returns
        -------
        self : DriftMonitor
            The monitor, its window updated.
        """
        check_is_fitted(self, "reference_")
        rows = self._batch_matrix(X, allow_empty=True)
        now = time.time() if timestamp is None else float(timestamp)
        self.window_ = np.vstack([self.window_, rows])[-self.window_size:]
        self.window_times_ = np.r_[self.window_times_, np.full(len(rows), now)][
            -self.window_size:]
        if self.window_seconds is not None:
            keep = self.window_times_ >= now - self.window_seconds
            self.window_, self.window_times_ = self.window_[keep], self.window_times_[keep]
        return self

    # --------------------------------------------------------------------- test
    def test(self, X=None):
        """Compare a batch (or, without arguments, the rolling window) with the reference.

        Parameters
        ----------
        X : DataFrame, array-like, audio or None, default=None
            The batch, in the form ``fit`` took. None tests the rows gathered by
            :meth:`update`.

        Returns
        -------
        report : DriftReport
            The decision and the ranked table.
        """
        check_is_fitted(self, "reference_")
        if X is None:
            if len(self.window_) == 0:
                raise ValueError("DriftMonitor.test(): the rolling window is empty; call "
                                 "update(batch) first or pass a batch to test(batch).")
            cur = self.window_
        else:
            cur = self._batch_matrix(X, allow_empty=False)
        return self._compare(cur)

    def _compare(self, cur):
        ref = self.reference_
        n_ref, n_cur = len(ref), len(cur)
        if n_cur < _MIN_USEFUL_BATCH:
            warnings.warn(f"DriftMonitor.test: a batch of {n_cur} row(s) can hardly show "
                          "drift after the correction for the number of columns; gather "
                          "rows with update() and test the window.", AudioWarning,
                          stacklevel=3)
        rule = self.rule
        if rule == "auto":
            rule = "distance" if min(n_ref, n_cur) > self.large_sample else "p_value"
        use_features = self.detector in ("features", "both")
        use_clf = self.detector in ("classifier", "both")
        level = self.alpha / 2 if self.detector == "both" else self.alpha

        rows = []
        for j, name in enumerate(self.feature_names_):
            r, c = ref[:, j], cur[:, j]
            if name in self.categories_:
                k = len(self.categories_[name])
                # code -1 = a category the reference never had: one more bin
                rc = np.bincount(r.astype(int), minlength=k + 1)[: k]
                cc = np.bincount(np.where(c < 0, k, c).astype(int), minlength=k + 1)
                rc = np.r_[rc, 0]
                stat, p = _stats.chi2_counts(rc, cc)
                psi = _stats.psi_from_counts(rc, cc)
                rows.append((name, self.kinds_[j], "chi2", stat, p, psi, np.nan))
            else:
                edges = self.bin_edges_[j]
                rc, cc = _stats.bin_counts(r, edges), _stats.bin_counts(c, edges)
                if r[0] == r[-1] and np.ptp(r) == 0:
                    # KS assumes continuous data; a point mass is a category
                    test, (stat, p) = "chi2", _stats.chi2_counts(rc, cc)
                else:
                    test, (stat, p) = "ks", _stats.ks_test(r, c, method=self.ks_method)
                rows.append((name, self.kinds_[j], test, stat, p,
                             _stats.psi_from_counts(rc, cc), _stats.wasserstein_norm(r, c)))
        table = pd.DataFrame(rows, columns=_TABLE_COLUMNS[:5] + ["psi", "wasserstein_norm"])
        table["p_adjusted"] = _stats.adjust_p_values(table["p_value"], self.correction)
        table["psi_band"] = [_stats.psi_band(v) for v in table["psi"]]
        if rule == "p_value":
            drifted = table["p_adjusted"] < level
        else:
            drifted = (table["psi"] >= self.psi_threshold) | (
                table["wasserstein_norm"].fillna(0) >= self.wasserstein_threshold)
        table["drifted"] = drifted.to_numpy(dtype=bool)
        # most drifted first: drifted, then by the rule's own measure (smaller p-value,
        # ties such as p-values that underflow broken by the larger statistic and distance)
        w = table["wasserstein_norm"].fillna(-1).to_numpy()
        if rule == "p_value":
            keys = (-w, -table["statistic"].to_numpy(), table["p_value"].to_numpy())
        else:
            keys = (-table["psi"].to_numpy(), -w)
        order = np.lexsort(keys + (-table["drifted"].to_numpy().astype(int),))
        table = table.iloc[order][_TABLE_COLUMNS].reset_index(drop=True)

        clf = None
        if use_clf:
            clf = self._classifier_result(ref, cur, rule, level)
        drift = (use_features and bool(table["drifted"].any())) or (
            use_clf and clf["drift"])
        report = DriftReport(
            drift=bool(drift), rule=rule, table=table,
            drifted_features=list(table.loc[table["drifted"], "feature"]),
            drifted_health=list(table.loc[table["drifted"] & (table["kind"] == "quality"),
                                          "feature"]),
            classifier=clf, alpha=self.alpha, correction=self.correction,
            n_reference=n_ref, n_current=n_cur)
        report._reference, report._current = ref, cur
        report._columns, report._categories = list(self.feature_names_), dict(self.categories_)
        return report

    def _classifier_result(self, ref, cur, rule, level):
        numeric = [j for j, n in enumerate(self.feature_names_) if n not in self.categories_]
        if not numeric:
            raise ValueError("DriftMonitor(detector=...classifier): no numeric column to "
                             "train the domain classifier on.")
        n_splits = min(self.cv, len(ref), len(cur))
        if n_splits < 2:
            raise ValueError(f"DriftMonitor(detector={self.detector!r}): the domain "
                             f"classifier needs at least 2 rows in the batch; got "
                             f"{len(cur)}. Use detector='features' or a larger batch.")
        classifier = self.classifier
        if classifier is None:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        auc, p = _stats.classifier_test(
            classifier, ref[:, numeric], cur[:, numeric], n_splits=n_splits,
            test=self.classifier_test, n_permutations=self.n_permutations,
            random_state=self.random_state)
        drift = auc >= self.auc_threshold if rule == "distance" else p < level
        return {"auc": auc, "p_value": p, "n_splits": n_splits, "drift": bool(drift)}

    # ------------------------------------------------------------ input handling
    def _extract(self, X, *, reset):
        """The monitored table of ``X`` as a DataFrame, and each column's kind."""
        if self.features is None:
            frame = self._table_input(X, reset=reset)
            # a table from an audio monitor or a union with an AudioQuality step
            kinds = ["quality" if str(c).startswith("quality__") else "feature"
                     for c in frame.columns]
            feats_only = frame
        else:
            frame, kinds, feats_only = self._audio_input(X)
        if self.model is not None:
            pred = self._predict(X, feats_only)
            name = "prediction"
            while name in frame.columns:
                name = "_" + name
            frame = frame.assign(**{name: pred})
            kinds = list(kinds) + ["prediction"]
        return frame, kinds

    def _table_input(self, X, *, reset):
        if isinstance(X, pd.DataFrame):
            if reset:
                _check_feature_names(self, X, reset=True)
                _check_n_features(self, X, reset=True)
            frame = X.copy()
            frame.columns = [str(c) for c in frame.columns]
            return frame
        if reset:
            arr = validate_data(self, X, reset=True, ensure_all_finite=False,
                                ensure_min_samples=2, dtype=np.float64)
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise ValueError(f"DriftMonitor.test: the batch must be a 2-D table; got an "
                                 f"array of shape {arr.shape}.")
            if arr.dtype.kind not in "biuf":
                arr = arr.astype(np.float64)
        return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])

    def _audio_input(self, X):
        from sklearn.pipeline import Pipeline

        from sklaudio.io import AudioLoader

        feats = self.features
        clips = X
        if isinstance(feats, Pipeline) and isinstance(feats.steps[0][1], AudioLoader):
            # load once: the features and the quality columns see the same clips
            clips = feats.steps[0][1].transform(X)
            out = feats[1:].transform(clips) if len(feats.steps) > 1 else clips
        else:
            if self.audio_quality and _looks_like_paths(X):
                raise ValueError("DriftMonitor(audio_quality=True) needs audio clips, or a "
                                 "features pipeline whose first step is an AudioLoader; got "
                                 "file paths and features without a loader. Pass "
                                 "audio_quality=False or put the loader in features.")
            out = feats.transform(X)
        frame = _as_frame(out, feats)
        kinds = ["feature"] * frame.shape[1]
        feats_only = out
        if self.audio_quality:
            from sklaudio.features import assess_quality

            quality = assess_quality(clips, getattr(clips, "sr", None))
            quality = quality.reset_index(drop=True).add_prefix("quality__")
            frame = pd.concat([frame.reset_index(drop=True), quality], axis=1)
            kinds += ["quality"] * quality.shape[1]
        return frame, kinds, feats_only

    def _predict(self, X, feats_only):
        from sklearn.pipeline import Pipeline

        model, feats = self.model, self.features
        if (feats is not None and isinstance(model, Pipeline) and isinstance(feats, Pipeline)
                and len(model.steps) > len(feats.steps)
                and all(m[1] is f[1] for m, f in zip(model.steps, feats.steps))):
            pred = model[len(feats.steps):].predict(feats_only)
        else:
            pred = model.predict(X)
        pred = np.asarray(pred)
        if is_classifier(model):
            return pd.Series(pred.astype(str), dtype=object).to_numpy()
        return pred.astype(np.float64)

    def _batch_matrix(self, X, *, allow_empty):
        if not allow_empty and _n_rows(X) == 0:
            raise ValueError("DriftMonitor.test: the batch is empty (0 rows); pass at least "
                             "one row, or call test() to check the rolling window.")
        if _n_rows(X) == 0:
            return np.empty((0, len(self.feature_names_)))
        if (self.features is None and isinstance(X, pd.DataFrame)
                and not hasattr(self, "feature_names_in_")):
            X = X.to_numpy()  # fitted on an array: columns by position, as scikit-learn does
        frame, _ = self._extract(X, reset=False)
        names = list(self.feature_names_)
        if self.features is None and not isinstance(X, pd.DataFrame):
            if hasattr(self, "feature_names_in_"):
                raise ValueError("DriftMonitor was fitted on a DataFrame with columns "
                                 f"{_short(names)}; pass the batch as a DataFrame with these "
                                 "columns, not an array.")
            n_expected = len(names) - (self.model is not None)
            if frame.shape[1] - (self.model is not None) != n_expected:
                raise ValueError(f"DriftMonitor.test: the batch has "
                                 f"{frame.shape[1] - (self.model is not None)} columns, the "
                                 f"reference {n_expected}.")
            frame.columns = names
        missing = [n for n in names if n not in frame.columns]
        extra = [c for c in frame.columns if c not in names]
        if missing or extra:
            raise ValueError(f"DriftMonitor.test: the batch's columns differ from the "
                             f"reference's: missing {_short(missing)}, unexpected "
                             f"{_short(extra)}. Give the batch the columns the monitor was "
                             "fitted on (the same features pipeline).")
        return self._encode(frame[names], what="the batch")

    def _encode(self, frame, *, what):
        """A float matrix of ``frame``: categorical columns as codes (-1 = unseen)."""
        out = np.empty(frame.shape, dtype=np.float64)
        for j, name in enumerate(frame.columns):
            col = frame[name]
            if col.isna().any():
                row = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise ValueError(f"DriftMonitor: {what} has a missing value (NaN) in column "
                                 f"{name!r} at row {row}; drop or fill the rows before "
                                 "monitoring.")
            if name in self.categories_:
                lookup = {c: i for i, c in enumerate(self.categories_[name])}
                out[:, j] = [lookup.get(str(v), -1) for v in col]
                continue
            if not _is_numeric(col):
                raise ValueError(f"DriftMonitor: column {name!r} of {what} is not numeric "
                                 f"(dtype {col.dtype}) but was numeric in the reference.")
            vals = col.to_numpy(dtype=np.float64)
            bad = ~np.isfinite(vals)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(f"DriftMonitor: {what} has an infinite value (or NaN) "
                                 f"{vals[row]} in column {name!r} at row {row}; drop or "
                                 "fix the rows before monitoring.")
            out[:, j] = vals
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _is_numeric(col):
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _n_rows(X):
    try:
        return len(X)
    except TypeError:
        return np.asarray(X).shape[0]


def _looks_like_paths(X):
    if isinstance(X, (str, bytes)):
        return True
    try:
        first = X[0] if len(X) else None
    except (TypeError, KeyError, IndexError):
        return False
    return isinstance(first, (str, bytes)) or hasattr(first, "__fspath__")


def _as_frame(out, feats):
    if isinstance(out, pd.DataFrame):
        return out.reset_index(drop=True)
    arr = np.asarray(out)
    if arr.ndim != 2:
        raise ValueError(f"DriftMonitor: features must output a 2-D table, one row per clip; "
                         f"{type(feats).__name__} gave shape {arr.shape}.")
    from sklearn.pipeline import Pipeline

    # a pipeline that starts with a loader has no names for its audio input: ask the rest
    candidates = [feats] + ([feats[1:]] if isinstance(feats, Pipeline) and len(feats) > 1
                            else [])
    for step in candidates:
        try:
            names = [str(n) for n in step.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            continue
        if len(names) == arr.shape[1]:
            return pd.DataFrame(arr, columns=names)
    return pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])


def _short(names, k=8):
    names = list(names)
    return repr(names) if len(names) <= k else repr(names[:k])[:-1] + f", ... ({len(names)})]"
