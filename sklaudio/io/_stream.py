"""Audio files read block by block: the source of a :class:`~sklaudio.utils._stream.StreamedClip`.

:func:`open_stream` checks a file the way :func:`sklaudio.io.load_audio` does (missing,
empty, corrupt, truncated, offset beyond the end) and returns a StreamedClip whose
blocks concatenate to exactly what ``load_audio`` returns: the same decoding, the same
mono mixdown (mean of the channels), and soxr's resampler run as a stream
(``soxr.ResampleStream``), which gives the same samples as the one-shot
``librosa.resample(res_type="soxr_*")`` (bit for bit in our tests), padded or cut to
librosa's ``ceil(n * sr / sr_native)`` samples.
"""

import math

import numpy as np

from sklaudio.exceptions import AudioLoadError, ParameterError
from sklaudio.utils._stream import StreamedClip

__all__ = ["FileSource", "open_stream"]

# librosa's res_type -> soxr's quality; other methods have no streaming form
_SOXR_QUALITY = {"soxr_vhq": "VHQ", "soxr_hq": "HQ", "soxr_mq": "MQ", "soxr_lq": "LQ",
                 "soxr_qq": "QQ"}

# frames decoded per soundfile read, whatever block size the reader asks for
_READ_FRAMES = 1 << 18


def _soxr_quality(res_type, path):
    quality = _SOXR_QUALITY.get(res_type)
    if quality is None:
        raise ParameterError(
            f"res_type={res_type!r} cannot resample {path!r} block by block (only soxr "
            f"does: {', '.join(_SOXR_QUALITY)}). Use res_type='soxr_hq' (the default), or "
            "stream=False to load the file whole."
        )
    return quality


class FileSource:
    """``source(block_size)`` of a StreamedClip reading ``path`` (see :func:`open_stream`).

    Picklable (it holds only the path and the reading parameters), so the clip can go
    to a worker process on the same machine; every call opens the file again.
    """

    def __init__(self, path, *, start, n_read, sr_native, sr, mono, dtype, res_type,
                 seek_exact, n_samples, on_truncated):
        self.path = path
        self.start = start
        self.n_read = n_read
        self.sr_native = sr_native
        self.sr = sr
        self.mono = mono
        self.dtype = dtype
        self.res_type = res_type
        self.seek_exact = seek_exact
        self.n_samples = n_samples
        self.on_truncated = on_truncated

    def _decoded(self):
        """Blocks of the decoded (mono, float) samples of the part read."""
        import soundfile as sf

        from sklaudio.io._load import _open, _truncated

        with _open(self.path) as f:
            skip = self.start
            if self.seek_exact and self.start:
                f.seek(self.start)
                skip = 0
            left = self.n_read + skip
            done = 0
            while left > 0:
                try:
                    y = f.read(frames=min(_READ_FRAMES, left), dtype=self.dtype, always_2d=True)
                except (sf.SoundFileError, RuntimeError) as exc:
                    raise AudioLoadError(
                        f"Cannot decode {self.path!r} after {done} samples: {exc}. The file is "
                        "probably truncated or corrupt; re-encode it."
                    ) from exc
                if len(y) == 0:
                    break
                left -= len(y)
                if skip:
                    cut = min(skip, len(y))
                    y, skip = y[cut:], skip - cut
                    if not len(y):
                        continue
                y = self._mono(y, done)
                done += len(y)
                yield y
        if done < self.n_read and self.on_truncated != "ignore":
            # the header's count held, but the decoder ran out of data before it
            _truncated(self.path, self.start + self.n_read, self.start + done, self.sr_native,
                       self.on_truncated)

    def _mono(self, y, done):
        if not np.isfinite(y).all():
            row, ch = np.argwhere(~np.isfinite(y))[0]
            kind = "NaN" if np.isnan(y[row, ch]) else "infinity (inf)"
            channel = f" of channel {ch}" if y.shape[1] > 1 else ""
            raise AudioLoadError(
                f"Input contains {kind}: {self.path!r} at sample {done + row}{channel} "
                "(a float file with invalid samples). Fix the file, or load it with soundfile "
                "and clean it with np.nan_to_num."
            )
        if y.shape[1] == 1:
            return y[:, 0]
        if self.mono:
            return np.mean(y.T, axis=0, dtype=y.dtype)  # librosa.to_mono, as load_audio
        raise ParameterError(
            f"{self.path!r} has {y.shape[1]} channels: a streamed clip is mono. Load it "
            "with mono=True."
        )

    def _resampled(self):
        """Decoded blocks at ``sr``: soxr's stream resampler, then librosa's length."""
        if self.sr == self.sr_native:
            yield from self._decoded()
            return
        import soxr

        rs = soxr.ResampleStream(self.sr_native, self.sr, 1, dtype=self.dtype,
                                 quality=_soxr_quality(self.res_type, self.path))
        for y in self._decoded():
            out = rs.resample_chunk(y, last=False)
            if len(out):
                yield out
        out = rs.resample_chunk(np.zeros(0, self.dtype), last=True)
        if len(out):
            yield out

    def __call__(self, block_size):
        n = self.n_samples
        done = 0
        buf, n_buf = [], 0
        for y in self._resampled():
            y = y[: n - done - n_buf]  # librosa.util.fix_length: cut the excess
            if not len(y):
                break
            buf.append(y)
            n_buf += len(y)
            while n_buf >= block_size:
                joined = np.concatenate(buf) if len(buf) > 1 else buf[0]
                yield np.ascontiguousarray(joined[:block_size], dtype=self.dtype)
                done += block_size
                buf, n_buf = [joined[block_size:]], n_buf - block_size
        if n_buf:
            yield np.ascontiguousarray(np.concatenate(buf), dtype=self.dtype)
            done += n_buf
        # fix_length's zero padding (the resampler's output may be a sample short)
        while done < n:
            k = min(block_size, n - done)
            yield np.zeros(k, self.dtype)
            done += k


