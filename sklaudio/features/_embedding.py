"""SpeakerEmbedding: a pretrained speaker encoder's 256-number summary of each voice.

The encoder is Resemblyzer's GE2E model (a 3-layer LSTM over 40-band mel frames,
trained for speaker verification on LibriSpeech train-other-500 and VoxCeleb 1 and 2).
Its weights ship inside the ``resemblyzer`` wheel, so nothing is downloaded at run
time; the network runs on PyTorch. Both are the optional extra ``sklaudio[embed]``.
We load the weights into our own module rather than import ``resemblyzer``: its
package imports ``webrtcvad``, which needs ``pkg_resources`` (gone from recent
setuptools), for a voice-activity step that sklaudio's Trimmer does already.
"""

import functools
import importlib.util
from numbers import Integral, Real
from pathlib import Path

from joblib import effective_n_jobs
import numpy as np
from sklearn.base import BaseEstimator

from sklaudio.exceptions import ParameterError
from sklaudio.features._base import ClipFeaturesMixin
from sklaudio.features._spectral import mel_power, power_spectrogram
from sklaudio.utils._audio import map_clips, validate_clips
from sklaudio.utils._compat import Interval, check_is_fitted

__all__ = ["SpeakerEmbedding"]

# the encoder's training front end (resemblyzer/hparams.py)
_SR = 16000
_HOP = 160  # 10 ms
_N_FFT = 400  # 25 ms
_N_MELS = 40
_PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
_TARGET_DBFS = -30.0
_N_DIMS = 256
_BATCH = 64  # partials per forward pass: past ~8 the LSTM runs at full speed


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "SpeakerEmbedding needs PyTorch and the resemblyzer weights: "
            "pip install 'sklaudio[embed]'."
        ) from exc
    return torch


def _weights_path():
    # find_spec locates the package without running its __init__ (which imports webrtcvad)
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "SpeakerEmbedding needs the encoder weights of the resemblyzer package: "
            "pip install 'sklaudio[embed]'."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise ImportError(f"resemblyzer is installed but {path} is missing; reinstall it.")
    return path


@functools.lru_cache(maxsize=1)
def _encoder():
    """The pretrained LSTM and its projection (weight, bias), loaded once per process."""
    torch = _import_torch()
    state = torch.load(_weights_path(), map_location="cpu", weights_only=True)["model_state"]
    lstm = torch.nn.LSTM(_N_MELS, _N_DIMS, 3, batch_first=True)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    lstm.eval()
    linear = (state["linear.weight"].double().numpy(), state["linear.bias"].double().numpy())
    return lstm, linear


def _partial_starts(n_samples, rate, min_coverage):
    """First mel frame of each 1.6 s partial (Resemblyzer's compute_partial_slices)."""
    n_frames = int(np.ceil((n_samples + 1) / _HOP))
    step = int(np.round(_SR / rate / _HOP))
    starts = list(range(0, max(1, n_frames - _PARTIAL_FRAMES + step + 1), step))
    last = starts[-1] * _HOP
    coverage = (n_samples - last) / (_PARTIAL_FRAMES * _HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]  # too little of the clip left for a last partial
    return starts


def _clip_partials(y, rate, min_coverage):
    """(n_partials, 160, 40) float32 mel partials of one clip."""
    y = np.asarray(y, dtype=np.float64)
    power = np.mean(y**2)
    if power > 0:  # raise quiet clips to -30 dBFS, never lower loud ones
        gain_db = _TARGET_DBFS - 10 * np.log10(power)
        if gain_db > 0:
            y = y * 10 ** (gain_db / 20)
    starts = _partial_starts(len(y), rate, min_coverage)
    end = (starts[-1] + _PARTIAL_FRAMES) * _HOP
    if end >= len(y):
        y = np.pad(y, (0, end - len(y)))
    # librosa.feature.melspectrogram's defaults, through the extractors' shared helpers
    S = power_spectrogram(y[np.newaxis].astype(np.float32), n_fft=_N_FFT, hop_length=_HOP,
                          win_length=None, window="hann", center=True, pad_mode="constant",
                          power=2.0)
    mel = mel_power(S, sr=_SR, n_fft=_N_FFT, n_mels=_N_MELS, fmin=0.0, fmax=None)[0].T
    return np.stack([mel[s : s + _PARTIAL_FRAMES] for s in starts]).astype(np.float32)


