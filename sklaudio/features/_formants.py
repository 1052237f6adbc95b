"""FormantFeatures: vocal-tract resonances and voice quality of the periodic frames."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from sklaudio.exceptions import ParameterError
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
from sklaudio.utils._dsp import frame
from sklaudio.utils._stream import checked_blocks

__all__ = ["FormantFeatures", "lpc_formants"]

# analysis frame and hop in seconds: 25 ms frames (a few pitch periods, short enough for
# the vocal tract to hold still) every 20 ms (statistics over an utterance need no finer
# hop, and it halves the cost of a 10 ms hop)
FRAME_S, HOP_S = 0.025, 0.020


def _levinson(r, order):
    """LPC polynomials ``[1, a1, ..., ap]`` from autocorrelations, many frames at once.

    ``r`` has shape (n_frames, order + 1). The autocorrelation method: the
    Levinson-Durbin recursion solves each frame's Toeplitz normal equations with
    ``order**2`` vector operations over all frames, instead of a solve per frame.
    """
    n = r.shape[0]
    a = np.zeros((n, order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.einsum("fj,fj->f", a[:, 1:i], r[:, i - 1:0:-1])
        k = -acc / np.maximum(err, 1e-300)
        a[:, 1:i] = a[:, 1:i] + k[:, None] * a[:, i - 1:0:-1]
        a[:, i] = k
        err = err * (1.0 - k * k)
    return a


def _roots_to_formants(a, sr, n_formants, fmin, fmax, max_bandwidth):
    """Frequencies and bandwidths (Hz) of the lowest resonances of LPC polynomials.

    Returns two (n_frames, n_formants) arrays with NaN where a frame has fewer
    resonances in ``[fmin, fmax]`` narrower than ``max_bandwidth``.
    """
    n, p1 = a.shape
    freq = np.full((n, n_formants), np.nan)
    bw = np.full((n, n_formants), np.nan)
    if n == 0:
        return freq, bw
    # roots of each polynomial = eigenvalues of its companion matrix, all frames at once
    comp = np.zeros((n, p1 - 1, p1 - 1))
    comp[:, 0, :] = -a[:, 1:]
    comp[:, np.arange(1, p1 - 1), np.arange(p1 - 2)] = 1.0
    roots = np.linalg.eigvals(comp)
    f = np.angle(roots) * sr / (2 * np.pi)
    b = -np.log(np.maximum(np.abs(roots), 1e-12)) * sr / np.pi
    ok = (np.imag(roots) > 0) & (f >= fmin) & (f <= fmax) & (b <= max_bandwidth)
    f = np.where(ok, f, np.inf)
    order = np.argsort(f, axis=1)[:, :n_formants]
    fs = np.take_along_axis(f, order, axis=1)
    bs = np.take_along_axis(b, order, axis=1)
    found = np.isfinite(fs)
    k = min(n_formants, fs.shape[1])
    freq[:, :k] = np.where(found, fs, np.nan)[:, :k]
    bw[:, :k] = np.where(found, bs, np.nan)[:, :k]
    return freq, bw


def _frame(y, frame_length, hop_length):
    # librosa's centred, zero-padded framing, one row per frame (a strided view)
    return frame(y, frame_length=frame_length, hop_length=hop_length, center=True,
                 pad_short=True)


def lpc_formants(y, *, sr, order=None, n_formants=4, frame_length=None, hop_length=None,
                 fmin=90.0, fmax=None, max_bandwidth=700.0, preemphasis=0.97):
    """Formant frequencies and bandwidths of every frame, from linear prediction.

    Each frame is pre-emphasised, Hamming-windowed and fitted with an all-pole model
    (autocorrelation method); the model's complex poles give the resonances, kept
    when their frequency is in ``[fmin, fmax]`` and their bandwidth at most
    ``max_bandwidth``, lowest first.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        One clip.
    sr : float
        Sampling rate in Hz.
    order : int or None, default=None
        Order of the all-pole model; None uses ``2 + sr / 1000`` (18 at 16 kHz), the
        usual rule of one pole pair per kHz plus two for the glottal slope.
    n_formants : int, default=4
        Resonances returned per frame.
    frame_length, hop_length : int or None, default=None
        Frame and hop in samples; None uses 25 ms and 20 ms, as :class:`FormantFeatures`.
    fmin, fmax : float, default=90.0 and None
        Band of acceptable formant frequencies; ``fmax=None`` is ``0.45 * sr``.
    max_bandwidth : float, default=700.0
        Wider poles shape the spectral slope rather than a resonance and are skipped.
    preemphasis : float, default=0.97
        First-order pre-emphasis coefficient (0 for none).

    Returns
    -------
    freqs, bandwidths : ndarray of shape (n_frames, n_formants)
        In Hz; NaN where a frame has fewer acceptable resonances.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import lfilter
    >>> from sklaudio.features import lpc_formants
    >>> sr = 16000
    >>> pulses = np.zeros(sr // 2)
    >>> pulses[:: sr // 100] = 1.0
    >>> y = pulses
    >>> for f, b in [(500, 60), (1500, 90), (2500, 120)]:
    ...     r = np.exp(-np.pi * b / sr)
    ...     y = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
    >>> freqs, _ = lpc_formants(y, sr=sr, n_formants=3)
    >>> np.round(np.nanmedian(freqs, axis=0), -2)  # within 2 %: the pulses bias LPC
    array([ 500., 1500., 2500.])
    """
    y = np.asarray(y, dtype=np.float64)
    frame_length = int(round(FRAME_S * sr)) if frame_length is None else int(frame_length)
    hop_length = int(round(HOP_S * sr)) if hop_length is None else int(hop_length)
    order = int(2 + sr // 1000) if order is None else int(order)
    return _formants_of_frames(y, sr=sr, order=order, n_formants=n_formants,
                               frame_length=frame_length, hop_length=hop_length, fmin=fmin,
                               fmax=fmax, max_bandwidth=max_bandwidth,
                               preemphasis=preemphasis)


def _formants_of_frames(y, *, sr, order, n_formants, frame_length, hop_length, fmin=90.0,
                        fmax=None, max_bandwidth=700.0, preemphasis=0.97, select=None):
    if preemphasis:
        y = np.append(y[0], y[1:] - preemphasis * y[:-1])
    F = _frame(y, frame_length, hop_length)
    if select is not None:
        F = F[select]  # only the chosen rows of the strided view are copied
    return _lpc_of_frames(F, sr=sr, order=order, n_formants=n_formants, fmin=fmin, fmax=fmax,
                          max_bandwidth=max_bandwidth)


def _lpc_of_frames(F, *, sr, order, n_formants, fmin=90.0, fmax=None, max_bandwidth=700.0):
    """Formant frequencies and bandwidths of (pre-emphasised) frames, one row each."""
    fmax = 0.45 * sr if fmax is None else fmax
    frame_length = F.shape[1]
    F = F * np.hamming(frame_length)
    r = _autocorr(F, order + 1)
    keep = r[:, 0] > 0
    freqs = np.full((len(F), n_formants), np.nan)
    bws = np.full((len(F), n_formants), np.nan)
    if keep.any():
        a = _levinson(r[keep], order)
        freqs[keep], bws[keep] = _roots_to_formants(a, sr, n_formants, fmin, fmax,
                                                     max_bandwidth)
    return freqs, bws


def _autocorr(frames, n_lags):
    # a few lags: direct dot products beat an FFT of twice the frame
    n = frames.shape[1]
    r = np.empty((frames.shape[0], n_lags))
    for k in range(n_lags):
        r[:, k] = np.einsum("fi,fi->f", frames[:, : n - k], frames[:, k:])
    return r


def _nan_summary(v, stats, percentiles):
    """Statistics of the finite values of ``v`` (columns = frames); 0.0 where none."""
    n_stats = len(stats) + len(percentiles)
    out = np.zeros((len(v), n_stats))
    for i, row in enumerate(v):
        x = row[np.isfinite(row)]
        if x.size:
            out[i] = summarise(x, stats, percentiles)
    return out.ravel()


@Substitution(**CLIP_FEATURES_DOCS)
class FormantFeatures(ClipFeaturesMixin, BaseEstimator):
    """Summarise the formants and voice quality of each clip's periodic frames.

    Vocal-tract length sets the formants: they are about 15-20 % higher in women's
    voices than in men's and higher again in children's, which is why formants are
    standard features for age and gender (they are in openSMILE's eGeMAPS set). For
    each clip, the frames (``frame_length``, ``hop_length``) that are both loud
    (within ``top_db`` of the loudest frame) and periodic (normalised
    autocorrelation peak at a lag of ``1/fmax`` to ``1/fmin`` at least
    ``periodicity``) are analysed, and summarised by ``stats`` and ``percentiles``:

    - ``f<k>_<stat>``: frequency of formant k in Hz (:func:`lpc_formants`);
    - ``f<k>_bw_median``: its median bandwidth in Hz;
    - ``h1h2_<stat>``: level of the first harmonic minus the second, in dB (a breathy,
      open-glottis voice has a larger H1-H2);
    - ``hnr_<stat>``: harmonics-to-noise ratio in dB from the autocorrelation peak
      ``r`` as ``10 log10(r / (1 - r))`` (Boersma 1993, without his window
      correction);
    - ``cpp_<stat>``: cepstral peak prominence in dB: the height of the cepstral peak
      in the pitch range above the cepstrum's linear trend there;
    - ``periodic_fraction``: fraction of loud frames that are periodic.

    A clip without a periodic frame gets 0.0 for every statistic (and 0.0 periodic
    fraction): finite, never NaN; likewise a formant that no analysed frame shows.

    Parameters
    ----------
    {sr}

    n_formants : int, default=3
        Formants reported (F1 ... Fn).

    order : int or None, default=None
        Linear-prediction order; None uses ``2 + sr / 1000``.

    frame_length, hop_length : int or None, default=None
        Analysis frame and hop in samples; None uses 25 ms and 20 ms (the statistics
        over an utterance need no finer hop, and it halves the cost).

    fmin, fmax : float, default=60.0 and 600.0
        Pitch range (Hz) searched for periodicity and for H1-H2 / CPP; the same
        names and meaning as in :class:`F0Stats`.

    periodicity : float, default=0.5
        Normalised autocorrelation a frame needs to count as periodic.

    top_db : float, default=35.0
        Frames quieter than this below the clip's loudest frame are skipped.

    max_frames : int or None, default=150
        Formants are estimated on at most this many periodic frames per clip, evenly
        spaced (None: all). The statistics of an utterance settle well before 150
        frames, and root finding is the costly step. H1-H2, HNR and CPP use all
        periodic frames.

    stats : tuple of {"mean", "std", "min", "max", "median"}, default=("median",)
        Statistics over the analysed frames.

    percentiles : tuple of float, default=(10, 90)
        Percentiles over the analysed frames (``f1_p10``...).

    {n_jobs}

    {verbose}

    f0_min, f0_max : float, default="deprecated"
        Former names of ``fmin`` and ``fmax``. When given, they are used instead,
        with a FutureWarning; they will be removed.

    Attributes
    ----------
    {sr_}

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    lpc_formants : Per-frame formant tracks of one clip.
    F0Stats : Pitch statistics of the voiced frames.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import lfilter
    >>> from sklaudio.features import FormantFeatures
    >>> sr = 16000
    >>> pulses = np.zeros(sr)
    >>> pulses[:: sr // 125] = 1.0
    >>> y = pulses
    >>> for f, b in [(700, 80), (1200, 90), (2600, 120)]:
    ...     r = np.exp(-np.pi * b / sr)
    ...     y = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
    >>> ff = FormantFeatures(sr=sr).fit([y])
    >>> row = dict(zip(ff.get_feature_names_out(), ff.transform([y])[0]))
    >>> [int(round(row[f"f{k}_median"], -2)) for k in (1, 2, 3)]  # within 3 %
    [700, 1200, 2600]
    >>> float(round(row["periodic_fraction"], 1))
    1.0
    """

    # stateless and deterministic: search_with_cached_features may cache its output
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_formants": [Interval(Integral, 1, None, closed="left")],
        "order": [Interval(Integral, 2, None, closed="left"), None],
        "frame_length": [Interval(Integral, 4, None, closed="left"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "f0_min": [Interval(Real, 0, None, closed="neither"), StrOptions({"deprecated"})],
        "f0_max": [Interval(Real, 0, None, closed="neither"), StrOptions({"deprecated"})],
        "periodicity": [Interval(Real, 0, 1, closed="both")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "stats": [tuple, list, str],
        "percentiles": ["array-like"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=None,
        n_formants=3,
        order=None,
        frame_length=None,
        hop_length=None,
        fmin=60.0,
        fmax=600.0,
        periodicity=0.5,
        top_db=35.0,
        max_frames=150,
        stats=("median",),
        percentiles=(10, 90),
        n_jobs=None,
        verbose=0,
        f0_min="deprecated",
        f0_max="deprecated",
    ):
        self.sr = sr
        self.n_formants = n_formants
        self.order = order
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.periodicity = periodicity
        self.top_db = top_db
        self.max_frames = max_frames
        self.stats = stats
        self.percentiles = percentiles
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.f0_min = f0_min
        self.f0_max = f0_max

    def _pitch_range(self, *, warn=False):
        """(fmin, fmax) in Hz: the deprecated f0_min / f0_max when given."""
        out = []
        for old, new in (("f0_min", "fmin"), ("f0_max", "fmax")):
            value = getattr(self, old)
            if isinstance(value, str) and value == "deprecated":
                value = getattr(self, new)
            elif warn:
                warnings.warn(
                    f"FormantFeatures({old}=...) is deprecated and will be removed: the "
                    f"pitch range is now {new}, as in F0Stats; use {new}={value!r}.",
                    FutureWarning,
                    stacklevel=4,
                )
            out.append(value)
        return tuple(out)

    def _sizes(self):
        sr = self.sr_
        frame = int(round(FRAME_S * sr)) if self.frame_length is None else self.frame_length
        hop = int(round(HOP_S * sr)) if self.hop_length is None else self.hop_length
        order = int(2 + sr // 1000) if self.order is None else self.order
        return frame, hop, order

    def _check_params(self):
        check_stats(self.stats, self.percentiles, "FormantFeatures")
        frame, _, order = self._sizes()
        fmin, fmax = self._pitch_range(warn=True)
        if fmin >= fmax:
            raise ParameterError(f"FormantFeatures: fmin={fmin} must be below fmax={fmax}.")
        longest = int(np.ceil(self.sr_ / fmin))
        if frame <= longest:
            raise ParameterError(
                f"FormantFeatures: a frame of {frame} samples cannot hold a period of "
                f"fmin={fmin} Hz ({longest} samples at sr={self.sr_}); raise "
                "frame_length or fmin."
            )
        if order >= frame:
            raise ParameterError(
                f"FormantFeatures: order={order} needs frames longer than {order} "
                f"samples, got frame_length={frame}."
            )
        if 2 * fmax >= self.sr_ / 2:
            raise ParameterError(
                f"FormantFeatures: fmax={fmax} Hz leaves no second harmonic "
                f"below the Nyquist frequency {self.sr_ / 2} Hz; lower fmax."
            )

    def _feature_names(self):
        suffixes = stat_names(*check_stats(self.stats, self.percentiles, "FormantFeatures"))
        names = []
        for k in range(1, self.n_formants + 1):
            names += [f"f{k}_{s}" for s in suffixes]
        names += [f"f{k}_bw_median" for k in range(1, self.n_formants + 1)]
        for q in ("h1h2", "hnr", "cpp"):
            names += [f"{q}_{s}" for s in suffixes]
        return names + ["periodic_fraction"]

    def _extract_block(self, Y):
        return np.vstack([self._one(y) for y in Y])

    def _settings(self):
        """Frame, hop, order, statistics and pitch-lag range of the analysis."""
        frame, hop, order = self._sizes()
        stats, pct = check_stats(self.stats, self.percentiles, "FormantFeatures")
        fmin, fmax = self._pitch_range()
        lo, hi = int(np.floor(self.sr_ / fmax)), int(np.ceil(self.sr_ / fmin))
        return frame, hop, order, stats, pct, lo, min(hi, frame - 1)

    def _n_out(self, n_stats):
        return (self.n_formants + 3) * n_stats + self.n_formants + 1

    def _measure(self, raw, lo, hi):
        """Energy, power spectrum, pitch lag and periodicity of Hamming-windowed frames."""
        frame = raw.shape[1]
        energy = np.sum(raw * raw, axis=1)
        n_fft = 1 << int(np.ceil(np.log2(2 * frame - 1)))
        spec = np.fft.rfft(raw, n=n_fft, axis=1)
        power = np.abs(spec) ** 2
        ac = np.fft.irfft(power, n=n_fft, axis=1)[:, :frame]
        # normalise by the window's own autocorrelation so a periodic frame scores ~1
        w = np.hamming(frame)
        wac = np.correlate(w, w, mode="full")[frame - 1:]
        norm = ac[:, lo:hi + 1] / np.maximum(ac[:, :1], 1e-300) / (wac[lo:hi + 1] / wac[0])
        # the shortest period whose peak is within 0.05 of the best: multiples of the
        # period score as high (or, through the window correction, a hair higher)
        best = norm.max(axis=1, keepdims=True)
        first = np.argmax(norm >= best - 0.05, axis=1)
        lags = np.arange(norm.shape[1])
        near = (lags >= first[:, None]) & (lags <= 1.5 * first[:, None] + 2)
        idx_lag = np.argmax(np.where(near, norm, -np.inf), axis=1)
        lag = lo + idx_lag
        peak = np.clip(norm[np.arange(len(norm)), idx_lag], 0.0, 1.0)
        return energy, power, lag, peak

    def _voice_quality(self, power, lag, peak, lo, hi):
        """H1-H2, HNR and CPP (dB) of periodic frames, shape (3, n_frames)."""
        n_fft = 2 * (power.shape[1] - 1)
        f0 = self.sr_ / lag
        # H1-H2 from the un-emphasised spectrum, harmonic peaks within +-1 bin
        h = []
        for harmonic in (1, 2):
            b = np.rint(harmonic * f0 * n_fft / self.sr_).astype(int)
            near = np.clip(b[:, None] + np.array([-1, 0, 1]), 0, power.shape[1] - 1)
            h.append(10 * np.log10(np.take_along_axis(power, near, axis=1).max(1) + 1e-20))
        r = np.clip(peak, 1e-6, 1 - 1e-6)
        hnr = 10 * np.log10(r / (1 - r))
        # CPP: real cepstrum of the dB spectrum, peak in the pitch range above the
        # regression line fitted over that range
        ceps = np.fft.irfft(10 * np.log10(power + 1e-20), n=n_fft, axis=1)
        q = np.arange(lo, hi + 1)
        c = ceps[:, lo:hi + 1]
        slope, intercept = np.polyfit(q, c.T, 1)
        line = slope[:, None] * q[None, :] + intercept[:, None]
        k = np.argmax(c, axis=1)
        cpp = np.take_along_axis(c - line, k[:, None], axis=1)[:, 0]
        return np.vstack([h[0] - h[1], hnr, cpp])

    def _subset(self, idx):
        """The periodic frames whose formants are estimated: evenly spaced, max_frames."""
        if self.max_frames is not None and len(idx) > self.max_frames:
            return idx[np.linspace(0, len(idx) - 1, self.max_frames).round().astype(int)]
        return idx

    def _one(self, y):
        sr = self.sr_
        frame, hop, order, stats, pct, lo, hi = self._settings()
        y = np.asarray(y, dtype=np.float64)
        if len(y) < frame:
            y = np.pad(y, (0, frame - len(y)))
        raw = _frame(y, frame, hop) * np.hamming(frame)
        energy, power, lag, peak = self._measure(raw, lo, hi)
        loud = energy > max(energy.max() * 10 ** (-self.top_db / 10), 1e-20)
        periodic = loud & (peak >= self.periodicity)
        out = np.zeros(self._n_out(len(stats) + len(pct)))
        if not periodic.any():
            return out
        idx = np.flatnonzero(periodic)
        freqs, bws = _formants_of_frames(y, sr=sr, order=order, n_formants=self.n_formants,
                                         frame_length=frame, hop_length=hop,
                                         select=self._subset(idx))
        quality = self._voice_quality(power[idx], lag[idx], peak[idx], lo, hi)
        parts = [_nan_summary(freqs.T, stats, pct),
                 _nan_summary(bws.T, ("median",), ()),
                 _nan_summary(quality, stats, pct),
                 [periodic.sum() / max(loud.sum(), 1)]]
        return np.concatenate([np.ravel(p) for p in parts])

    def _extract_stream(self, clip):
        """The row of one long clip, read piece by piece: the same frames and numbers.

        Loudness is relative to the clip's loudest frame and the formant frames are
        spread evenly over all periodic frames, so the clip is read up to three
        times: frame energies (the loudest), then each frame's periodicity and voice
        quality (statistics accumulated; one bit per frame kept for which frames are
        periodic), then, if there are more than ``max_frames`` periodic frames, the
        chosen frames' formants. Memory: a piece of frames, ``max_frames`` frames and
        a bit per frame.
        """
        if clip.n_samples < self._sizes()[0]:  # shorter than a frame: padded, tiny
            return self._one(np.concatenate(list(checked_blocks(clip, "FormantFeatures"))))
        frame, hop, order, stats, pct, lo, hi = self._settings()
        window = np.hamming(frame)

        def pieces():
            for piece, t0 in clip_pieces(clip, "FormantFeatures", frame_length=frame,
                                         hop_length=hop, pad_short=True,
                                         frames_per_chunk=_STREAM_FRAMES):
                piece = np.asarray(piece, dtype=np.float64)
                yield piece, t0, _dsp_frame(piece, frame, hop) * window

        loudest = max(np.sum(raw * raw, axis=1).max() for _, _, raw in pieces())
        floor = max(loudest * 10 ** (-self.top_db / 10), 1e-20)
        quality = StatsAccumulator(stats, pct, n_rows=3, ignore_nan=True)
        # max_frames=None: every periodic frame's formants, accumulated likewise
        every = self.max_frames is None
        if every:
            f_acc = StatsAccumulator(stats, pct, n_rows=self.n_formants, ignore_nan=True)
            bw_acc = StatsAccumulator(("median",), (), n_rows=self.n_formants, ignore_nan=True)
        n_loud = n_periodic = 0
        flags = []  # which frames are periodic, one bit each
        found = []  # formants of the first periodic frames, while they may all be used
        lpc = dict(sr=self.sr_, order=order, n_formants=self.n_formants)
        pre = _Preemphasis(clip.n_samples, frame, hop)
        for piece, t0, raw in pieces():
            energy, power, lag, peak = self._measure(raw, lo, hi)
            loud = energy > floor
            periodic = loud & (peak >= self.periodicity)
            idx = np.flatnonzero(periodic)
            n_loud += int(loud.sum())
            flags.append((np.packbits(periodic), len(periodic)))
            if every or n_periodic + len(idx) <= self.max_frames:
                freqs, bws = _lpc_of_frames(pre.frames(piece, t0)[idx], **lpc)
                if every and len(idx):
                    f_acc.update(freqs.T)
                    bw_acc.update(bws.T)
                elif len(idx):
                    found.append((freqs, bws))
            if len(idx):
                quality.update(self._voice_quality(power[idx], lag[idx], peak[idx], lo, hi))
            n_periodic += len(idx)
        if not n_periodic:
            return np.zeros(self._n_out(len(stats) + len(pct)))
        if every:
            parts = [f_acc.result(), bw_acc.result()]
        else:
            if n_periodic > self.max_frames:
                found = [self._formants_of(clip, flags, lpc)]
            freqs = np.concatenate([f for f, _ in found])
            bws = np.concatenate([b for _, b in found])
            parts = [_nan_summary(freqs.T, stats, pct), _nan_summary(bws.T, ("median",), ())]
        parts += [quality.result(), [n_periodic / max(n_loud, 1)]]
        return np.concatenate([np.ravel(p) for p in parts])

    def _formants_of(self, clip, flags, lpc):
        """Formants of the max_frames periodic frames chosen, in a last read of the clip."""
        periodic = np.concatenate([np.unpackbits(p, count=k) for p, k in flags])
        wanted = self._subset(np.flatnonzero(periodic))
        frame, hop, _ = self._sizes()
        pre = _Preemphasis(clip.n_samples, frame, hop)
        chosen = []
        for piece, t0 in clip_pieces(clip, "FormantFeatures", frame_length=frame,
                                     hop_length=hop, pad_short=True,
                                     frames_per_chunk=_STREAM_FRAMES):
            F = pre.frames(np.asarray(piece, dtype=np.float64), t0)
            here = wanted[(wanted >= t0) & (wanted < t0 + len(F))] - t0
            chosen.append(F[here])
        return _lpc_of_frames(np.concatenate(chosen), **lpc)


# frames per piece of a streamed clip (5 s at 16 kHz; its spectra: about 3 MB)
_STREAM_FRAMES = 256


def _dsp_frame(piece, frame_length, hop_length):
    return frame(piece, frame_length=frame_length, hop_length=hop_length, center=False)


class _Preemphasis:
    """The pre-emphasised frames of the pieces of the centred, padded clip, in order.

    On the whole clip, pre-emphasis runs before the centring pad. Filtering the
    padded pieces gives the same samples (the left pad is zeros, so the clip's first
    sample stays as it is) except the right pad's first, which must stay zero.
    """

    def __init__(self, n_samples, frame_length, hop_length, coef=0.97):
        self.stop = frame_length // 2 + n_samples  # padded index of the right pad
        self.frame_length, self.hop_length, self.coef = frame_length, hop_length, coef
        self.prev = 0.0  # the sample before the piece (the left pad's zero at first)

    def frames(self, piece, t0):
        """Frames of ``piece`` (frames ``t0, t0 + 1, ...``); call for every piece."""
        start = t0 * self.hop_length  # padded index of the piece's first sample
        out = np.empty_like(piece)
        out[0] = piece[0] - self.coef * self.prev
        out[1:] = piece[1:] - self.coef * piece[:-1]
        if start <= self.stop < start + len(piece):
            out[self.stop - start] = 0.0
        n_frames = (len(piece) - self.frame_length) // self.hop_length + 1
        self.prev = piece[n_frames * self.hop_length - 1]  # before the next piece
        return _dsp_frame(out, self.frame_length, self.hop_length)
