"""SpeakerVerifier: a verification back end (LDA, PLDA or cosine, score normalisation,
a calibrated threshold) over any front end, with enrolment of new speakers."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import GroupKFold
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, column_or_1d

from sklaudio.speakers._metrics import equal_error_rate, min_dcf, threshold_at_precision
from sklaudio.speakers._plda import TwoCovariancePLDA
from sklaudio.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from sklaudio.utils._docstring import Substitution

__all__ = ["SpeakerVerifier"]

# parameter entries shared by the methods (indented for a method's docstring)
_DOCS = {
    "clips": """X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            The clips.""",
    "claim_args": """X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            The clips.

        speakers : array-like of shape (n_clips,)
            The claimed speaker of each clip; each must be enrolled.""",
    "pairs": """pairs : tuple (A, B) or array of shape (n_pairs, 2, ...)
            Two aligned inputs of the kind :meth:`fit` takes (see Notes).""",
}


def _unit(V):
    norm = np.linalg.norm(V, axis=1, keepdims=True)
    return V / np.where(norm > 0, norm, 1.0)


class _BackEnd:
    """Centering, whitening, LDA, length normalisation and a scorer, fitted on one table."""

    def __init__(self, params):
        self.p = params

    def fit(self, E, labels, adapt=None):
        """Learn on all rows; ``adapt`` (bool mask or None) picks the in-domain rows whose
        mean centres the vectors and whose speakers form the cohort."""
        p = self.p
        adapted, adapt = adapt is not None, np.ones(len(E), bool) if adapt is None else adapt
        self.mean_ = E[adapt].mean(axis=0)
        Z = E - self.mean_
        d = Z.shape[1]
        self.proj_ = np.eye(d)
        if p["whiten"]:
            evals, evecs = linalg.eigh(np.cov(Z.T, bias=True).reshape(d, d))
            keep = evals > 1e-10 * max(evals.max(), 1e-300)
            self.proj_ = evecs[:, keep] / np.sqrt(evals[keep])
            Z = Z @ self.proj_
        if p["lda_components"] is not None:
            L = _lda(Z, labels, p["lda_components"])
            self.proj_ = self.proj_ @ L
            Z = Z @ L
        if p["length_norm"]:
            Z = _unit(Z)
        if p["backend"] == "plda":
            self.plda_ = TwoCovariancePLDA(n_iter=p["plda_iter"]).fit(Z, labels)
            if adapted:  # the speakers to be scored come from the in-domain clips' mean
                self.plda_.mean_ = Z[adapt].mean(axis=0)
        # cohort: one vector per (in-domain) training speaker, the mean of its clips
        _, inv, counts = np.unique(labels[adapt], return_inverse=True, return_counts=True)
        sums = np.zeros((len(counts), Z.shape[1]))
        np.add.at(sums, inv, Z[adapt])
        self.cohort_ = self.finish(sums / counts[:, None])
        self.cohort_n_ = counts
        return self

    def vectors(self, E):
        Z = (E - self.mean_) @ self.proj_
        return _unit(Z) if self.p["length_norm"] else Z

    def finish(self, Z):
        """Scoring coordinates of back-end vectors (PLDA projection, or unit length)."""
        if self.p["backend"] == "plda":
            return self.plda_.project(Z)
        return _unit(Z)

    def raw_pairs(self, U1, U2):
        if self.p["backend"] == "plda":
            return self.plda_.score_pairs(U1, U2)
        return np.einsum("ij,ij->i", U1, U2)

    def raw_matrix(self, U1, U2, n1=None, n2=None):
        """Scores of rows of U1 (means of n1 clips, default 1) against rows of U2."""
        if self.p["backend"] == "plda":
            if n1 is None and n2 is None:
                return self.plda_.score_matrix(U1, U2)
            n1 = np.ones(len(U1)) if n1 is None else n1
            n2 = np.ones(len(U2)) if n2 is None else n2
            return self.plda_.score_sets(U1, n1, U2, n2)
        return np.stack([U1 @ u for u in U2], axis=1) if len(U2) else np.empty((len(U1), 0))

    def cohort_stats(self, U, n=None):
        """Mean and standard deviation of each vector's scores against the cohort."""
        if self.p["score_norm"] is None:
            return np.zeros(len(U)), np.ones(len(U))
        S = self.raw_matrix(U, self.cohort_, n, self.cohort_n_)
        if self.p["score_norm"] == "as-norm":
            top = min(self.p["cohort_top"], S.shape[1])
            S = -np.sort(-S, axis=1)[:, :top]
        sd = S.std(axis=1)
        return S.mean(axis=1), np.where(sd > 0, sd, 1.0)

    def norm(self, raw, st1, st2):
        if self.p["score_norm"] is None:
            return raw
        return 0.5 * ((raw - st1[0]) / st1[1] + (raw - st2[0]) / st2[1])

    def pair_scores(self, E1, E2):
        U1, U2 = self.finish(self.vectors(E1)), self.finish(self.vectors(E2))
        return self.norm(self.raw_pairs(U1, U2), self.cohort_stats(U1), self.cohort_stats(U2))

    def cross_scores(self, E1, E2=None):
        """Scores of every row of E1 against every row of E2 (default E1)."""
        U1 = self.finish(self.vectors(E1))
        U2 = U1 if E2 is None else self.finish(self.vectors(E2))
        S = self.raw_matrix(U1, U2)
        if self.p["score_norm"] is not None:
            m1, s1 = self.cohort_stats(U1)
            m2, s2 = (m1, s1) if E2 is None else self.cohort_stats(U2)
            S = 0.5 * ((S - m1[:, None]) / s1[:, None] + (S - m2[None, :]) / s2[None, :])
        return S

    def all_pair_scores(self, E):
        """Scores of every unordered pair of rows of E: (i, j, score) with i < j."""
        S = self.cross_scores(E)
        i, j = np.triu_indices(len(E), k=1)
        return i, j, S[i, j]


