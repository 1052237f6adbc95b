"""SpeakerEmbedding: a pretrained speaker encoder's 256-number summary of each voice.

The encoder is Resemblyzer's GE2E model (a 3-layer LSTM over 40-band mel frames,
trained for speaker verification on LibriSpeech train-other-500 and VoxCeleb 1 and 2).
Its weights ship inside the ``resemblyzer`` wheel (a pure-Python wheel, installed with
``pip install --no-deps resemblyzer``), so nothing is downloaded at run time. The
network runs here in numpy: PyTorch is not needed. The weights file is a PyTorch
checkpoint, which we read with a restricted unpickler that builds numpy arrays and
refuses every class other than the tensor pieces (a checkpoint is a pickle: loading
one with plain ``pickle`` could run any code). We locate the package without importing
it: its ``__init__`` imports torch and ``webrtcvad`` (a C extension without wheels).
"""

import collections
import functools
import importlib.util
import pickle
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from scipy.linalg.blas import sgemm
from sklearn.base import BaseEstimator

from sklaudio.exceptions import ParameterError
from sklaudio.features._base import ClipFeaturesMixin, map_with_quality
from sklaudio.utils._audio import map_clips, validate_clips
from sklaudio.utils._compat import Interval, check_is_fitted
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution
from sklaudio.utils._dsp import mel_power, power_spectrogram
from sklaudio.utils._stream import StreamedClip, checked_blocks, frame_chunks, is_streamed

__all__ = ["SpeakerEmbedding"]

# the encoder's training front end (resemblyzer/hparams.py)
_SR = 16000
_HOP = 160  # 10 ms
_N_FFT = 400  # 25 ms
_N_MELS = 40
_PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
_TARGET_DBFS = -30.0
_N_DIMS = 256
_N_LAYERS = 3
# partials per LSTM pass: the per-step (1024, 256) @ (256, batch) products run at full
# BLAS speed from about a hundred columns; a pass holds ~60 MB of layer outputs at 128
_BATCH = 128
_BLAS_BLOCK = 16  # columns per block of the matrix products (see _encode)
_TIME_BLOCK = 32  # steps whose input projections are computed in one product

#: The command that installs the encoder weights (pure Python wheel, no dependencies).
_INSTALL_WEIGHTS = "pip install --no-deps resemblyzer"


# ---------------------------------------------------------------------------------
# Reading a PyTorch checkpoint without PyTorch
# ---------------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "DoubleStorage": "f8", "FloatStorage": "f4", "HalfStorage": "f2",
    "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2",
    "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "b1",
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    """Stands for ``torch.FloatStorage`` etc. in the pickle: only its dtype is used."""

    __slots__ = ("name",)  # no __dict__: a pickle cannot set attributes on it

    def __init__(self, name):
        self.name = name


class _Storage:
    """A flat typed buffer, filled from the archive once its bytes are known."""

    __slots__ = ("dtype", "numel", "data")

    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.data = dtype, numel, None


