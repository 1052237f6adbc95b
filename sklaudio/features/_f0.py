"""F0Stats: clip-level statistics of the fundamental frequency (pitch).

The frame-wise f0 comes from :func:`~sklaudio.features.estimate_f0`, sklaudio's fast
implementation of librosa's probabilistic YIN (module ``_pyin``).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from sklaudio.features._accumulate import StatsAccumulator
from sklaudio.features._base import ClipFeaturesMixin, check_stats, clip_pieces, stat_names
from sklaudio.features._pyin import (
    BETA_PARAMETERS,
    BOLTZMANN_PARAMETER,
    MAX_TRANSITION_RATE,
    N_THRESHOLDS,
    NO_TROUGH_PROB,
    SWITCH_PROB,
    _analysis_dtype,
    _check_f0_params,
    _fast_pyin,
    _Model,
    _StreamingDecoder,
    estimate_f0,
)
from sklaudio.utils._compat import Interval, StrOptions
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import frame

__all__ = ["F0Stats", "estimate_f0"]

# frame length at librosa's default rate; F0Stats scales it to other rates
_REF_FRAME_LENGTH, _REF_SR = 2048, 22050


# -------------------------------------------------------------------- estimator
_MODEL = dict(
    n_thresholds=N_THRESHOLDS, beta_parameters=BETA_PARAMETERS,
    boltzmann_parameter=BOLTZMANN_PARAMETER, max_transition_rate=MAX_TRANSITION_RATE,
    switch_prob=SWITCH_PROB, no_trough_prob=NO_TROUGH_PROB,
)
# frames per piece of a streamed clip: 6 s at 16 kHz; a piece's YIN spectra and
# back-pointers stay a few MB (each frame's numbers do not depend on its batch)
_STREAM_FRAMES = 256


def _track(y, *, sr, fmin, fmax, frame_length, hop_length, method):
    """(f0, voiced_flag, voiced_prob) of one clip; parameters already checked."""
    if method == "pyin":
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # F0Stats.fit warned already
            return librosa.pyin(
                y, sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length,
                hop_length=hop_length, fill_na=None,
            )
    return _fast_pyin(
        y, sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length, hop_length=hop_length,
        center=True, pad_mode="constant", **_MODEL,
    )


def _drop_unsupported_runs(voiced, voiced_prob, min_prob):
    """Unvoice each run of voiced frames in which no frame's voiced_prob reaches min_prob."""
    if min_prob <= 0 or not voiced.any():
        return voiced
    edges = np.diff(np.r_[0, voiced.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    peak = np.maximum.reduceat(np.where(voiced, voiced_prob, 0.0), starts)
    out = voiced.copy()
    for a, b in zip(starts[peak < min_prob], stops[peak < min_prob]):
        out[a:b] = False
    return out


class _RunFilter:
    """:func:`_drop_unsupported_runs` on decisions that arrive chunk by chunk.

    Frames go out in order as f0 values (NaN where unvoiced); the frames of a voiced
    run wait only while none of them has reached ``min_prob`` (a run of noise read as
    voiced: 8 bytes a frame), and go out as voiced or unvoiced when it ends.
    """

    def __init__(self, min_prob):
        self.min_prob = min_prob
        self.pending = []  # f0 of the open run's frames while it is unconfirmed
        self.open = False  # the last frame seen was voiced
        self.confirmed = False

    def push(self, f0, voiced, prob):
        if not len(voiced):
            return np.zeros(0)
        out = []
        cuts = np.flatnonzero(np.diff(voiced.astype(np.int8))) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(voiced)]):
            if not voiced[a]:
                out += self._close()
                out.append(np.full(b - a, np.nan))
                continue
            if not self.open:
                self.open, self.confirmed = True, False
            self.confirmed = self.confirmed or prob[a:b].max() >= self.min_prob
            self.pending.append(f0[a:b])
            if self.confirmed:
                out += self.pending
                self.pending = []
        return np.concatenate(out) if out else np.zeros(0)

    def _close(self):
        """The open run's waiting frames: voiced if confirmed, else unvoiced."""
        out = self.pending if self.confirmed else [np.full(len(p), np.nan) for p in self.pending]
        self.pending, self.open = [], False
        return out

    def finish(self):
        out = self._close()
        return np.concatenate(out) if out else np.zeros(0)


