"""Long clips read block by block: :class:`StreamedClip` and frame-aligned chunks.

A :class:`StreamedClip` stands for one clip that is never whole in memory: it knows its
sampling rate and length and hands out its samples as consecutive 1-D blocks. Audio
steps map it to another StreamedClip (lazily: nothing is computed until a feature
extractor reads the blocks); feature extractors read it once and accumulate their
clip-level statistics.

:func:`frame_chunks` turns those blocks into pieces of the *padded* signal (librosa's
``center`` padding included) that overlap by exactly what the frames need, so that
framing each piece with ``center=False`` gives, in order, exactly the frames
:func:`sklaudio.utils._dsp.frame` gives for the whole clip.
"""

import os
import tempfile
import weakref

import numpy as np

from sklaudio.utils._dsp import frame_count

__all__ = ["DEFAULT_BLOCK", "StreamedClip", "checked", "checked_blocks", "frame_chunks",
           "is_streamed", "spill"]

#: Samples per block when none is asked for: 2**20 (65 s at 16 kHz, 4 MB in float32).
DEFAULT_BLOCK = 1 << 20


class _ArraySource:
    """Blocks of an in-memory array (for tests, and to stream what is already loaded)."""

    def __init__(self, y):
        self.y = y

    def __call__(self, block_size):
        for start in range(0, len(self.y), block_size):
            yield self.y[start : start + block_size]


class StreamedClip:
    """One audio clip handed out block by block, never whole in memory.

    Parameters
    ----------
    source : callable
        ``source(block_size)`` returns an iterator of 1-D float arrays, each non-empty
        and at most ``block_size`` long, that concatenate to the clip. It must be
        picklable (a module-level class instance, not a closure) so that the clip can
        go to a worker process, and callable more than once (each call starts over).

    sr : int
        Sampling rate in Hz.

    n_samples : int
        Length of the clip in samples.

    dtype : numpy dtype, default=np.float32
        Dtype of the blocks.

    name : str, default=None
        What the clip is (a file path), for error messages.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils._stream import StreamedClip
    >>> clip = StreamedClip.from_array(np.arange(10, dtype=np.float32), sr=8000)
    >>> [len(b) for b in clip.blocks(4)]
    [4, 4, 2]
    """

    ndim = 1

    def __init__(self, source, *, sr, n_samples, dtype=np.float32, name=None):
        self.source = source
        self.sr = sr
        self.n_samples = int(n_samples)
        self.dtype = np.dtype(dtype)
        self.name = name

    @classmethod
    def from_array(cls, y, sr, *, name=None):
        """Stream a 1-D array that is already in memory."""
        y = np.asarray(y)
        return cls(_ArraySource(y), sr=sr, n_samples=len(y), dtype=y.dtype, name=name)

    @property
    def shape(self):
        return (self.n_samples,)

    def __len__(self):
        return self.n_samples

    def blocks(self, block_size=None):
        """Iterate over the clip's samples in consecutive blocks of at most ``block_size``."""
        block_size = DEFAULT_BLOCK if block_size is None else int(block_size)
        if block_size < 1:
            raise ValueError(f"block_size={block_size}; it must be a positive number of samples.")
        return iter(self.source(block_size))

    def read(self):
        """The whole clip as one array (only for clips that fit in memory)."""
        parts = list(self.blocks())
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def __repr__(self):
        what = f"{self.name!r}, " if self.name else ""
        return (f"StreamedClip({what}{self.n_samples} samples, sr={self.sr}, "
                f"{self.n_samples / self.sr:.1f} s)")


class _SpillSource:
    """Samples written once to a temporary raw file, read back block by block.

    The file is deleted when this object (held by the clip in the process that wrote
    it) is garbage collected; copies pickled to worker processes only read it.
    """

    def __init__(self, path, dtype, n_samples):
        self.path = path
        self.dtype = np.dtype(dtype)
        self.n_samples = n_samples

    def __call__(self, block_size):
        with open(self.path, "rb") as f:
            for start in range(0, self.n_samples, block_size):
                count = min(block_size, self.n_samples - start)
                yield np.fromfile(f, dtype=self.dtype, count=count)