class SpeakerEmbedding(ClipFeaturesMixin, BaseEstimator):
    """Summarise each voice with a pretrained speaker encoder (a 256-number d-vector).

    Each clip is raised to -30 dBFS if quieter, cut into 1.6 s partials (``rate``
    per second, the last zero-padded when it covers at least ``min_coverage`` of a
    partial), and each partial's 40-band mel spectrogram goes through the GE2E encoder
    of Resemblyzer (a 3-layer LSTM trained to tell speakers apart on LibriSpeech
    train-other-500 and VoxCeleb). The clip's embedding is the L2-normalised mean of its
    partials' embeddings: it equals ``resemblyzer.VoiceEncoder().embed_utterance`` on
    the same samples (Resemblyzer also drops pauses with webrtcvad first; put a
    :class:`~sklaudio.preprocessing.Trimmer` before this step instead).

    A speaker's timbre, not their words, decides the embedding, which is why it helps
    gender and age models: on librispeech-251 (5-fold CV, 3 seeds) a logistic
    regression on the embeddings alone reaches gender balanced accuracy 0.976, against
    0.960 for sklaudio's 533 mel, f0, rhythm and formant statistics.

    Needs the optional extra ``pip install 'sklaudio[embed]'`` (PyTorch and the
    ``resemblyzer`` wheel, which carries the weights; nothing is downloaded). The model
    is loaded once per process and is not part of the pickled estimator. Clips must be
    at 16 kHz, the encoder's rate.

    Parameters
    ----------
    sr : float or None, default=None
        Sampling rate of the clips in Hz; must be 16000. None follows the rate the
        clips carry (a :class:`~sklaudio.utils.ClipArray` from an AudioLoader).

    rate : float, default=1.3
        Partials per second of audio (Resemblyzer's default; consecutive partials
        overlap for rates above 0.625, the lowest allowed). Cost grows with it.

    min_coverage : float, default=0.75
        Keep the zero-padded last partial if at least this share of it is audio.

    n_jobs : int or None, default=None
        Threads of the encoder's matrix products (PyTorch's intra-op threads) and
        parallel jobs of the mel spectrograms; None keeps PyTorch's setting.

    verbose : int, default=0
        Print a progress line when > 0.

    Attributes
    ----------
    sr_ : int or float
        Sampling rate used (16000), resolved in :term:`fit`.

    n_features_in_ : int
        Samples per clip seen in :term:`fit`, for a matrix of clips only.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, for a DataFrame with string column names only.

    See Also
    --------
    MelFeatures : Log-mel and MFCC statistics.
    FormantFeatures : Vocal-tract resonances and voice quality.

    Notes
    -----
    An all-zero clip is not raised in level and gets the encoder's answer for
    silence, a finite vector; if the encoder's output is all zeros the row is zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.features import SpeakerEmbedding
    >>> t = np.arange(32000) / 16000
    >>> low = np.sin(2 * np.pi * 110 * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    >>> high = np.sin(2 * np.pi * 220 * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    >>> emb = SpeakerEmbedding(sr=16000).fit_transform([low, high])
    >>> emb.shape, np.allclose(np.linalg.norm(emb, axis=1), 1.0)
    ((2, 256), True)
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Real, 0, None, closed="neither"), None],
        "rate": [Interval(Real, 0.625, 100, closed="both")],
        "min_coverage": [Interval(Real, 0, 1, closed="right")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sr=None, rate=1.3, min_coverage=0.75, n_jobs=None, verbose=0):
        self.sr = sr
        self.rate = rate
        self.min_coverage = min_coverage
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.sr_ != _SR:
            raise ParameterError(
                f"SpeakerEmbedding's encoder was trained on 16 kHz audio, but the clips are "
                f"at sr={self.sr_} Hz. Load them with AudioLoader(sr=16000) (or resample "
                "them) before this step."
            )
        _encoder()  # fail in fit, with the install hint, when the extra is missing

    def _feature_names(self):
        return [f"embedding_{i:03d}" for i in range(_N_DIMS)]

    def transform(self, X):
        """Embed each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_samples) or sequence of 1-D ndarray
            Audio clips at 16 kHz. Clips may have any length.

        Returns
        -------
        X_new : ndarray of shape (n_clips, 256)
            One unit-length row per clip, in input order (float32 for a float32
            matrix, else float64).
        """
        check_is_fitted(self)
        clips, is_matrix = validate_clips(self, X, reset=False)
        self._check_sr(X)
        partials = map_clips(_clip_partials, list(clips), n_jobs=self.n_jobs,
                             verbose=self.verbose, desc="SpeakerEmbedding",
                             rate=self.rate, min_coverage=self.min_coverage)
        # each clip's partials are contiguous: sum them, then L2-normalise the sum
        first = np.cumsum([0] + [len(p) for p in partials[:-1]])
        sums = np.add.reduceat(self._encode(np.concatenate(partials)), first, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
        return out.astype(clips.dtype if is_matrix else np.float64, copy=False)

    def _encode(self, mels):
        torch = _import_torch()
        lstm, linear = _encoder()
        threads = torch.get_num_threads()
        if self.n_jobs is not None:
            torch.set_num_threads(effective_n_jobs(self.n_jobs))
        try:
            out = []
            with torch.inference_mode():
                # all partials of all clips in batches: one clip's few partials at a
                # time leave the LSTM's matrix products mostly idle
                for i in range(0, len(mels), _BATCH):
                    batch = mels[i : i + _BATCH]
                    n = len(batch)
                    if n == 1:
                        # a batch of one takes a different (matrix-vector) kernel whose
                        # rounding differs by ~1e-7: pad it so a clip's row does not
                        # depend on which other clips are transformed with it
                        batch = np.concatenate([batch, np.zeros_like(batch)])
                    _, (hidden, _) = lstm(torch.from_numpy(batch))
                    out.append(hidden[-1].numpy()[:n])
        finally:
            torch.set_num_threads(threads)
        # the projection in float64 numpy: torch's float32 one rounds differently with
        # the batch size, and it costs little next to the LSTM
        weight, bias = linear
        e = np.maximum(np.concatenate(out).astype(np.float64) @ weight.T + bias, 0.0)
        norms = np.linalg.norm(e, axis=1, keepdims=True)
        return np.divide(e, norms, out=np.zeros_like(e), where=norms > 0)
