"""TemporalFeatures: how long, how many onsets, how fast, what rhythm, how loud."""

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
from sklaudio.utils import _dsp
from sklaudio.utils._compat import Interval
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import mel_power, pad_to, power_spectrogram
from sklaudio.utils._dsp import power_to_db as log_power

__all__ = ["TemporalFeatures"]


def _tempo_func():
    # librosa >= 0.10 has feature.tempo (feature/rhythm.py); beat.tempo is gone in 1.0
    func = getattr(librosa.feature, "tempo", None)
    return func if func is not None else librosa.beat.tempo


#: Tempogram columns computed at once (a few MB); the whole tempogram of an hour is ~1 GB
_TEMPO_COLUMNS = 128


def _tempo(env, sr, hop):
    """``librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=hop)`` of one envelope.

    librosa averages the autocorrelation tempogram over all frames; here the tempogram
    is computed a few thousand columns at a time (the same columns as librosa's,
    padded as it pads the envelope) and summed, so memory stays bounded on an
    envelope of hours. The mean differs from librosa's by float rounding only.
    """
    win = librosa.time_to_frames(8.0, sr=sr, hop_length=hop).item()  # ac_size=8 s
    n = env.shape[-1]
    padded = np.pad(env, (win // 2, win // 2), mode="linear_ramp", end_values=[0, 0])
    total = np.zeros(win)
    for a in range(0, n, _TEMPO_COLUMNS):
        b = min(n, a + _TEMPO_COLUMNS)
        tg = librosa.feature.tempogram(onset_envelope=padded[a : b + win - 1], sr=sr,
                                       hop_length=hop, win_length=win, center=False)
        total += tg.sum(axis=-1, dtype=np.float64)
    mean = (total / n).astype(env.dtype)[:, np.newaxis]
    return float(_tempo_func()(tg=mean, sr=sr, hop_length=hop)[0])


def _window_means(env, before, after):
    """``env[max(0, n - before) : n + after].mean()`` for every frame ``n``.

    Full windows come from one strided view (np.mean over each, as for a slice); only
    the windows cut by the ends are averaged one by one.
    """
    n, width = len(env), before + after
    means = np.empty(n)
    inner = np.arange(before, n - after + 1)
    if inner.size:
        means[inner] = np.lib.stride_tricks.sliding_window_view(env, width).mean(axis=-1)
    for i in np.r_[0 : min(before, n), max(before, n - after + 1) : n]:
        means[i] = env[max(0, i - before) : i + after].mean()
    return means


def _onset_count(env, sr, hop):
    """Number of onsets ``librosa.onset.onset_detect(onset_envelope=env, sr=sr,
    hop_length=hop)`` finds, with its default settings, in numpy.

    librosa's peak picker (:func:`librosa.util.peak_pick`) is numba code cached on disk,
    which processes filling an empty cache at once corrupted; this is the same rule:
    frame ``n`` is an onset when it is the maximum of ``env[n - pre_max : n + post_max]``,
    at least ``delta`` above the mean of ``env[n - pre_avg : n + post_avg]`` (windows cut
    at the ends), and more than ``wait`` frames after the previous onset.
    """
    env = env - np.min(env)
    env = env / (np.max(env) + np.finfo(env.dtype).tiny)
    if not env.any() or not np.isfinite(env).all():
        return 0
    pre_max = int(np.ceil(0.03 * sr // hop))
    post_max = int(np.ceil(0.00 * sr // hop + 1))
    pre_avg = int(np.ceil(0.10 * sr // hop))
    post_avg = int(np.ceil(0.10 * sr // hop + 1))
    wait = int(np.ceil(0.03 * sr // hop))
    n = len(env)
    idx = np.arange(n)
    padded = np.concatenate([np.full(pre_max, -np.inf), env, np.full(post_max, -np.inf)])
    local_max = np.lib.stride_tricks.sliding_window_view(padded, pre_max + post_max)
    is_max = env == local_max[:n].max(axis=-1)
    mean = _window_means(env, pre_avg, post_avg)
    candidates = idx[is_max & (env >= mean + 0.07)]
    count, next_free = 0, 0
    for c in candidates:  # the earliest peak wins; the next `wait` frames are skipped
        if c >= next_free:
            count += 1
            next_free = c + wait + 1
    return count


@Substitution(**CLIP_FEATURES_DOCS)
class TemporalFeatures(ClipFeaturesMixin, BaseEstimator):
    """Describe the time course of each clip: duration, onsets, tempo, energy, crossings.

    How many words, how fast, what rhythm. For each clip:

    - ``duration_s``: length in seconds;
    - ``onset_count``: number of onsets :func:`librosa.onset.onset_detect` finds with
      its default settings (computed in numpy, same peaks), on librosa's onset strength
      envelope (spectral flux of the log-mel spectrogram, ``n_mels`` bands);
    - ``onset_rate``: onsets per second;
    - ``tempo_bpm``: :func:`librosa.feature.rhythm.tempo` of that envelope (librosa's
      log-normal prior around 120 BPM; a clip without onsets gets the prior's value);
    - ``rms_<stat>``: statistics of the frame RMS (:func:`librosa.feature.rms`);
    - ``zcr_<stat>``: statistics of the zero-crossing rate
      (:func:`librosa.feature.zero_crossing_rate`), crossings per sample;
    - ``silence_fraction``: fraction of frames whose RMS is more than ``top_db``
      below the clip's loudest frame (1.0 for an all-zero clip).

    All frame-wise quantities share ``n_fft`` (frame length) and ``hop_length``, and
    the envelope comes from one STFT per clip. Clips shorter than ``n_fft`` are
    zero-padded to ``n_fft`` (``duration_s`` keeps the true length).

    A long recording given as a streamed clip (an item of the list read block by
    block, never whole in memory) gets the same row, in two reads (the envelope's
    floor and the silence threshold are relative to the loudest frame). The onset
    envelope and the frame RMS, one value per hop (about 9 MB for 10 hours at
    16 kHz), are kept whole; the rest is computed piece by piece. The zero-crossing
    medians and percentiles are exact up to 65,536 frames; beyond that they come
    from an evenly spaced subsample of 32,768 to 65,536 frames (the same on every
    run).

    Parameters
    ----------
    {sr}

    n_fft : int, default=2048
        Frame length of the STFT, RMS and zero-crossing frames.

    hop_length : int, default=512
        Samples between frames.

    center : bool, default=True
        Centre frames on their time, as librosa does by default.

    n_mels : int, default=128
        Mel bands of the onset strength envelope.

    top_db : float, default=60.0
        Silence threshold in dB below the loudest frame (as in
        :func:`librosa.effects.split`).

    stats : tuple of {"mean", "std", "min", "max", "median"}, default=("mean", "std")
        Statistics of the RMS and zero-crossing curves.

    percentiles : tuple of float, default=()
        Percentiles of those curves added after ``stats`` (``rms_p95``...).

    {n_jobs}

    {verbose}

    Attributes
    ----------
    {sr_}

    {n_features_in_}

    {feature_names_in_}

    See Also
    --------
    MelFeatures : Log-mel and MFCC statistics.
    librosa.onset.onset_detect : Onset detection of one signal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import TemporalFeatures
    >>> sr = 22050
    >>> clicks = np.zeros(2 * sr)
    >>> clicks[np.arange(4) * sr // 2 + 2000] = 1.0
    >>> tf = TemporalFeatures(sr=sr).fit([clicks])
    >>> row = dict(zip(tf.get_feature_names_out(), tf.transform([clicks])[0].tolist()))
    >>> row["duration_s"], row["onset_count"], row["onset_rate"]
    (2.0, 4.0, 2.0)
    """

    # stateless and deterministic: a cached search may extract it once for all folds
    _sklaudio_cacheable = True

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "n_fft": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "center": ["boolean"],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "stats": [tuple, list, str],
        "percentiles": ["array-like"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr=None,
        n_fft=2048,
        hop_length=512,
        center=True,
        n_mels=128,
        top_db=60.0,
        stats=("mean", "std"),
        percentiles=(),
        n_jobs=None,
        verbose=0,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.center = center
        self.n_mels = n_mels
        self.top_db = top_db
        self.stats = stats
        self.percentiles = percentiles
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        check_stats(self.stats, self.percentiles, "TemporalFeatures")

    def _feature_names(self):
        suffixes = stat_names(*check_stats(self.stats, self.percentiles, "TemporalFeatures"))
        return (
            ["duration_s", "onset_count", "onset_rate", "tempo_bpm"]
            + [f"rms_{s}" for s in suffixes]
            + [f"zcr_{s}" for s in suffixes]
            + ["silence_fraction"]
        )

    def _extract_block(self, Y):
        n = Y.shape[0]
        sr, hop, n_fft = self.sr_, self.hop_length, self.n_fft
        duration = np.full(n, Y.shape[-1] / sr)
        Y = pad_to(Y, n_fft)
        S = power_spectrogram(
            Y, n_fft=n_fft, hop_length=hop, win_length=None, window="hann",
            center=self.center, pad_mode="constant", power=2.0,
        )
        L = log_power(mel_power(S, sr=sr, n_fft=n_fft, n_mels=self.n_mels, fmin=0.0,
                                fmax=None))
        env = librosa.onset.onset_strength(
            S=L, sr=sr, n_fft=n_fft, hop_length=hop, center=self.center
        )
        env = np.atleast_2d(env)
        rms = _dsp.rms(Y, frame_length=n_fft, hop_length=hop, center=self.center)
        zcr = _dsp.zero_crossing_rate(Y, frame_length=n_fft, hop_length=hop, center=self.center)
        stats, pct = check_stats(self.stats, self.percentiles, "TemporalFeatures")
        return np.stack([
            self._row(duration[i], env[i], rms[i], summarise(zcr[i], stats, pct))
            for i in range(n)
        ])

    def _row(self, duration, env, rms, zcr_stats):
        """One clip's row from its onset envelope, frame RMS and zero-crossing statistics."""
        sr, hop = self.sr_, self.hop_length
        stats, pct = check_stats(self.stats, self.percentiles, "TemporalFeatures")
        onsets = float(_onset_count(env, sr, hop))
        threshold = max(rms.max() * 10 ** (-self.top_db / 20), 1e-10)
        silence = (rms < threshold).mean()
        return np.concatenate([
            [duration, onsets, onsets / duration, _tempo(env, sr, hop)],
            summarise(rms, stats, pct), zcr_stats, [silence],
        ])

    def _stream_pieces(self, clip, **kwargs):
        return clip_pieces(clip, "TemporalFeatures", frame_length=self.n_fft,
                           hop_length=self.hop_length, center=self.center, pad_short=True,
                           **kwargs)

    def _log_mel(self, piece):
        """Log-mel frames of a piece (no floor), as in :meth:`_extract_block`."""
        S = power_spectrogram(piece, n_fft=self.n_fft, hop_length=self.hop_length,
                              win_length=None, window="hann", center=False, power=2.0)
        return log_power(mel_power(S, sr=self.sr_, n_fft=self.n_fft, n_mels=self.n_mels,
                                   fmin=0.0, fmax=None), top_db=None)

    def _extract_stream(self, clip):
        """The row of one streamed clip, in two reads.

        The first read gives the frame RMS (kept whole: one float per hop, 9 MB for 10
        hours at 16 kHz, for the silence threshold set by the loudest frame), the
        zero-crossing statistics and the loudest log-mel value (the onset envelope's
        80 dB floor is relative to it); the second the onset envelope (kept whole for
        the onset count and the tempo: one float per hop).
        """
        n_fft, hop = self.n_fft, self.hop_length
        stats, pct = check_stats(self.stats, self.percentiles, "TemporalFeatures")
        n_padded = max(clip.n_samples, n_fft)  # short clips are zero-padded to n_fft
        pad = n_fft // 2 if self.center else 0
        zcr = StatsAccumulator(stats, pct, n_rows=1)
        rms, top = [], -np.inf
        for piece, t0 in self._stream_pieces(clip):
            rms.append(_dsp.rms(piece, frame_length=n_fft, hop_length=hop, center=False))
            # the zero-crossing rate pads the clip with its edge values, not zeros
            edge = piece.copy()
            first, last = pad - t0 * hop, pad + n_padded - 1 - t0 * hop
            if self.center and first > 0:
                edge[:first] = piece[first]
            if self.center and last < len(piece) - 1:
                edge[last + 1 :] = piece[last]
            zcr.update(_dsp.zero_crossing_rate(edge, frame_length=n_fft, hop_length=hop,
                                               center=False)[np.newaxis])
            top = max(top, self._log_mel(piece).max())
        flux, prev = [], None
        for piece, _ in self._stream_pieces(clip):
            L = np.maximum(self._log_mel(piece), top - 80.0)  # log_power's top_db=80
            both = L if prev is None else np.concatenate([prev, L], axis=-1)
            flux.append(np.mean(np.maximum(0.0, both[:, 1:] - both[:, :-1]), axis=0))
            prev = L[:, -1:]
        # onset_strength's alignment: shifted by lag 1 (+ n_fft // (2 hop) when centred)
        flux = np.concatenate(flux)
        shift = 1 + (n_fft // (2 * hop) if self.center else 0)
        env = np.pad(flux, (shift, 0))[: len(flux) + 1]
        return self._row(clip.n_samples / self.sr_, env, np.concatenate(rms),
                         zcr.result()[0])