class _TensorRef:
    """A tensor to cut out of a storage after unpickling (legacy files store the
    bytes after the pickle)."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _int_tuple(v, what):
    if not isinstance(v, tuple) or not all(isinstance(i, int) and i >= 0 for i in v):
        raise pickle.UnpicklingError(f"tensor {what} {v!r} is not a tuple of integers >= 0")
    return v


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    # torch._utils._rebuild_tensor_v2's arguments; autograd fields are irrelevant here
    if not isinstance(storage, _Storage) or not isinstance(storage_offset, int):
        raise pickle.UnpicklingError("malformed tensor record in the checkpoint")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise pickle.UnpicklingError(f"tensor size {size} and stride {stride} differ in length")
    return _TensorRef(storage, storage_offset, size, stride)


class _CheckpointUnpickler(pickle.Unpickler):
    """Unpickle a torch checkpoint's object tree allowing only tensors, storages and
    OrderedDict; every other global (hence any code a file could ask to run) raises."""

    def __init__(self, file, get_storage):
        super().__init__(file)
        self._get_storage = get_storage

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"the checkpoint refers to {module}.{name}; only tensors, storages and "
            "OrderedDict are allowed (a state dict of plain tensors)."
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[4], int)):
            raise pickle.UnpicklingError(f"unexpected persistent record {pid!r:.80}")
        return self._get_storage(pid)


def _materialise(obj):
    """Replace each tensor record of the unpickled tree by a numpy array."""
    if isinstance(obj, _TensorRef):
        data = obj.storage.data
        extent = obj.offset + sum((n - 1) * s for n, s in zip(obj.size, obj.stride))
        if min(obj.size, default=1) > 0 and extent >= len(data):
            raise ValueError(f"a tensor reaches element {extent} of a storage of {len(data)}")
        idx = np.asarray(obj.offset, dtype=np.int64)
        for n, s in zip(obj.size, obj.stride):  # indices, not as_strided: bounds checked
            idx = idx[..., np.newaxis] + np.arange(n, dtype=np.int64) * s
        return np.array(data[idx])  # native byte order, own memory
    if isinstance(obj, dict):
        return type(obj)((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v) for v in obj)
    return obj


def _dtype(stype, order):
    return np.dtype(_STORAGE_DTYPES[stype.name]).newbyteorder(order)


def _load_zip(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{path} is a zip file without one data.pkl: not a checkpoint")
        prefix = pkl[0][: -len("data.pkl")]
        order = "<"
        if prefix + "byteorder" in names and zf.read(prefix + "byteorder") == b"big":
            order = ">"
        storages = {}

        def get_storage(pid):
            _, stype, key, _location, numel = pid[:5]
            if key not in storages:
                dtype = _dtype(stype, order)
                raw = zf.read(f"{prefix}data/{key}")
                if len(raw) < numel * dtype.itemsize:
                    raise ValueError(f"storage {key} of {path} is shorter than declared")
                st = _Storage(dtype, numel)
                st.data = np.frombuffer(raw, dtype, count=numel)
                storages[key] = st
            return storages[key]

        with zf.open(pkl[0]) as f:
            obj = _CheckpointUnpickler(f, get_storage).load()
    return _materialise(obj)


def _load_legacy(path):
    with open(path, "rb") as f:
        # three small pickles (magic number, protocol version, system info), the object
        # tree, the list of storage keys, then the storages' bytes
        if _CheckpointUnpickler(f, None).load() != _LEGACY_MAGIC:
            raise ValueError(f"{path} is neither a zip nor a legacy PyTorch checkpoint")
        _CheckpointUnpickler(f, None).load()
        sys_info = _CheckpointUnpickler(f, None).load()
        order = "<" if sys_info.get("little_endian", True) else ">"
        storages = {}

        def get_storage(pid):
            _, stype, key, _location, numel = pid[:5]
            if len(pid) > 5 and pid[5] is not None:
                raise ValueError(f"{path} uses storage views (files of PyTorch < 0.4): "
                                 "not supported; save it again with a recent PyTorch")
            if key not in storages:
                storages[key] = _Storage(_dtype(stype, order), numel)
            return storages[key]

        obj = _CheckpointUnpickler(f, get_storage).load()
        keys = _CheckpointUnpickler(f, None).load()
        for key in keys:  # each storage: int64 element count, then its raw bytes
            st = storages[key]
            n = int(np.frombuffer(f.read(8), "<i8")[0])
            if n != st.numel:
                raise ValueError(f"storage {key} of {path} holds {n} elements, not {st.numel}")
            raw = f.read(n * st.dtype.itemsize)
            if len(raw) != n * st.dtype.itemsize:
                raise ValueError(f"{path} ends inside storage {key}: truncated file")
            st.data = np.frombuffer(raw, st.dtype)
    return _materialise(obj)


def _read_torch_checkpoint(path):
    """Read a PyTorch checkpoint of plain tensors into numpy arrays, without PyTorch.

    Both formats are read: the zip archive (``data.pkl`` and one raw file per storage,
    PyTorch >= 1.6) and the older single-stream pickle. Unpickling is restricted to
    tensors, storages and ``collections.OrderedDict``: a file that names any other
    class or function raises instead of running it.

    Parameters
    ----------
    path : str or path-like
        The ``.pt`` / ``.pth`` file.

    Returns
    -------
    obj : object
        The saved object (dicts, lists, numbers, strings) with each tensor as a numpy
        array of its dtype and shape.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            return _load_zip(path)
        return _load_legacy(path)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read {path} as a PyTorch checkpoint of tensors: {exc}") \
            from exc


