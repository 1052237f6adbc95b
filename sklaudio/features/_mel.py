"""MelFeatures: log-mel band statistics, MFCC statistics and fixed-size log-mel images."""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import BaseEstimator

from sklaudio.features._accumulate import StatsAccumulator
from sklaudio.features._base import (
    ClipFeaturesMixin,
    check_stats,
    clip_pieces,
    stat_names,
    summarise,
)
from sklaudio.utils._compat import Interval, StrOptions
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import (
    AMIN,
    check_mel_band,
    frame_count,
    mel_power,
    power_spectrogram,
    power_to_db,
)

__all__ = ["MelFeatures"]

_KINDS = ("stats", "mfcc", "image")


def _digits(n, least):
    return max(least, len(str(max(n - 1, 0))))


class _DeltaStream:
    """MFCCs given frames by chunk; out come MFCC, Δ and ΔΔ of the frames that are final.

    ``librosa.feature.delta(mode="interp")`` is a Savitzky-Golay filter: a frame's
    delta needs ``width // 2`` frames each side, and the first and last ``width // 2``
    frames of the clip are fitted on the clip's first and last ``width`` frames. So a
    frame is final once ``width // 2`` frames after it have arrived (or the clip's
    end), and ``width`` frames before the first unfinished one are kept. A clip of
    fewer than ``width`` frames uses ``mode="nearest"`` on all its frames, as
    :meth:`MelFeatures._extract_block` does.
    """

    def __init__(self, width, deltas, n_frames):
        self.width, self.deltas, self.n_frames = width, deltas, n_frames
        self.buf = None  # frames start, start + 1, ... of the MFCCs
        self.start = 0
        self.done = 0  # frames given out so far

    def add(self, C):
        """Add frames ``C`` (n_mfcc, k); return (n_series, n_mfcc, k') final frames or None."""
        self.buf = C if self.buf is None else np.concatenate([self.buf, C], axis=-1)
        end = self.start + self.buf.shape[-1]
        h = self.width // 2
        if self.n_frames < self.width:
            if end < self.n_frames:
                return None
            lo, stop, mode = 0, end, "nearest"
        else:
            mode = "interp"
            if end == self.n_frames:
                stop = end
                lo = max(0, min(self.done - h, end - self.width))
            else:
                stop, lo = end - h, max(0, self.done - h)
            if stop <= self.done or end - lo < self.width:
                return None
        seg = self.buf[:, lo - self.start :]
        series = [seg] + [
            librosa.feature.delta(seg, width=self.width, order=order, mode=mode, axis=-1)
            for order in range(1, self.deltas + 1)
        ]
        out = np.stack(series)[..., self.done - lo : stop - lo]
        self.done = stop
        keep = max(self.start, self.done - self.width)
        self.buf = self.buf[:, keep - self.start :]
        self.start = keep
        return out