def spill(blocks, *, sr, n_samples, dtype, name=None):
    """Write ``blocks`` to a temporary file and return a :class:`StreamedClip` reading it.

    For a step whose output later steps read several times (each branch of a
    FeatureUnion reads its input once): computing it once and reading the file back
    costs ``n_samples * itemsize`` bytes of disk (in ``tempfile.gettempdir()``, which
    follows ``TMPDIR``) instead of recomputing the step for every reader.
    """
    dtype = np.dtype(dtype)
    fd, path = tempfile.mkstemp(prefix="sklaudio-stream-", suffix=".raw")
    try:
        done = 0
        with os.fdopen(fd, "wb") as f:
            for b in blocks:
                np.ascontiguousarray(b, dtype=dtype).tofile(f)
                done += len(b)
        if done != n_samples:  # pragma: no cover - a step that lost or added samples
            raise RuntimeError(f"{name}: wrote {done} samples, expected {n_samples}.")
    except BaseException:
        os.remove(path)
        raise
    source = _SpillSource(path, dtype, n_samples)
    weakref.finalize(source, _remove, path)
    return StreamedClip(source, sr=sr, n_samples=n_samples, dtype=dtype, name=name)


def _remove(path):
    try:
        os.remove(path)
    except OSError:  # pragma: no cover - already gone
        pass


def is_streamed(x):
    """True for a :class:`StreamedClip`."""
    return isinstance(x, StreamedClip)


def checked_blocks(clip, caller, block_size=None):
    """The blocks of ``clip``, raising at the first NaN or infinite sample.

    The finite check :func:`sklaudio.utils.check_clips` cannot do up front for a
    streamed clip: whoever reads a :class:`StreamedClip`'s samples reads them through
    this, so bad audio is an error naming the clip and the sample, never a NaN feature.

    Parameters
    ----------
    clip : StreamedClip
        The clip.

    caller : str
        The step reading it, named in the error.

    block_size : int, default=None
        Samples per block (:data:`DEFAULT_BLOCK` if None).

    Yields
    ------
    block : 1-D ndarray
        Consecutive blocks of the clip.

    Raises
    ------
    ValueError
        ``Input contains NaN: clip 'long.wav' at sample 123456789, given to Denoiser.``
    """
    from sklaudio.utils._audio import _FINITE_HINT

    subject = f"clip {clip.name!r}" if clip.name else "a streamed clip"
    start = 0
    for b in clip.blocks(block_size):
        if not np.isfinite(b).all():
            bad = int(np.flatnonzero(~np.isfinite(b))[0])
            kind = "NaN" if np.isnan(b[bad]) else "infinity (inf)"
            raise ValueError(
                f"Input contains {kind}: {subject} at sample {start + bad} "
                f"({(start + bad) / clip.sr:.2f} s), given to {caller}. {_FINITE_HINT}"
            )
        start += len(b)
        yield b


class _CheckedSource:
    def __init__(self, clip, caller):
        self.clip = clip
        self.caller = caller

    def __call__(self, block_size):
        return checked_blocks(self.clip, self.caller, block_size)


def checked(clip, caller):
    """``clip`` as a StreamedClip whose blocks go through :func:`checked_blocks`."""
    return StreamedClip(_CheckedSource(clip, caller), sr=clip.sr, n_samples=clip.n_samples,
                        dtype=clip.dtype, name=clip.name)