# ---------------------------------------------------------------------------------
# The encoder in numpy
# ---------------------------------------------------------------------------------


def _weights_path():
    # find_spec locates the package without running its __init__ (torch, webrtcvad)
    try:
        spec = importlib.util.find_spec("resemblyzer")
    except (ImportError, ValueError):  # a broken or half-removed install
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "SpeakerEmbedding needs the encoder weights that ship in the resemblyzer "
            f"package: {_INSTALL_WEIGHTS}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise ImportError(f"resemblyzer is installed but {path} is missing; reinstall it: "
                          f"{_INSTALL_WEIGHTS} --force-reinstall")
    return path


@functools.lru_cache(maxsize=1)
def _encoder():
    """The LSTM's layers and the projection as numpy arrays, loaded once per process.

    Each layer is ``([W_ih | b_ih + b_hh], W_hh)`` in float32, shapes (1024, n_in + 1)
    and (1024, 256): the bias is a last column of W_ih, met by a row of ones under the
    inputs, so the matrix product adds it. The gates are reordered from PyTorch's
    (input, forget, cell, output) to (input, forget, output, cell) and the rows of the
    three sigmoid gates halved, so that one tanh over all four gates gives
    sigmoid(x) = (1 + tanh(x / 2)) / 2 for the first three (halving is exact in floats).
    """
    state = _read_torch_checkpoint(_weights_path())["model_state"]
    h = _N_DIMS
    order = np.r_[0 : 2 * h, 3 * h : 4 * h, 2 * h : 3 * h]
    scale = np.r_[np.full(3 * h, 0.5), np.ones(h)].astype(np.float32)[:, np.newaxis]
    layers = []
    for k in range(_N_LAYERS):
        bias = state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"]
        w_ih = np.hstack([state[f"lstm.weight_ih_l{k}"], bias[:, np.newaxis]])
        layers.append((np.ascontiguousarray(w_ih[order] * scale, dtype=np.float32),
                       np.ascontiguousarray(state[f"lstm.weight_hh_l{k}"][order] * scale,
                                            dtype=np.float32)))
    linear = (state["linear.weight"].astype(np.float64), state["linear.bias"].astype(np.float64))
    return layers, linear


def _lstm_last_hidden(x, layers):
    """Top layer's last hidden state, shape (batch, 256), for x of shape (batch, time, 40).

    Layer by layer and step by step with the whole batch in each product, in a
    (feature, batch) layout so that each gate is a contiguous block of rows. A layer's
    input projections are computed for blocks of steps at once; each step's recurrent
    product is then added into its block in place by BLAS (sgemm with beta = 1).
    """
    n, n_steps, n_in = x.shape
    h_dim = _N_DIMS
    seq = np.empty((n_steps, n_in + 1, n), dtype=np.float32)
    seq[:, :n_in] = x.transpose(1, 2, 0)
    seq[:, n_in] = 1.0  # the row that meets the bias column
    cell_in = np.empty((h_dim, n), dtype=np.float32)
    for w_ih, w_hh in layers:
        out = np.empty((n_steps, h_dim + 1, n), dtype=np.float32)
        out[:, h_dim] = 1.0
        h = np.zeros((h_dim, n), dtype=np.float32)
        c = np.zeros((h_dim, n), dtype=np.float32)
        for t0 in range(0, n_steps, _TIME_BLOCK):
            proj = np.matmul(w_ih, seq[t0 : t0 + _TIME_BLOCK])  # (steps, 1024, batch)
            for dt in range(len(proj)):
                # C-ordered (rows, batch) arrays are Fortran-ordered transposes: no copies
                g = sgemm(1.0, h.T, w_hh.T, 1.0, proj[dt].T, overwrite_c=1).T
                np.tanh(g, out=g)
                sig = g[: 3 * h_dim]  # input, forget, output gates
                sig *= 0.5
                sig += 0.5
                c *= g[h_dim : 2 * h_dim]
                np.multiply(g[:h_dim], g[3 * h_dim :], out=cell_in)
                c += cell_in
                h = out[t0 + dt, :h_dim]
                np.tanh(c, out=h)
                h *= g[2 * h_dim : 3 * h_dim]
        seq = out
    return h.T


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