def _decoded_length(path, dtype):
    """Samples a decoder really gives (for MP3, whose header count is an estimate)."""
    from sklaudio.io._load import _open

    n = 0
    with _open(path) as f:
        for y in f.blocks(blocksize=_READ_FRAMES, dtype=dtype, always_2d=True):
            n += len(y)
    return n


def file_duration(path):
    """Duration in seconds that the header of ``path`` announces (None if unreadable)."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except (sf.SoundFileError, RuntimeError, OSError):
        return None  # load_audio will say what is wrong with it
    return info.frames / info.samplerate if info.samplerate else None


def open_stream(path, *, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32,
                res_type="soxr_hq", on_truncated="error"):
    """A :class:`StreamedClip` of ``path``, equal to ``load_audio(path, ...)``'s array.

    Parameters are those of :func:`sklaudio.io.load_audio`, already validated; ``path``
    is a str. The file is checked now (and its MP3 length counted by one decode); its
    samples are read when the clip's blocks are.
    """
    from sklaudio.io._load import (
        _INEXACT_LENGTH_FORMATS,
        _INEXACT_SEEK_FORMATS,
        _check_not_empty,
        _open,
        _seconds_to_frames,
        _start_frame,
        _truncated,
        _truncation,
    )

    with _open(path) as f:
        sr_native, n_total, fmt, channels = f.samplerate, f.frames, f.format, f.channels
        _check_not_empty(path, n_total)
        cut = _truncation(f)
    if cut is not None:
        _truncated(path, *cut, sr_native, on_truncated)
    if channels > 1 and not mono:
        raise ParameterError(
            f"{path!r} has {channels} channels, but a long file is streamed as one mono clip. "
            "Load it with mono=True, or with stream=False to get (n_channels, n_samples)."
        )
    exact_length = fmt not in _INEXACT_LENGTH_FORMATS
    if not exact_length:
        n_total = _decoded_length(path, dtype)
    start = _start_frame(path, offset, sr_native, n_total)
    n_read = n_total - start
    if duration is not None:
        n_read = min(n_read, max(1, _seconds_to_frames(duration, sr_native)))
    target = sr_native if sr is None else sr
    if target != sr_native:
        _soxr_quality(res_type, path)
        n_samples = int(math.ceil(n_read * float(target) / sr_native))  # librosa.resample
        if n_samples == 0:
            raise AudioLoadError(
                f"{path!r} is too short to resample from {sr_native} Hz to {target} Hz (0 "
                "samples left). Drop it, or load a longer part of it."
            )
    else:
        n_samples = n_read
    source = FileSource(path, start=start, n_read=n_read, sr_native=sr_native, sr=target,
                        mono=mono, dtype=np.dtype(dtype), res_type=res_type,
                        seek_exact=fmt not in _INEXACT_SEEK_FORMATS, n_samples=n_samples,
                        on_truncated=on_truncated if exact_length else "ignore")
    return StreamedClip(source, sr=target, n_samples=n_samples, dtype=dtype, name=path)

