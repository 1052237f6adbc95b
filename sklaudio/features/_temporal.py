"""TemporalFeatures: how long, how many onsets, how fast, what rhythm, how loud."""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import BaseEstimator

from sklaudio.features._base import ClipFeaturesMixin, check_stats, stat_names, summarise
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
        onsets = np.array([_onset_count(e, sr, hop) for e in env], dtype=float)
        tempo = np.asarray(
            _tempo_func()(onset_envelope=env, sr=sr, hop_length=hop), dtype=float
        ).reshape(n)
        rms = _dsp.rms(Y, frame_length=n_fft, hop_length=hop, center=self.center)
        zcr = _dsp.zero_crossing_rate(Y, frame_length=n_fft, hop_length=hop, center=self.center)
        stats, pct = check_stats(self.stats, self.percentiles, "TemporalFeatures")
        threshold = np.maximum(rms.max(axis=-1, keepdims=True) * 10 ** (-self.top_db / 20),
                               1e-10)
        silence = (rms < threshold).mean(axis=-1)
        return np.column_stack([
            duration, onsets, onsets / duration, tempo,
            summarise(rms, stats, pct), summarise(zcr, stats, pct), silence,
        ])