def _gain(power):
    """Factor raising a clip of mean power ``power`` to -30 dBFS, never lowering it."""
    if power > 0:
        gain_db = _TARGET_DBFS - 10 * np.log10(power)
        if gain_db > 0:
            return 10 ** (gain_db / 20)
    return None


def _mel(Y):
    """40-band mel power frames ``(n_frames, 40)`` of ``(1, n)`` float32 samples already
    padded: librosa.feature.melspectrogram's defaults, through the shared helpers."""
    S = power_spectrogram(Y, n_fft=_N_FFT, hop_length=_HOP, win_length=None, window="hann",
                          center=False, pad_mode="constant", power=2.0)
    return mel_power(S, sr=_SR, n_fft=_N_FFT, n_mels=_N_MELS, fmin=0.0, fmax=None)[0].T


def _clip_partials(y, rate, min_coverage):
    """(n_partials, 160, 40) float32 mel partials of one clip."""
    y = np.asarray(y, dtype=np.float64)
    gain = _gain(np.mean(y**2))
    if gain is not None:  # raise quiet clips to -30 dBFS, never lower loud ones
        y = y * gain
    starts = _partial_starts(len(y), rate, min_coverage)
    end = (starts[-1] + _PARTIAL_FRAMES) * _HOP
    if end >= len(y):
        y = np.pad(y, (0, end - len(y)))
    pad = _N_FFT // 2  # librosa's centring
    mel = _mel(np.pad(y.astype(np.float32), (pad, pad))[np.newaxis])
    return np.stack([mel[s : s + _PARTIAL_FRAMES] for s in starts]).astype(np.float32)


class _LevelledSource:
    """A streamed clip's samples raised by ``gain`` (if any), in float32 as
    :func:`_clip_partials` casts them, then zeros up to ``n_samples`` (the last partial's
    end)."""

    def __init__(self, clip, gain, n_samples):
        self.clip, self.gain, self.n_samples = clip, gain, n_samples

    def __call__(self, block_size):
        n = 0
        for b in checked_blocks(self.clip, "SpeakerEmbedding", block_size):
            b = np.asarray(b, dtype=np.float64)
            yield (b if self.gain is None else b * self.gain).astype(np.float32)
            n += len(b)
        for a in range(n, self.n_samples, block_size):
            yield np.zeros(min(block_size, self.n_samples - a), dtype=np.float32)


# mel frames per piece of a streamed clip: 10 s, a 2 MB spectrum
_STREAM_FRAMES = 1024


def _stream_partials(clip, rate, min_coverage):
    """The mel partials of a streamed clip, in order, as :func:`_clip_partials` cuts them.

    Two reads: the clip's mean power (for the level), then its mel frames piece by
    piece; only the frames of the partials not yet complete are kept.
    """
    power = sum(float(np.dot(b, b)) for b in
                (np.asarray(b, dtype=np.float64)
                 for b in checked_blocks(clip, "SpeakerEmbedding"))) / clip.n_samples
    n = clip.n_samples
    starts = _partial_starts(n, rate, min_coverage)
    total = max(n, (starts[-1] + _PARTIAL_FRAMES) * _HOP)
    levelled = StreamedClip(_LevelledSource(clip, _gain(power), total), sr=_SR,
                            n_samples=total, dtype=np.float32, name=clip.name)
    kept, t_kept = np.zeros((0, _N_MELS), dtype=np.float32), 0  # mel frames from t_kept
    i = 0
    for piece, _ in frame_chunks(levelled, frame_length=_N_FFT, hop_length=_HOP,
                                 pad_short=True, frames_per_chunk=_STREAM_FRAMES):
        kept = np.concatenate([kept, _mel(piece[np.newaxis])])
        while i < len(starts) and starts[i] + _PARTIAL_FRAMES <= t_kept + len(kept):
            yield kept[starts[i] - t_kept :][:_PARTIAL_FRAMES].copy()  # not a view of kept
            i += 1
        drop = (starts[i] if i < len(starts) else t_kept + len(kept)) - t_kept
        kept, t_kept = kept[drop:], t_kept + drop