def _f0_summary(f0, voiced, percentiles):
    """Mean, median, std and percentiles of the voiced f0, then the voiced fraction.

    A clip without a voiced frame gets 0.0 for every f0 statistic (and voiced
    fraction 0.0), never NaN.
    """
    n_stats = 3 + len(percentiles)
    out = np.zeros(n_stats + 1)
    if len(voiced):
        out[-1] = np.count_nonzero(voiced) / len(voiced)
    v = np.asarray(f0)[np.asarray(voiced, dtype=bool)]
    if v.size:
        out[0] = v.mean()
        out[1] = np.median(v)
        out[2] = v.std()
        if len(percentiles):
            out[3:n_stats] = np.percentile(v, list(percentiles))
    return out


@Substitution(**CLIP_FEATURES_DOCS)
class F0Stats(ClipFeaturesMixin, BaseEstimator):
    """Summarise the fundamental frequency (pitch) of each clip.

    For each clip, the f0 of every frame is estimated with probabilistic YIN
    (:func:`estimate_f0`), then summarised over the voiced frames:

    - ``f0_mean``, ``f0_median``, ``f0_std`` (population std), in Hz;
    - ``f0_pXX``: the requested percentiles (``f0_p05``, ``f0_p95`` by default), in Hz;
    - ``voiced_fraction``: the fraction of frames that are voiced, in [0, 1].

    A clip with no voiced frame (silence, noise, a clip shorter than a period) gets
    0.0 for every f0 statistic and a voiced fraction of 0.0: finite, never NaN. The
    f0 statistics are in Hz; follow with :class:`LogFeatures` for a log scale.

    Parameters
    ----------
    {sr}

    fmin : float, default=50.0
        Lowest f0 to consider, in Hz (speech: 50).

    fmax : float, default=500.0
        Highest f0 to consider, in Hz (speech: 500). At most ``sr / 2``.

    frame_length : int or None, default=None
        Analysis frame length in samples. None means about 93 ms: librosa's 2048 at
        22050 Hz, scaled to the sampling rate and rounded to an even number (1486 at
        16000 Hz), so that results do not depend on the rate. One period of ``fmin``
        must fit in a frame (two, ideally).

    hop_length : int or None, default=None
        Samples between frames. None means ``frame_length // 4``.

    method : {"fast", "pyin"}, default="fast"
        ``"fast"``: sklaudio's implementation of the pyin model, tens of times faster
        than librosa's and in agreement with it on nearly every frame.
        ``"pyin"``: :func:`librosa.pyin` itself, the reference.

    percentiles : array-like of float, default=(5, 95)
        Percentiles of the voiced f0 to report, each in [0, 100]; may be empty.

    min_run_prob : float, default=0.02
        A run of consecutive voiced frames counts as voiced only if the voiced
        probability of at least one of its frames reaches this value. pyin's
        decoder calls stretches of noise voiced (near ``fmin``) on the strength of
        its fallback alone (a voiced probability of ``no_trough_prob`` = 0.01 in
        every frame: no YIN trough below any threshold); 0.02 discards those runs,
        so white noise reads as unvoiced. 0.0 keeps pyin's decisions exactly.

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    frame_length_ : int
        Frame length used, in samples.

    hop_length_ : int
        Hop length used, in samples.

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    estimate_f0 : The frame-wise f0 track, voicing decisions and probabilities.
    librosa.pyin : The reference implementation of the pitch tracker.
    TemporalFeatures : Duration, onsets, tempo, energy and zero-crossing statistics.

    Notes
    -----
    Frame f0 values lie on pyin's grid of 0.1 semitone (0.58 %) from ``fmin``, so
    a steady tone reads within 0.3 % of its frequency.

    The f0 statistics describe only voiced frames, so a clip that is mostly silent
    but voiced somewhere gets the statistics of that part; ``voiced_fraction`` says
    how much of the clip it is.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import F0Stats
    >>> from sklaudio.utils import ClipArray
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> tone = sum(np.sin(2 * np.pi * k * 150 * t) / k for k in range(1, 6))
    >>> X = ClipArray([0.3 * tone, np.zeros(sr // 2)], sr=sr)  # a voice, and silence
    >>> f0 = F0Stats().fit(X)
    >>> f0.get_feature_names_out().tolist()
    ['f0_mean', 'f0_median', 'f0_std', 'f0_p05', 'f0_p95', 'voiced_fraction']
    >>> out = f0.transform(X)
    >>> out[0].round(1).tolist()  # 150 Hz, on pyin's grid of 0.1 semitone
    [149.9, 149.8, 0.1, 149.8, 149.8, 1.0]
    >>> out[1].tolist()  # silence: no voiced frame
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """

    # stateless and deterministic: search_with_cached_features may cache its output
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 2, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "method": [StrOptions({"fast", "pyin"})],
        "percentiles": ["array-like"],
        "min_run_prob": [Interval(Real, 0, 1, closed="both")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=None,
        fmin=50.0,
        fmax=500.0,
        frame_length=None,
        hop_length=None,
        method="fast",
        percentiles=(5, 95),
        min_run_prob=0.02,
        n_jobs=None,
        verbose=0,
    ):
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.method = method
        self.percentiles = percentiles
        self.min_run_prob = min_run_prob
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        self._percentiles = check_stats(("mean",), self.percentiles, "F0Stats")[1]
        if self.frame_length is None:
            self.frame_length_ = 2 * max(1, round(_REF_FRAME_LENGTH * self.sr_ / _REF_SR / 2))
        else:
            self.frame_length_ = int(self.frame_length)
        self.hop_length_ = (
            max(1, self.frame_length_ // 4) if self.hop_length is None else int(self.hop_length)
        )
        _check_f0_params(self.sr_, self.fmin, self.fmax, self.frame_length_)

    def _feature_names(self):
        q = check_stats(("mean",), self.percentiles, "F0Stats")[1]
        return (
            ["f0_mean", "f0_median", "f0_std"]
            + [f"f0_{s}" for s in stat_names((), q)]
            + ["voiced_fraction"]
        )

    def _extract_block(self, Y):
        params = dict(
            sr=self.sr_, fmin=self.fmin, fmax=self.fmax, frame_length=self.frame_length_,
            hop_length=self.hop_length_, method=self.method,
        )
        rows = []
        for y in Y:
            f0, voiced, prob = _track(y, **params)
            voiced = _drop_unsupported_runs(voiced, prob, self.min_run_prob)
            rows.append(_f0_summary(f0, voiced, self._percentiles))
        return np.asarray(rows, dtype=np.float64).reshape(len(Y), -1)

    def _extract_stream(self, clip):
        """The row of one long clip, read piece by piece (see :class:`_StreamingDecoder`).

        pyin's per-frame candidates depend on their frame only; its Viterbi decoding
        runs over the whole clip, and is reproduced exactly by keeping back-pointers
        until the open paths meet (a few seconds of frames on speech; up to 20 s after
        long pauses). Long digital silence (frames without a candidate) can keep
        them apart: after ``_pyin.MAX_UNDECIDED`` frames the oldest frames are decided
        on the best path so far, which affects only unvoiced frames there.
        """
        if self.method != "fast":
            raise ValueError(
                f"F0Stats(method={self.method!r}) calls librosa.pyin on the whole clip, "
                f"and clip {clip.name or ''!r} is streamed (too long to hold). Use "
                "method='fast' (the same model, decoded exactly in bounded memory)."
            )
        fl, hop = self.frame_length_, self.hop_length_
        model = _Model(sr=self.sr_, fmin=self.fmin, fmax=self.fmax, frame_length=fl,
                       hop_length=hop, **_MODEL)
        decoder = _StreamingDecoder(model)
        runs = _RunFilter(self.min_run_prob)
        acc = StatsAccumulator(("mean", "median", "std"), self._percentiles, n_rows=1,
                               ignore_nan=True)
        n_voiced = 0

        def add(states, prob, last=False):
            nonlocal n_voiced
            f0 = runs.push(model.freqs[states % model.n_bins], states < model.n_bins, prob)
            if last:
                f0 = np.concatenate([f0, runs.finish()])
            n_voiced += np.count_nonzero(np.isfinite(f0))
            acc.update(f0[np.newaxis])

        dtype = _analysis_dtype(clip.dtype)
        for piece, _ in clip_pieces(clip, "F0Stats", frame_length=fl, hop_length=hop,
                                    frames_per_chunk=_STREAM_FRAMES):
            piece = np.asarray(piece, dtype=dtype)
            add(*decoder.push(frame(piece, frame_length=fl, hop_length=hop, center=False)))
        add(*decoder.finish(), last=True)
        out = acc.result()[0]
        return np.r_[out, n_voiced / acc.n_frames]