@Substitution(**CLIP_FEATURES_DOCS)
class MelFeatures(ClipFeaturesMixin, BaseEstimator):
    """Summarise each clip by its log-mel spectrogram: band statistics, MFCCs or an image.

    Each clip goes through one STFT and one mel filterbank; every requested output
    is computed from that log-mel spectrogram (librosa's
    ``power_to_db(melspectrogram(y=clip, ...))``, with ``top_db`` taken per clip):

    - ``"stats"``: per mel band, the statistics over frames (``mel_000_mean``, ...);
    - ``"mfcc"``: ``librosa.feature.mfcc`` of it, with Δ and ΔΔ
      (``librosa.feature.delta``), each coefficient summarised over frames
      (``mfcc_03_mean``, ``mfcc_03_d1_std``, ...);
    - ``"image"``: the first ``duration`` seconds of it, ``n_mels`` × frames,
      flattened band by band (``mel_image_f000_t000``, ...). A shorter clip is padded
      with silence (the clip's ``top_db`` floor), a longer one cut.

    A matrix of equal-length clips goes through librosa in batched calls; clips of
    different lengths are processed one by one (in parallel with ``n_jobs``).

    A long recording given as a streamed clip (an item of the list read block by
    block, never whole in memory) gets the same row, computed piece by piece in
    memory set by the piece, not by the recording. With ``top_db`` it is read twice
    (the floor is relative to the loudest frame). Medians and percentiles are exact
    up to 65,536 frames; beyond that they come from an evenly spaced subsample of
    32,768 to 65,536 frames (the same on every run).

    Parameters
    ----------
    kind : {"stats", "mfcc", "image"} or tuple of those, default="mfcc"
        Output(s); a tuple such as ``("stats", "mfcc")`` concatenates them in that
        order, all from the same spectrogram.

    {sr}

    n_fft : int, default=2048
        FFT length. Clips shorter than ``n_fft`` are zero-padded to ``n_fft``.

    hop_length : int, default=512
        Samples between frames.

    win_length : int or None, default=None
        Window length; None means ``n_fft``.

    window : str, tuple or callable, default="hann"
        Window, as for :func:`librosa.stft`.

    center : bool, default=True
        Centre frames on their time (pad ``n_fft // 2`` on both sides).

    pad_mode : str, default="constant"
        Padding used when ``center=True``.

    power : float, default=2.0
        Exponent of the magnitude (2 is power, 1 is energy).

    n_mels : int, default=128
        Number of mel bands.

    fmin : float, default=0.0
        Lowest frequency of the mel filterbank in Hz.

    fmax : float or None, default=None
        Highest frequency in Hz; None means ``sr / 2``.

    top_db : float or None, default=80.0
        Floor of the log-mel spectrogram, in dB below the clip's maximum (None: no
        floor besides -100 dB). An all-zero clip gives -100 dB everywhere.

    n_mfcc : int, default=20
        Number of MFCCs (``kind="mfcc"``).

    lifter : float, default=0
        Cepstral liftering of the MFCCs, as in :func:`librosa.feature.mfcc`.

    deltas : {0, 1, 2}, default=2
        Add the statistics of Δ (1) or of Δ and ΔΔ (2) of the MFCCs.

    delta_width : int, default=9
        Odd window of :func:`librosa.feature.delta`. Clips with fewer frames than
        ``delta_width`` use ``mode="nearest"`` instead of librosa's ``"interp"``.

    stats : tuple of {"mean", "std", "min", "max", "median"}, default=("mean", "std")
        Statistics over frames (``kind="stats"`` and ``"mfcc"``).

    percentiles : tuple of float, default=()
        Percentiles over frames added after ``stats`` (named ``p05``, ``p95``...).

    duration : float, default=3.0
        Length in seconds of the image (``kind="image"``).

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    TemporalFeatures : Duration, onsets, tempo, energy and zero-crossing statistics.
    librosa.feature.melspectrogram : The mel spectrogram of one signal.
    librosa.feature.mfcc : MFCCs of one signal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import MelFeatures
    >>> t = np.arange(16000) / 16000
    >>> X = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 440 * t)])
    >>> mel = MelFeatures(sr=16000, n_mfcc=13).fit(X)
    >>> mel.transform(X).shape
    (2, 78)
    >>> mel.get_feature_names_out()[[0, 1, 26]].tolist()
    ['mfcc_00_mean', 'mfcc_00_std', 'mfcc_00_d1_mean']
    >>> both = MelFeatures(kind=("stats", "image"), sr=16000, n_mels=40, duration=1.0)
    >>> both.fit_transform(X).shape
    (2, 1360)
    """

    # stateless and deterministic: search_with_cached_features may cache its output
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "kind": [StrOptions(set(_KINDS)), tuple, list],
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str, tuple, callable, "array-like"],
        "center": ["boolean"],
        "pad_mode": [str],
        "power": [Interval(Real, 0, None, closed="neither")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "top_db": [Interval(Real, 0, None, closed="left"), None],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "lifter": [Interval(Real, 0, None, closed="left")],
        "deltas": [Interval(Integral, 0, 2, closed="both")],
        "delta_width": [Interval(Integral, 3, None, closed="left")],
        "stats": [tuple, list, str],
        "percentiles": ["array-like"],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        kind="mfcc",
        sr=None,
        n_fft=2048,
        hop_length=512,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        top_db=80.0,
        n_mfcc=20,
        lifter=0,
        deltas=2,
        delta_width=9,
        stats=("mean", "std"),
        percentiles=(),
        duration=3.0,
        n_jobs=None,
        verbose=0,
    ):
        self.kind = kind
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.n_mfcc = n_mfcc
        self.lifter = lifter
        self.deltas = deltas
        self.delta_width = delta_width
        self.stats = stats
        self.percentiles = percentiles
        self.duration = duration
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _kinds(self):
        kinds = (self.kind,) if isinstance(self.kind, str) else tuple(self.kind)
        bad = [k for k in kinds if k not in _KINDS]
        if bad or not kinds or len(set(kinds)) != len(kinds):
            raise ValueError(
                f"MelFeatures(kind={self.kind!r}) must be one of {_KINDS} or a tuple of "
                "distinct ones, e.g. kind=('stats', 'mfcc')."
            )
        return kinds

    def _check_params(self):
        self._kinds()
        check_stats(self.stats, self.percentiles, "MelFeatures")
        if self.delta_width % 2 == 0:
            raise ValueError(
                f"MelFeatures(delta_width={self.delta_width}) must be odd (e.g. 9), as "
                "librosa.feature.delta requires."
            )
        if self.n_mfcc > self.n_mels:
            raise ValueError(
                f"MelFeatures(n_mfcc={self.n_mfcc}) cannot exceed n_mels={self.n_mels}: "
                "the MFCCs are the DCT of the mel bands. Lower n_mfcc or raise n_mels."
            )
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"MelFeatures(win_length={self.win_length}) cannot exceed n_fft={self.n_fft}."
            )
        check_mel_band("MelFeatures", self.fmin, self.fmax, self.sr_)

    def _n_image_frames(self):
        n = int(round(self.duration * self.sr_))
        if self.center:
            return 1 + n // self.hop_length
        return 1 + (max(n, self.n_fft) - self.n_fft) // self.hop_length

    def _feature_names(self):
        stats, pct = check_stats(self.stats, self.percentiles, "MelFeatures")
        suffixes = stat_names(stats, pct)
        names = []
        for kind in self._kinds():
            if kind == "stats":
                w = _digits(self.n_mels, 3)
                names += [f"mel_{b:0{w}d}_{s}" for b in range(self.n_mels) for s in suffixes]
            elif kind == "mfcc":
                w = _digits(self.n_mfcc, 2)
                for series in ["", "_d1", "_d2"][: self.deltas + 1]:
                    names += [
                        f"mfcc_{k:0{w}d}{series}_{s}"
                        for k in range(self.n_mfcc)
                        for s in suffixes
                    ]
            else:
                T = self._n_image_frames()
                wf, wt = _digits(self.n_mels, 3), _digits(T, 3)
                names += [
                    f"mel_image_f{f:0{wf}d}_t{t:0{wt}d}"
                    for f in range(self.n_mels)
                    for t in range(T)
                ]
        return names

    def _extract_block(self, Y):
        n = Y.shape[0]
        S = power_spectrogram(
            Y, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
            window=self.window, center=self.center, pad_mode=self.pad_mode, power=self.power,
            pad_short=True,
        )
        M = mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels,
                      fmin=self.fmin, fmax=self.fmax)
        L = power_to_db(M, top_db=self.top_db)  # (n, n_mels, n_frames)
        stats, pct = check_stats(self.stats, self.percentiles, "MelFeatures")
        parts = []
        for kind in self._kinds():
            if kind == "stats":
                parts.append(summarise(L, stats, pct).reshape(n, -1))
            elif kind == "mfcc":
                C = librosa.feature.mfcc(S=L, n_mfcc=self.n_mfcc, lifter=self.lifter)
                series = [C]
                mode = "interp" if C.shape[-1] >= self.delta_width else "nearest"
                for order in range(1, self.deltas + 1):
                    series.append(librosa.feature.delta(
                        C, width=self.delta_width, order=order, mode=mode, axis=-1
                    ))
                F = np.stack(series, axis=1)  # (n, n_series, n_mfcc, n_frames)
                parts.append(summarise(F, stats, pct).reshape(n, -1))
            else:
                parts.append(self._image(L).reshape(n, -1))
        return np.concatenate(parts, axis=1)

    def _image(self, L, top=None):
        """The first image frames of ``L``, padded with its floor; ``top``: ``L``'s maximum."""
        T = self._n_image_frames()
        img = L[..., :T]
        if img.shape[-1] < T:
            top = L.max(axis=(-2, -1), keepdims=True) if top is None else top
            floor = top - (np.inf if self.top_db is None else self.top_db)
            floor = np.maximum(floor, 10.0 * np.log10(AMIN)).astype(L.dtype)
            pad = np.broadcast_to(floor, L.shape[:-1] + (T - img.shape[-1],))
            img = np.concatenate([img, pad], axis=-1)
        return img

    def _stream_log_mel(self, clip, floor=None, n_frames=None):
        """``(L, t0)`` for each piece of a streamed clip: its log-mel frames from t0 on.

        ``floor``: the clip's ``top_db`` floor (None: no floor); ``n_frames``: stop
        after that many frames.
        """
        for piece, t0 in clip_pieces(
            clip, "MelFeatures", frame_length=self.n_fft, hop_length=self.hop_length,
            center=self.center, pad_mode=self.pad_mode, pad_short=True,
        ):
            if n_frames is not None and t0 >= n_frames:
                return
            S = power_spectrogram(
                piece, n_fft=self.n_fft, hop_length=self.hop_length,
                win_length=self.win_length, window=self.window, center=False,
                power=self.power,
            )
            M = mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels,
                          fmin=self.fmin, fmax=self.fmax)
            L = power_to_db(M, top_db=None)
            yield (L if floor is None else np.maximum(L, floor)), t0

    def _extract_stream(self, clip):
        """The row of one streamed clip, reading it piece by piece.

        With ``top_db`` the floor is relative to the clip's loudest frame, so the clip
        is read twice: once for that maximum, once for the features.
        """
        kinds = self._kinds()
        stats, pct = check_stats(self.stats, self.percentiles, "MelFeatures")
        n_frames = frame_count(clip.n_samples, frame_length=self.n_fft,
                               hop_length=self.hop_length, center=self.center, pad_short=True)
        top = floor = None
        if self.top_db is not None:
            top = max(L.max() for L, _ in self._stream_log_mel(clip))
            floor = top - self.top_db
        n_series = self.deltas + 1
        acc = {
            "stats": StatsAccumulator(stats, pct, n_rows=self.n_mels),
            "mfcc": StatsAccumulator(stats, pct, n_rows=n_series * self.n_mfcc),
        }
        deltas = _DeltaStream(self.delta_width, self.deltas, n_frames)
        image = []
        # only the image: its first frames are all that is needed
        stop = self._n_image_frames() if kinds == ("image",) else None
        for L, _ in self._stream_log_mel(clip, floor, stop):
            if "stats" in kinds:
                acc["stats"].update(L)
            if "mfcc" in kinds:
                F = deltas.add(librosa.feature.mfcc(S=L, n_mfcc=self.n_mfcc,
                                                    lifter=self.lifter))
                if F is not None:
                    acc["mfcc"].update(F.reshape(n_series * self.n_mfcc, -1))
            if "image" in kinds and sum(x.shape[-1] for x in image) < self._n_image_frames():
                image.append(L[:, : self._n_image_frames()])
        parts = []
        for kind in kinds:
            if kind == "image":
                parts.append(self._image(np.concatenate(image, axis=-1), top).ravel())
            else:
                parts.append(acc[kind].result().ravel())
        return np.concatenate(parts)