def _padded_blocks(clip, pad, pad_mode, block_size):
    """The blocks of ``clip`` with ``pad`` samples of ``np.pad(mode=pad_mode)`` each side.

    Only for clips of at least ``2 * pad + 2`` samples (shorter ones are read whole).
    """
    it = clip.blocks(block_size)
    head = []
    n_head = 0
    # the left padding of "reflect"-like modes needs the first pad + 1 samples
    for b in it:
        head.append(b)
        n_head += len(b)
        if n_head > pad:
            break
    first = np.concatenate(head)
    yield np.pad(first[: pad + 1], (pad, 0), mode=pad_mode)[:pad]
    tail = np.zeros(0, first.dtype)
    for b in _chain([first], it):
        # keep the last pad + 1 samples for the right padding
        if len(b) > pad + 1:
            yield tail
            yield b[: -(pad + 1)]
            tail = b[-(pad + 1) :]
        else:
            both = np.concatenate([tail, b])
            yield both[: -(pad + 1)]
            tail = both[-(pad + 1) :]
    yield tail
    yield np.pad(tail, (0, pad), mode=pad_mode)[pad + 1 :]


def _chain(*iterables):
    for it in iterables:
        yield from it


def frame_chunks(clip, *, frame_length, hop_length, center=True, pad_mode="constant",
                 pad_short=False, pad_end=False, frames_per_chunk=4096, block_size=None):
    """Pieces of the padded signal whose frames are, in order, the whole clip's frames.

    For each yielded ``(piece, t0)``,
    ``frame(piece, frame_length=..., hop_length=..., center=False)`` equals frames
    ``t0, t0 + 1, ...`` of ``frame(y, frame_length=..., hop_length=..., center=center,
    pad_mode=pad_mode, pad_short=pad_short, pad_end=pad_end)`` of the whole clip ``y``;
    together the pieces give every frame exactly once. Consecutive pieces overlap by
    ``frame_length - hop_length`` samples.

    Parameters
    ----------
    clip : StreamedClip or 1-D ndarray
        The clip.
    frame_length, hop_length, center, pad_mode, pad_short, pad_end
        As in :func:`sklaudio.utils._dsp.frame`.
    frames_per_chunk : int, default=4096
        Most frames per piece (the last piece may have fewer).
    block_size : int, default=None
        Block size to read ``clip`` with (:data:`DEFAULT_BLOCK` if None).

    Yields
    ------
    piece : 1-D ndarray
        ``frame_length + (k - 1) * hop_length`` samples of the padded signal.
    t0 : int
        Index of the piece's first frame.
    """
    if not is_streamed(clip):
        clip = StreamedClip.from_array(clip, sr=1)
    n_frames = frame_count(clip.n_samples, frame_length=frame_length, hop_length=hop_length,
                           center=center, pad_short=pad_short, pad_end=pad_end)
    pad = frame_length // 2 if center else 0
    short = clip.n_samples < max(frame_length, 2 * pad + 2)
    if short:  # a short clip is read whole and padded as frame() pads it
        y = clip.read()
        if pad_short and len(y) < frame_length:
            y = np.pad(y, (0, frame_length - len(y)))
        stream = [np.pad(y, (pad, pad), mode=pad_mode)] if center else [y]
    elif center:
        stream = _padded_blocks(clip, pad, pad_mode, block_size or DEFAULT_BLOCK)
    else:
        stream = clip.blocks(block_size)
    want = frame_length + (frames_per_chunk - 1) * hop_length
    step = frames_per_chunk * hop_length
    buf = []
    n_buf = 0
    t0 = 0
    for b in stream:
        if not len(b):
            continue
        buf.append(b)
        n_buf += len(b)
        while n_buf >= want and t0 + frames_per_chunk < n_frames:
            joined = np.concatenate(buf) if len(buf) > 1 else buf[0]
            yield joined[:want], t0
            t0 += frames_per_chunk
            rest = joined[step:]
            buf, n_buf = [rest], len(rest)
    # the last piece: the frames left, zero-padded at the end when pad_end asks for it
    left = n_frames - t0
    if left <= 0:
        return
    joined = np.concatenate(buf) if buf else np.zeros(0, clip.dtype)
    need = frame_length + (left - 1) * hop_length
    if len(joined) < need:
        joined = np.pad(joined, (0, need - len(joined)))
    yield joined[:need], t0