# its sampling rate is the encoder's own (16 kHz): that entry stays written out
@Substitution(**{k: v for k, v in CLIP_FEATURES_DOCS.items() if k != "sr"})
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
    gender and age models: the README gives its measured effect next to sklaudio's
    mel, f0, rhythm and formant statistics.

    Needs the encoder weights, which ship in the pure-Python ``resemblyzer`` wheel:
    ``pip install --no-deps resemblyzer`` (17 MB; its own dependencies, PyTorch and
    the C extension ``webrtcvad``, are not needed). The network runs in numpy; the
    weights are read once per process and are not part of the pickled estimator. Clips
    must be at 16 kHz, the encoder's rate.

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

    # stateless and deterministic (pretrained weights, nothing learned in fit):
    # search_with_cached_features may cache its output
    _sklaudio_cacheable = True

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
        _encoder()  # fail in fit, with the install command, when the weights are missing

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
        streamed = [] if is_matrix else [i for i, c in enumerate(clips) if is_streamed(c)]
        if streamed:
            self._check_streamed(clips)
        whole_at = sorted(set(range(len(clips))) - set(streamed))
        whole = [clips[i] for i in whole_at]
        out = np.zeros((len(clips), _N_DIMS))
        if whole:
            # the quality flags of the warning in the same tasks
            partials = map_with_quality(
                _clip_partials, whole, X, self, positions=whole_at, n_clips=len(clips),
                rate=self.rate, min_coverage=self.min_coverage)
            # each clip's partials are contiguous: sum them, then L2-normalise the sum
            first = np.cumsum([0] + [len(p) for p in partials[:-1]])
            sums = np.add.reduceat(self._encode(np.concatenate(partials)), first, axis=0)
            out[whole_at] = _unit(sums)
        for i in streamed:  # a long clip at a time: its partials in batches
            out[i] = self._extract_stream(clips[i])
        return out.astype(clips.dtype if is_matrix else np.float64, copy=False)

    def _extract_stream(self, clip):
        """The row of a streamed clip: its partials' embeddings summed batch by batch."""
        total = np.zeros(_N_DIMS)
        batch = []
        for partial in _stream_partials(clip, self.rate, self.min_coverage):
            batch.append(partial)
            if len(batch) == _BATCH:
                total += self._encode(np.stack(batch)).sum(axis=0)
                batch = []
        if batch:
            total += self._encode(np.stack(batch)).sum(axis=0)
        return _unit(total[np.newaxis])[0]

    def _encode(self, mels):
        _, (weight, bias) = _encoder()
        # all partials of all clips in large batches of equal size (a clip's few partials
        # at a time would leave the products mostly idle; a small remainder would run 480
        # steps of nearly empty products), as many batches as a multiple of the workers
        # so that none waits; the batches go to the workers like clips
        workers = effective_n_jobs(self.n_jobs)
        n_batches = -(-len(mels) // _BATCH)
        n_batches = -(-n_batches // workers) * workers
        size = -(-len(mels) // n_batches)
        batches = [mels[i : i + size] for i in range(0, len(mels), size)]
        hidden = np.concatenate(map_clips(_lstm_batch, batches, n_jobs=self.n_jobs))
        # the projection in float64: it costs little next to the LSTM
        e = np.maximum(hidden.astype(np.float64) @ weight.T + bias, 0.0)
        return _unit(e)


def _lstm_batch(batch):
    """Last LSTM hidden state of one batch of partials (run by map_clips, one BLAS thread).

    BLAS rounds the last columns of a product that does not fill its blocks differently
    (~1e-7): the batch is padded to a multiple of the block, so that a clip's row never
    depends on which other clips came with it (nor on the batch size, hence on n_jobs).
    """
    n = len(batch)
    pad = -n % _BLAS_BLOCK
    if pad:
        batch = np.concatenate([batch, np.zeros((pad,) + batch.shape[1:], dtype=batch.dtype)])
    return _lstm_last_hidden(batch, _encoder()[0])[:n]


def _unit(e):
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    return np.divide(e, norms, out=np.zeros_like(e), where=norms > 0)