def _lda(Z, labels, n_components):
    """LDA directions (columns) maximising between- over within-speaker scatter."""
    _, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    d = Z.shape[1]
    sums = np.zeros((len(counts), d))
    np.add.at(sums, inv, Z)
    means = sums / counts[:, None]
    centred = means - Z.mean(axis=0)
    Sb = (centred * counts[:, None]).T @ centred / len(Z)
    resid = Z - means[inv]
    Sw = resid.T @ resid / len(Z)
    Sw += 1e-6 * np.trace(Sw) / d * np.eye(d)
    evals, evecs = linalg.eigh(Sb, Sw)
    return evecs[:, ::-1][:, :n_components]


class SpeakerVerifier(TransformerMixin, BaseEstimator):
    """Decide whether two recordings share a speaker, and who among enrolled ones speaks.

    A speaker-verification back end over a table of per-clip vectors (embeddings or
    features), optionally behind a ``front_end`` that turns audio into that table.
    :meth:`fit` learns, from training speakers' clips:

    1. centering and (``whiten``) whitening of the vectors, (``lda_components``) a
       linear discriminant projection, (``length_norm``) unit length;
    2. the scorer: a two-covariance PLDA log likelihood ratio (``backend="plda"``) or
       the cosine similarity (``"cosine"``);
    3. (``score_norm``) symmetric score normalisation against a cohort made of the
       training speakers (s-norm, or adaptive s-norm over the ``cohort_top`` closest);
    4. a decision threshold, calibrated on same- and different-speaker pairs of the
       training speakers, at the equal error rate, at a target false-accept rate, or
       by logistic regression into probabilities (``calibration``). With
       ``calibration_cv`` the pairs are scored by back ends fitted without their
       speakers, as new speakers will be.

    The training speakers are then enrolled. :meth:`enroll` adds speakers (or more
    clips of enrolled ones) without touching the back end, so enrolling a speaker
    changes no other score. A speaker model is the mean of its clips' back-end
    vectors; the PLDA scores it as the mean of that many clips (the exact likelihood
    ratio of all its clips against the test clip), the cosine as one vector.

    Parameters
    ----------
    front_end : transformer or None, default=None
        Turns what :meth:`fit` receives into one row per clip (e.g.
        :class:`~sklaudio.features.MelFeatures` or
        :class:`~sklaudio.features.SpeakerEmbedding`); cloned and fitted in
        :meth:`fit`. None: ``X`` is already that table.

    backend : {"plda", "cosine"}, default="plda"
        Scorer.

    whiten : bool, default=True
        Whiten the centred vectors (total covariance to identity) before LDA. It
        needs many more training clips than features: with fewer, it keeps only the
        directions the training clips span and amplifies their noise.

    lda_components : int or None, default=None
        Keep this many linear discriminant directions (at most ``n_speakers - 1``).
        None skips LDA.

    length_norm : bool, default=True
        Scale each vector to unit length before the scorer (Garcia-Romero's length
        normalisation, which makes the vectors nearly Gaussian for PLDA).

    plda_iter : int, default=10
        EM iterations of the PLDA after its moment estimates.

    score_norm : {"s-norm", "as-norm"} or None, default=None
        Score normalisation against the training speakers' cohort.

    cohort_top : int, default=50
        Cohort speakers closest to each side used by ``"as-norm"``.

    calibration : {"eer", "far", "precision", "dcf", "logistic"}, default="eer"
        How ``threshold_`` is set from the calibration pairs: at their equal error
        rate; at the false-accept rate ``target_far``; at the lowest threshold whose
        precision reaches ``target_precision`` when a share ``p_target`` of the
        trials are same-speaker (:func:`threshold_at_precision`); where the
        detection cost at prior ``p_target`` is lowest (:func:`min_dcf`, equal
        costs: the fewest errors when that share of trials is same-speaker); or
        where a logistic regression of same-speaker on score gives probability 0.5
        at prior ``p_target`` (equal priors when None), which also enables
        :meth:`predict_proba`.

    target_far : float in (0, 1), default=0.01
        False-accept rate aimed at with ``calibration="far"``.

    target_precision : float in (0, 1], default=0.9
        Precision aimed at with ``calibration="precision"``.

    p_target : float in (0, 1) or None, default=None
        Expected share of same-speaker trials where the verifier will be used (the
        prior). Precision and the best threshold depend on it: when most trials
        are impostors, as in identification or in all pairs of a crowd, a
        threshold set at equal priors accepts many of them. Needed by
        ``calibration="precision"`` and ``"dcf"``; with ``"logistic"`` it sets the
        prior of :meth:`predict_proba` (None: equal priors).

    calibration_cv : int or None, default=3
        Folds of training speakers for scoring the calibration pairs with back ends
        that did not see them. None scores them with the final back end, which has
        seen them (optimistic: more false accepts on new speakers).

    unknown_label : str, default="unknown"
        Label :meth:`identify` gives a clip whose best score is below the threshold.

    Attributes
    ----------
    front_end_ : transformer or None
        The fitted clone of ``front_end``.

    threshold_ : float
        Decision threshold on :meth:`decision_function` scores.

    calibration_scores_ : pandas.DataFrame
        The calibration pairs' ``score`` and ``same`` (bool).

    speakers_ : ndarray of object
        Enrolled speakers, in enrolment order (the columns of :meth:`score_speakers`).

    n_clips_ : ndarray of int
        Clips behind each enrolled speaker's model.

    n_features_in_ : int
        Width of the table seen in :term:`fit` (no ``front_end``, or a matrix of clips).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :term:`fit`, for a DataFrame with string columns.

    See Also
    --------
    make_pairs : Same- and different-speaker pairs to evaluate on.
    equal_error_rate, min_dcf, verification_report : Verification metrics.
    sklaudio.features.SpeakerEmbedding : A pretrained speaker encoder front end.

    Notes
    -----
    **Pairs** (:meth:`decision_function`, :meth:`predict`, :meth:`predict_proba`):
    either a tuple ``(A, B)`` of two aligned inputs, each of the kind :meth:`fit`
    takes (tables, or clips for a front end), or an array of shape ``(n_pairs, 2,
    ...)`` whose ``[:, 0]`` and ``[:, 1]`` are those inputs.

    The threshold is calibrated on clip-against-clip pairs; a speaker model made of
    many clips scores its own clips higher, so its miss rate is lower than the
    calibration's.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.speakers import SpeakerVerifier
    >>> rng = np.random.default_rng(0)
    >>> voices = rng.normal(size=(50, 16))                 # 50 speakers' true voices
    >>> def clips(speaker_ids):                             # noisy clips of them
    ...     return voices[speaker_ids] + 0.3 * rng.normal(size=(len(speaker_ids), 16))
    >>> train = np.repeat(np.arange(40), 5)                 # speakers 0-39, 5 clips each
    >>> sv = SpeakerVerifier().fit(clips(train), train)
    >>> sv.enroll(clips([45, 45, 45]), ["new"] * 3).speakers_[-1]
    'new'
    >>> sv.identify(clips([45, 3, 47])).tolist()           # 47 was never enrolled
    ['new', 3, 'unknown']
    >>> sv.predict((clips([45, 45]), clips([45, 46]))).tolist()  # same speaker?
    [True, False]
    """

    _parameter_constraints: dict = {
        "front_end": [HasMethods(["fit", "transform"]), None],
        "backend": [StrOptions({"plda", "cosine"})],
        "whiten": ["boolean"],
        "lda_components": [Interval(Integral, 1, None, closed="left"), None],
        "length_norm": ["boolean"],
        "plda_iter": [Interval(Integral, 0, None, closed="left")],
        "score_norm": [StrOptions({"s-norm", "as-norm"}), None],
        "cohort_top": [Interval(Integral, 1, None, closed="left")],
        "calibration": [StrOptions({"eer", "far", "precision", "dcf", "logistic"})],
        "target_far": [Interval(Real, 0, 1, closed="neither")],
        "target_precision": [Interval(Real, 0, 1, closed="right")],
        "p_target": [Interval(Real, 0, 1, closed="neither"), None],
        "calibration_cv": [Interval(Integral, 2, None, closed="left"), None],
        "unknown_label": [str],
    }

    def __init__(self, *, front_end=None, backend="plda", whiten=True, lda_components=None,
                 length_norm=True, plda_iter=10, score_norm=None, cohort_top=50,
                 calibration="eer", target_far=0.01, target_precision=0.9, p_target=None,
                 calibration_cv=3, unknown_label="unknown"):
        self.front_end = front_end
        self.backend = backend
        self.whiten = whiten
        self.lda_components = lda_components
        self.length_norm = length_norm
        self.plda_iter = plda_iter
        self.score_norm = score_norm
        self.cohort_top = cohort_top
        self.calibration = calibration
        self.target_far = target_far
        self.target_precision = target_precision
        self.p_target = p_target
        self.calibration_cv = calibration_cv
        self.unknown_label = unknown_label

    # ---------------------------------------------------------------- inputs
    def _table(self, X, *, reset, what="X"):
        """The per-clip table of X: through the front end, or validated as is."""
        if self.front_end is None:
            E = validate_data(self, X, reset=reset, dtype=np.float64)
        else:
            if reset:
                self.front_end_ = clone(self.front_end).fit(X)
                n = getattr(self.front_end_, "n_features_in_", None)
                if n is None and hasattr(self, "n_features_in_"):
                    del self.n_features_in_
                elif n is not None:
                    self.n_features_in_ = n
            try:
                E = self.front_end_.transform(X)
            except ValueError as exc:
                raise type(exc)(
                    f"SpeakerVerifier's front end {type(self.front_end_).__name__} refused "
                    f"{what}: {exc}"
                ) from exc
            E = check_array(E, dtype=np.float64, input_name=what)
        if not reset and E.shape[1] != self._width:
            raise ValueError(
                f"{what} gives {E.shape[1]} features per clip, but SpeakerVerifier was "
                f"fitted on {self._width}. Pass the same kind of vectors as in fit."
            )
        return E

    def _labels(self, speakers, n, *, name="speakers"):
        if speakers is None:
            raise ValueError(
                f"SpeakerVerifier requires y to be passed, but the target y is None: pass "
                f"{name}, one speaker label per clip."
            )
        y = column_or_1d(np.asarray(speakers, dtype=object), warn=True)
        if len(y) != n:
            raise ValueError(
                f"SpeakerVerifier got {n} clips but {len(y)} {name}; pass one label per clip."
            )
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y):
            i = next(i for i, v in enumerate(y) if v is None or
                     (isinstance(v, float) and np.isnan(v)))
            raise ValueError(f"{name}[{i}] is missing; every clip needs a speaker label.")
        return y

    def _pairs(self, pairs):
        if isinstance(pairs, tuple):
            if len(pairs) != 2:
                raise ValueError(
                    f"pairs as a tuple must be (A, B), two aligned inputs; got a tuple of "
                    f"{len(pairs)}."
                )
            A, B = pairs
        elif hasattr(pairs, "ndim") and getattr(pairs, "ndim", 0) >= 3 and pairs.shape[1] == 2:
            A, B = pairs[:, 0], pairs[:, 1]
        else:
            shape = getattr(pairs, "shape", None)
            raise ValueError(
                "SpeakerVerifier scores pairs: pass a tuple (A, B) of two aligned inputs "
                f"of the kind fit takes, or an array of shape (n_pairs, 2, ...); got "
                f"{type(pairs).__name__}{'' if shape is None else f' of shape {shape}'}. "
                "To score clips against enrolled speakers use score_speakers, identify "
                "or verify."
            )
        EA = self._table(A, reset=False, what="pairs[0]")
        EB = self._table(B, reset=False, what="pairs[1]")
        if len(EA) != len(EB):
            raise ValueError(
                f"the two sides of the pairs differ in length: {len(EA)} and {len(EB)} clips."
            )
        return EA, EB

    # ---------------------------------------------------------------- fit
    def _params(self, lda):
        return dict(backend=self.backend, whiten=self.whiten, lda_components=lda,
                    length_norm=self.length_norm, plda_iter=self.plda_iter,
                    score_norm=self.score_norm, cohort_top=self.cohort_top)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, speakers, *, calibrate_on=None, adapt_on=None):
        """Learn the back end and its threshold from training speakers, and enrol them.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            One row (or clip) per recording of a training speaker.

        speakers : array-like of shape (n_clips,)
            Speaker of each clip. Every speaker needs at least two clips (the
            within-speaker variation is learned from them), and at least two speakers.

        calibrate_on : array-like of bool of shape (n_clips,) or None, default=None
            Clips whose pairs set the threshold (all of them learn the back end). Use
            it when the training set mixes a large out-of-domain corpus with some
            clips like those to be verified: calibrating on those alone sets a
            threshold whose false-accept rate holds better on new speakers of that
            domain. None calibrates on all clips.

        adapt_on : array-like of bool of shape (n_clips,) or None, default=None
            Clips recorded like those to be verified (in-domain), in a training set
            that mixes them with another corpus. The back end still learns from all
            clips, but the vectors are centred on these clips' mean and the score
            normalisation cohort is made of their speakers only, so that new speakers
            are compared with voices recorded the same way. They need at least two
            speakers. None uses all clips for both.

        Returns
        -------
        self : SpeakerVerifier
            The fitted verifier.
        """
        if self.calibration in ("precision", "dcf") and self.p_target is None:
            raise ValueError(
                f"calibration={self.calibration!r} needs p_target, the share of "
                "same-speaker trials expected where the verifier will be used (e.g. "
                "0.05 when one claim in twenty is genuine)."
            )
        E = self._table(X, reset=True)
        y = self._labels(speakers, len(E))
        names, inv, counts = np.unique(y.astype(str), return_inverse=True, return_counts=True)
        lone = names[counts < 2]
        if len(lone):
            raise ValueError(
                f"SpeakerVerifier.fit needs at least two clips per speaker; {len(lone)} "
                f"speaker(s) have only one sample (clip): {lone[:10].tolist()}"
                f"{' ...' if len(lone) > 10 else ''}. "
                "Drop them, or cut their recordings into several windows with make_windows."
            )
        if len(names) < 2:
            raise ValueError(
                f"SpeakerVerifier.fit needs clips of at least two speakers; got {len(names)}."
            )
        lda = self.lda_components
        if lda is not None and lda > min(len(names) - 1, E.shape[1]):
            raise ValueError(
                f"lda_components={lda} is more than LDA can give with {len(names)} speakers "
                f"and {E.shape[1]} features (at most {min(len(names) - 1, E.shape[1])})."
            )
        self._width = E.shape[1]
        mask = self._mask(calibrate_on, len(E), "calibrate_on")
        adapt = None if adapt_on is None else self._mask(adapt_on, len(E), "adapt_on")
        if adapt is not None and len(np.unique(inv[adapt])) < 2:
            raise ValueError(
                f"adapt_on selects clips of {len(np.unique(inv[adapt]))} speaker(s); the "
                "cohort needs at least two. Select more in-domain clips, or pass None."
            )
        self.backend_ = _BackEnd(self._params(lda)).fit(E, inv, adapt)
        self._calibrate(E, inv, mask, adapt)
        self.speakers_ = np.empty(0, dtype=object)
        self.n_clips_ = np.empty(0, dtype=int)
        self._sums = np.empty((0, self.backend_.proj_.shape[1]))
        self._model_stats = np.empty((0, 2))
        self._enroll_table(E, y)
        return self

    @staticmethod
    def _mask(values, n, name):
        if values is None:
            return np.ones(n, dtype=bool)
        mask = column_or_1d(np.asarray(values))
        if mask.dtype != bool or len(mask) != n:
            raise ValueError(
                f"{name} must be a boolean mask with one entry per clip ({n}); got dtype "
                f"{mask.dtype} and {len(mask)} entries."
            )
        return mask

    def _calibrate(self, E, inv, mask, adapt):
        if self.calibration_cv is None:
            i, j, s = self.backend_.all_pair_scores(E[mask])
            same = inv[mask][i] == inv[mask][j]
        else:
            n_spk = inv.max() + 1
            if n_spk < 2 * self.calibration_cv:
                raise ValueError(
                    f"calibration_cv={self.calibration_cv} needs at least "
                    f"{2 * self.calibration_cv} training speakers (got {n_spk}); lower it "
                    "or set calibration_cv=None."
                )
            scores, sames = [], []
            for tr, te in GroupKFold(self.calibration_cv).split(E, groups=inv):
                lda = self.lda_components
                if lda is not None:
                    lda = min(lda, len(np.unique(inv[tr])) - 1)
                if adapt is not None and len(np.unique(inv[tr][adapt[tr]])) < 2:
                    raise ValueError(
                        f"a calibration fold keeps fewer than two adapt_on speakers for "
                        f"its back end; select more in-domain speakers or lower "
                        f"calibration_cv={self.calibration_cv}."
                    )
                be = _BackEnd(self._params(lda)).fit(
                    E[tr], inv[tr], None if adapt is None else adapt[tr])
                te = te[mask[te]]
                i, j, s = be.all_pair_scores(E[te])
                scores.append(s)
                sames.append(inv[te][i] == inv[te][j])
            s, same = np.concatenate(scores), np.concatenate(sames)
        if same.all() or not same.any():
            raise ValueError(
                f"the calibration pairs are all {'same' if same.any() else 'different'}-"
                "speaker; calibrate on clips of more speakers, each with two clips or more "
                "(calibrate_on, calibration_cv)."
            )
        self.calibration_scores_ = pd.DataFrame({"score": s, "same": same})
        self.probability_ = None
        if self.calibration == "eer":
            _, self.threshold_ = equal_error_rate(same, s, return_threshold=True)
        elif self.calibration == "far":
            non = np.sort(s[~same])
            # smallest threshold accepting at most target_far of different-speaker pairs
            k = int(np.floor(self.target_far * len(non)))
            self.threshold_ = float(np.nextafter(non[len(non) - k - 1], np.inf)) \
                if k < len(non) else float(non[0])
        elif self.calibration == "precision":
            self.threshold_, _ = threshold_at_precision(
                same, s, self.target_precision, p_target=self.p_target)
        elif self.calibration == "dcf":
            _, self.threshold_ = min_dcf(same, s, p_target=self.p_target, return_threshold=True)
        else:
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(class_weight="balanced").fit(s[:, None], same)
            a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
            if self.p_target is not None:  # balanced fit = equal priors; move to p_target
                b += float(np.log(self.p_target / (1 - self.p_target)))
            if a <= 0:
                raise ValueError(
                    "logistic calibration found scores no higher for same-speaker pairs "
                    "than for different-speaker ones; the front end does not tell these "
                    "speakers apart."
                )
            self.probability_ = (a, b)
            self.threshold_ = -b / a

    # ---------------------------------------------------------------- enrolment
    def _enroll_table(self, E, y):
        Z = self.backend_.vectors(E)
        touched = []
        for spk in pd.unique(y):
            rows = Z[y == spk]
            hit = np.flatnonzero(self.speakers_ == spk) if len(self.speakers_) else []
            if len(hit):
                self._sums[hit[0]] += rows.sum(axis=0)
                self.n_clips_[hit[0]] += len(rows)
                touched.append(hit[0])
            else:
                touched.append(len(self.speakers_))
                self.speakers_ = np.append(self.speakers_, np.array([spk], dtype=object))
                self.n_clips_ = np.append(self.n_clips_, len(rows))
                self._sums = np.vstack([self._sums, rows.sum(axis=0)])
        self._models = self.backend_.finish(self._sums / self.n_clips_[:, None])
        # cohort statistics of the new or updated models only, one model at a time, so a
        # model's numbers never depend on which others are enrolled
        stats = np.zeros((len(self.speakers_), 2))
        stats[: len(self._model_stats)] = self._model_stats
        for k in touched:
            m, sd = self.backend_.cohort_stats(self._models[k : k + 1], self.n_clips_[k : k + 1])
            stats[k] = m[0], sd[0]
        self._model_stats = stats

    def enroll(self, X, speakers):
        """Add speakers, or more clips of enrolled ones, without refitting the back end.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            Clips of the speakers, the same kind as in :meth:`fit` (with a front end:
            at the same sampling rate).

        speakers : array-like of shape (n_clips,)
            Speaker of each clip. One clip per speaker is allowed.

        Returns
        -------
        self : SpeakerVerifier
            The verifier, with ``speakers_`` extended (new speakers at the end) and the
            models of already enrolled speakers updated with the new clips.
        """
        check_is_fitted(self)
        E = self._table(X, reset=False)
        self._enroll_table(E, self._labels(speakers, len(E)))
        return self

    def forget(self, speakers=None):
        """Remove enrolled speakers; the back end and the other speakers stay as they are.

        Parameters
        ----------
        speakers : array-like or None, default=None
            Speakers to remove; None removes all (e.g. the training speakers that
            :meth:`fit` enrolled, before enrolling the ones to identify).

        Returns
        -------
        self : SpeakerVerifier
            The verifier, with those speakers gone from ``speakers_``.
        """
        check_is_fitted(self)
        if speakers is None:
            keep = np.zeros(len(self.speakers_), dtype=bool)
        else:
            drop = list(self._labels(speakers, len(np.atleast_1d(speakers))))
            missing = [str(s) for s in drop if s not in set(self.speakers_.tolist())]
            if missing:
                raise ValueError(f"forget: speaker(s) {missing[:10]} are not enrolled.")
            keep = ~np.isin(self.speakers_, np.asarray(drop, dtype=object))
        self.speakers_, self.n_clips_ = self.speakers_[keep], self.n_clips_[keep]
        self._sums, self._models = self._sums[keep], self._models[keep]
        self._model_stats = self._model_stats[keep]
        return self

    # ---------------------------------------------------------------- scoring
    @Substitution(clips=_DOCS["clips"])
    def transform(self, X):
        """Back-end vectors of the clips (after whitening, LDA and length normalisation).

        Parameters
        ----------
        {clips}

        Returns
        -------
        V : ndarray of shape (n_clips, n_components)
            One row per clip.
        """
        check_is_fitted(self)
        return self.backend_.vectors(self._table(X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """Names of the back-end vector's components: ``speakerverifier0``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per component.
        """
        check_is_fitted(self)
        n = self.backend_.proj_.shape[1]
        return np.asarray([f"speakerverifier{i}" for i in range(n)], dtype=object)

    @Substitution(pairs=_DOCS["pairs"])
    def decision_function(self, pairs):
        """Score of each pair: higher means more likely one speaker.

        Parameters
        ----------
        {pairs}

        Returns
        -------
        scores : ndarray of shape (n_pairs,)
            PLDA log likelihood ratios or cosines, normalised when ``score_norm`` is set.
        """
        check_is_fitted(self)
        return self.backend_.pair_scores(*self._pairs(pairs))

    def score_matrix(self, X, Y=None):
        """Scores of every clip of ``X`` against every clip of ``Y``, as pairs would score.

        Cheaper than :meth:`decision_function` on all pairs: each clip goes through
        the front end and the back end once.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            The first clips.

        Y : same kind as X, or None, default=None
            The second clips; None scores ``X`` against itself.

        Returns
        -------
        scores : ndarray of shape (n_clips_X, n_clips_Y)
            ``scores[i, j]`` equals ``decision_function((X[[i]], Y[[j]]))``.
        """
        check_is_fitted(self)
        E1 = self._table(X, reset=False)
        E2 = None if Y is None else self._table(Y, reset=False, what="Y")
        return self.backend_.cross_scores(E1, E2)

    @Substitution(pairs=_DOCS["pairs"])
    def predict(self, pairs):
        """Whether each pair is one speaker (score at or above ``threshold_``).

        Parameters
        ----------
        {pairs}

        Returns
        -------
        same : ndarray of bool of shape (n_pairs,)
            True where the pair's score is at or above the calibrated threshold.
        """
        return self.decision_function(pairs) >= self.threshold_

    def _has_probability(self):
        check_is_fitted(self)
        if self.probability_ is None:
            raise AttributeError(
                "predict_proba needs calibration='logistic' (this verifier uses "
                f"calibration={self.calibration!r})."
            )
        return True

    @available_if(_has_probability)
    @Substitution(pairs=_DOCS["pairs"])
    def predict_proba(self, pairs):
        """Probability that each pair is one speaker (logistic calibration, prior ``p_target``).

        Parameters
        ----------
        {pairs}

        Returns
        -------
        proba : ndarray of shape (n_pairs, 2)
            Columns: different speakers, same speaker.
        """
        a, b = self.probability_
        p = 1.0 / (1.0 + np.exp(-(a * self.decision_function(pairs) + b)))
        return np.column_stack([1 - p, p])

    @Substitution(clips=_DOCS["clips"])
    def score_speakers(self, X):
        """Score of every clip against every enrolled speaker.

        Parameters
        ----------
        {clips}

        Returns
        -------
        scores : ndarray of shape (n_clips, n_speakers)
            Columns in the order of ``speakers_``. A column depends only on the back
            end and that speaker's clips, so enrolling others never changes it.
        """
        check_is_fitted(self)
        be = self.backend_
        U = be.finish(be.vectors(self._table(X, reset=False)))
        S = be.raw_matrix(U, self._models, np.ones(len(U)), self.n_clips_)
        if self.score_norm is None:
            return S
        m, s = be.cohort_stats(U)
        mm, ms = self._model_stats.T
        return 0.5 * ((S - m[:, None]) / s[:, None] + (S - mm[None, :]) / ms[None, :])

    @Substitution(claim_args=_DOCS["claim_args"])
    def verify(self, X, speakers):
        """Whether each clip is spoken by the enrolled speaker it claims to be.

        Parameters
        ----------
        {claim_args}

        Returns
        -------
        accepted : ndarray of bool of shape (n_clips,)
            True where the clip is accepted as the speaker it claims to be.
        """
        return self.score_claims(X, speakers) >= self.threshold_

    @Substitution(claim_args=_DOCS["claim_args"])
    def score_claims(self, X, speakers):
        """Score of each clip against the enrolled speaker it claims to be.

        Parameters
        ----------
        {claim_args}

        Returns
        -------
        scores : ndarray of shape (n_clips,)
            Each clip's score against the speaker it claims to be (higher: more alike).
        """
        check_is_fitted(self)
        S = self.score_speakers(X)
        claims = self._labels(speakers, len(S))
        index = {s: i for i, s in enumerate(self.speakers_)}
        unknown = sorted({str(c) for c in claims if c not in index})
        if unknown:
            raise ValueError(
                f"{len(unknown)} claimed speaker(s) are not enrolled: {unknown[:10]}. "
                f"Enrol them first with enroll(X, speakers); enrolled: "
                f"{[str(s) for s in self.speakers_[:10]]}"
                f"{' ...' if len(self.speakers_) > 10 else ''}."
            )
        cols = np.array([index[c] for c in claims], dtype=int)
        return S[np.arange(len(S)), cols]

    @Substitution(clips=_DOCS["clips"])
    def identify(self, X, *, open_set=True, threshold=None):
        """The enrolled speaker who most likely speaks each clip.

        Parameters
        ----------
        {clips}

        open_set : bool, default=True
            Answer ``unknown_label`` when even the best score is below ``threshold_``
            (the speaker may not be enrolled). False always names an enrolled speaker.

        threshold : float or None, default=None
            Threshold of the open-set decision; None uses ``threshold_``. An impostor
            is named wrongly when any of the enrolled speakers accepts him, so with
            many enrolled speakers the verification threshold is too lenient: fit
            with ``calibration="far"`` and a ``target_far`` near the wanted error
            divided by the number of speakers, or pass a higher threshold here.

        Returns
        -------
        speakers : ndarray of object of shape (n_clips,)
            The best-scoring enrolled speaker of each clip, or ``"unknown"`` where
            open-set identification finds none above the threshold.
        """
        S = self.score_speakers(X)
        if S.shape[1] == 0:
            raise ValueError("no speaker is enrolled; enrol speakers with enroll(X, speakers).")
        best = np.argmax(S, axis=1)
        out = self.speakers_[best].astype(object)
        if open_set:
            limit = self.threshold_ if threshold is None else threshold
            out[S[np.arange(len(S)), best] < limit] = self.unknown_label
        return out

    def score(self, X, speakers):
        """Negative equal error rate over every pair of the clips (greater is better).

        The pairs are all unordered pairs of rows of ``X``, same-speaker when their
        labels agree; this is the default score of a grid search, which should split
        by speaker (e.g. ``GroupKFold`` with ``groups=speakers``).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features), or clips for a ``front_end``
            Clips of speakers not seen in :meth:`fit`.

        speakers : array-like of shape (n_clips,)
            Speaker of each clip; at least one speaker needs two clips.

        Returns
        -------
        score : float
            ``-equal_error_rate`` of those pairs.
        """
        y, i, j, s = self._all_pairs(X, speakers)
        return -equal_error_rate(y[i] == y[j], s)

    def _all_pairs(self, X, speakers):
        """Labels and scores of every unordered pair of clips: (labels, i, j, scores)."""
        check_is_fitted(self)
        E = self._table(X, reset=False)
        y = self._labels(speakers, len(E)).astype(str)
        i, j, s = self.backend_.all_pair_scores(E)
        return y, i, j, s

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = False
        return tags
