"""Predict with a loaded model, one row per clip: the shared core of ``sklaudio predict``
and of the HTTP service, so both give the same fields and the same numbers."""

import io
import os

import numpy as np

from sklaudio.exceptions import AudioLoadError

__all__ = ["ModelRunner", "predict_clips", "predict_files"]


def _loader_of(estimator):
    from sklaudio.io import AudioLoader

    first = estimator
    while getattr(first, "steps", None):
        first = first.steps[0][1]
    return first if isinstance(first, AudioLoader) else None


def _plain(value):
    """A JSON-able Python scalar from a numpy one."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class ModelRunner:
    """A fitted estimator ready to predict on audio: how to load it, what it outputs.

    Parameters
    ----------
    estimator : fitted estimator
        Takes clips (or paths) and has ``predict``.
    metadata : dict, default=None
        The bundle's metadata (for the sample rate when the model has no loader).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklaudio.deploy import ModelRunner
    >>> from sklaudio.features import MelFeatures
    >>> rng = np.random.default_rng(0)
    >>> clips = rng.normal(scale=[[0.01]] * 3 + [[0.3]] * 3, size=(6, 8000))
    >>> model = make_pipeline(MelFeatures(sr=8000), LogisticRegression())
    >>> model = model.fit(clips.astype(np.float32), [0, 0, 0, 1, 1, 1])
    >>> runner = ModelRunner(model)
    >>> runner.sr, runner.classes
    (8000, [0, 1])
    """

    def __init__(self, estimator, metadata=None):
        from sklaudio.deploy._bundle import _expected_sr

        self.estimator = estimator
        self.metadata = metadata or {}
        self.loader = _loader_of(estimator)
        sr = self.loader.sr if self.loader is not None else None
        if sr is None:
            sr = self.metadata.get("sr") or _expected_sr(estimator)
        if sr is None:
            raise ValueError(
                "This model does not take audio, or does not say at which sample rate (no "
                "AudioLoader step, no fitted sr_): predicting files needs a pipeline that "
                "starts from audio. If it takes clips, save it with "
                "save_model(..., metadata={'sr': ...}).")
        self.sr = int(sr) if float(sr).is_integer() else float(sr)
        steps = getattr(estimator, "steps", None)
        if steps and len(steps) > 1:
            self._head, self._final = estimator[:-1], estimator.steps[-1][1]
        else:
            self._head, self._final = None, estimator
        self.has_proba = hasattr(self._final, "predict_proba")
        classes = getattr(self._final, "classes_", None)
        self.classes = None if classes is None else [_plain(c) for c in classes]

    # -- loading -------------------------------------------------------------------
    def _load_params(self):
        ld = self.loader
        if ld is None:
            return dict(mono=True, offset=0.0, duration=None, dtype=np.float32,
                        res_type="soxr_hq")
        return dict(mono=True, offset=float(ld.offset),
                    duration=None if ld.duration is None else float(ld.duration),
                    dtype=np.dtype(ld.dtype).type, res_type=ld.res_type)

    def load_file(self, path):
        """Load one file as the model's loader would: mono, at :attr:`sr`.

        A long file (by the loader's ``stream`` rule, files over 120 s without a
        loader) is not read now: it comes back as a streamed clip, read block by
        block by the model's steps, so its length does not set the memory used.

        Parameters
        ----------
        path : str
            An audio file.

        Returns
        -------
        clip : ndarray of shape (n_samples,) or StreamedClip
            The samples at :attr:`sr`.
        """
        from sklaudio.io import load_audio
        from sklaudio.io._load import _streams
        from sklaudio.io._stream import open_stream

        params = self._load_params()
        stream = "auto" if self.loader is None else self.loader.stream
        if _streams(path, stream, params["offset"], params["duration"]):
            return open_stream(path, sr=self.sr, on_truncated="error", **params)
        y, _ = load_audio(path, sr=self.sr, **params)
        return y

    def decode(self, data, name):
        """Decode audio bytes in memory (never written to disk) as :meth:`load_file` would.

        Parameters
        ----------
        data : bytes
            The content of an audio file (WAV, FLAC, OGG, MP3).
        name : str
            What error messages call it (an upload's name).

        Returns
        -------
        clip : ndarray of shape (n_samples,)
            The samples at :attr:`sr`, equal to :meth:`load_file` of the same file.

        Raises
        ------
        AudioLoadError
            When the bytes are empty or not audio that libsndfile decodes.
        """
        import librosa
        import soundfile as sf

        params = self._load_params()
        if not data:
            raise AudioLoadError(f"{name!r} is empty (0 bytes).")
        try:
            with sf.SoundFile(io.BytesIO(data)) as f:
                sr_native, n_total = f.samplerate, f.frames
                start = int(round(params["offset"] * sr_native))
                frames = (-1 if params["duration"] is None
                          else max(1, int(round(params["duration"] * sr_native))))
                if start:
                    f.seek(min(start, max(n_total - 1, 0)))
                y = f.read(frames=frames, dtype=params["dtype"], always_2d=False)
        except (sf.SoundFileError, RuntimeError, OSError) as exc:
            detail = getattr(exc, "error_string", None) or str(exc)
            raise AudioLoadError(f"Cannot decode {name!r}: {detail}.") from exc
        if y.shape[0] == 0:
            raise AudioLoadError(f"{name!r} holds no audio (0 samples).")
        y = y.T
        if not np.isfinite(y).all():
            raise AudioLoadError(f"{name!r} contains NaN or infinite samples.")
        if y.ndim == 2:
            y = np.mean(y, axis=0, dtype=y.dtype)  # as load_audio: librosa.to_mono
        if self.sr != sr_native:
            y = librosa.resample(y, orig_sr=sr_native, target_sr=self.sr,
                                 res_type=params["res_type"])
        return np.ascontiguousarray(y, dtype=params["dtype"])

    # -- predicting ----------------------------------------------------------------
    def _predict_batch(self, clips):
        from sklaudio.utils import ClipArray  # noqa: F401 - wrap_clips returns one
        from sklaudio.utils._audio import wrap_clips

        X = wrap_clips(list(clips), self.sr)
        Xt = self._head.transform(X) if self._head is not None else X
        pred = self._final.predict(Xt)
        proba = self._final.predict_proba(Xt) if self.has_proba else None
        return pred, proba

    def predict(self, clips, names):
        """Rows for clips already loaded at :attr:`sr`, in order.

        A batch that fails is retried clip by clip, so only the clips that fail get
        an error row.

        Parameters
        ----------
        clips : list of 1-D float arrays
            The audio, at :attr:`sr`.
        names : list of str
            What each row's ``input`` field says (a path, an upload's name).

        Returns
        -------
        rows : list of dict
            ``input``, ``prediction``, ``proba`` (dict class -> probability, or None),
            ``quality``, ``duration_s``, ``error`` (None).
        """
        quality = _quality(clips, self.sr)
        try:
            pred, proba = self._predict_batch(clips)
            outs = [(pred[i], None if proba is None else proba[i], None)
                    for i in range(len(clips))]
        except Exception:  # noqa: BLE001 - find the clip at fault, keep the others
            if len(clips) == 1:
                raise
            outs = []
            for clip in clips:
                try:
                    p, pr = self._predict_batch([clip])
                    outs.append((p[0], None if pr is None else pr[0], None))
                except Exception as exc:  # noqa: BLE001 - becomes that clip's row
                    outs.append((None, None, f"{type(exc).__name__}: {exc}"))
        rows = []
        for i, (p, pr, err) in enumerate(outs):
            rows.append(self._row(names[i], p, pr, quality[i], len(clips[i]) / self.sr, err))
        return rows

    def _row(self, name, pred, proba, quality, duration, error):
        return {
            "input": name,
            "prediction": _plain(pred),
            "proba": (None if proba is None or self.classes is None else
                      {str(c): float(p) for c, p in zip(self.classes, proba)}),
            "quality": quality,
            "duration_s": None if duration is None else round(float(duration), 4),
            "error": error,
        }

    def error_row(self, name, error):
        """The row of an input that could not be read or predicted.

        Parameters
        ----------
        name : str
            The input (a path, an upload's name).
        error : str
            Why it failed.

        Returns
        -------
        row : dict
            The fields of :meth:`predict`'s rows, empty but ``input`` and ``error``.
        """
        return self._row(name, None, None, None, None, error)


def _quality(clips, sr):
    """The per-clip quality flag of :func:`sklaudio.features.assess_quality`."""
    try:
        from sklaudio.features import assess_quality
    except ImportError:  # pragma: no cover - the quality module is part of sklaudio
        return [None] * len(clips)
    from sklaudio.utils._stream import is_streamed

    if any(is_streamed(c) for c in clips):  # one at a time: a long clip is read in blocks
        return [_quality_streamed(c, sr) if is_streamed(c) else _quality([c], sr)[0]
                for c in clips]
    try:
        return [str(q) for q in assess_quality(list(clips), sr)["quality"]]
    except ValueError:  # a clip it cannot measure (empty): flag the others one by one
        flags = []
        for clip in clips:
            try:
                flags.append(str(assess_quality([clip], sr)["quality"].iloc[0]))
            except ValueError:
                flags.append(None)
        return flags


def _quality_streamed(clip, sr):
    """:func:`_quality` of a streamed clip, from AudioQuality's flag code."""
    from sklaudio.features import AudioQuality
    from sklaudio.features._quality import QUALITY_FLAGS

    try:
        code = AudioQuality(sr=sr).fit_transform([clip])[0, -1]
    except ValueError:
        return None
    return QUALITY_FLAGS[int(code)]


def predict_clips(estimator, clips, *, names=None, metadata=None):
    """Predict clips already in memory: one row per clip with prediction, probabilities
    and quality flag.

    Parameters
    ----------
    estimator : fitted estimator
        For instance from :func:`~sklaudio.deploy.load_model`.
    clips : sequence of 1-D float arrays
        Mono clips at the rate the model expects (a :class:`~sklaudio.utils.ClipArray`
        carrying another rate is refused).
    names : list of str, default=None
        The ``input`` of each row; clip indices when None.
    metadata : dict, default=None
        The bundle's metadata, for the sample rate of a model without a loader.

    Returns
    -------
    rows : list of dict
        ``input``, ``prediction``, ``proba``, ``quality``, ``duration_s``, ``error``.

    See Also
    --------
    predict_files : The same from audio files, with an error row per unreadable file.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklaudio.deploy import predict_clips
    >>> from sklaudio.features import MelFeatures
    >>> rng = np.random.default_rng(0)
    >>> clips = rng.normal(scale=[[0.01]] * 3 + [[0.3]] * 3, size=(6, 8000))
    >>> model = make_pipeline(MelFeatures(sr=8000), LogisticRegression())
    >>> model = model.fit(clips.astype(np.float32), ["quiet"] * 3 + ["loud"] * 3)
    >>> rows = predict_clips(model, list(clips[[0, 5]].astype(np.float32)))
    >>> [r["prediction"] for r in rows], sorted(rows[0]["proba"])
    (['quiet', 'loud'], ['loud', 'quiet'])
    """
    from sklaudio.utils._stream import is_streamed

    runner = ModelRunner(estimator, metadata)
    sr = getattr(clips, "sr", None)
    clips = [c if is_streamed(c) else np.asarray(c) for c in clips]
    if sr is not None and sr != runner.sr:
        raise ValueError(f"clips carry sr={sr} but the model expects {runner.sr} Hz.")
    names = [str(i) for i in range(len(clips))] if names is None else list(names)
    if len(names) != len(clips):
        raise ValueError(f"names has {len(names)} entries for {len(clips)} clips.")
    return runner.predict(clips, names) if clips else []


def predict_files(estimator, paths, *, metadata=None, batch_size=32, progress=None):
    """Predict audio files in batches; an unreadable file becomes a row with its error.

    Parameters
    ----------
    estimator : fitted estimator
        For instance from :func:`~sklaudio.deploy.load_model`.
    paths : sequence of str
        Audio files, predicted in this order.
    metadata : dict, default=None
        The bundle's metadata, for the sample rate of a model without a loader.
    batch_size : int, default=32
        Files loaded and predicted together: memory holds one batch of audio, so
        thousands of files take no more memory than 32. A long file (see
        :meth:`ModelRunner.load_file`) is read block by block, so it takes no more
        memory either.
    progress : callable, default=None
        Called as ``progress(n_done, n_total, n_failed)`` after each batch.

    Yields
    ------
    row : dict
        One per path, in order: ``input`` (the path), ``prediction``, ``proba``,
        ``quality``, ``duration_s``, ``error`` (None, or why the file failed).

    See Also
    --------
    predict_clips : The same for clips in memory.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklaudio.deploy import predict_files
    >>> from sklaudio.features import MelFeatures
    >>> from sklaudio.io import AudioLoader
    >>> rng = np.random.default_rng(0)
    >>> clips = rng.normal(scale=[[0.01]] * 3 + [[0.3]] * 3, size=(6, 8000))
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.wav") for i in range(6)]
    >>> for p, y in zip(paths, clips):
    ...     sf.write(p, y, 8000, subtype="FLOAT")
    >>> model = make_pipeline(AudioLoader(sr=8000), MelFeatures(), LogisticRegression())
    >>> model = model.fit(paths, ["quiet"] * 3 + ["loud"] * 3)
    >>> rows = list(predict_files(model, [paths[0], "missing.wav", paths[5]]))
    >>> [r["prediction"] for r in rows], rows[1]["error"] is not None
    (['quiet', None, 'loud'], True)
    """
    runner = ModelRunner(estimator, metadata)
    paths = [os.fspath(p) for p in paths]
    if int(batch_size) < 1:
        raise ValueError(f"batch_size={batch_size}; expected an integer >= 1.")
    n_failed = 0
    for start in range(0, len(paths), int(batch_size)):
        batch = paths[start:start + int(batch_size)]
        rows = [None] * len(batch)
        clips, where = [], []
        for i, path in enumerate(batch):
            try:
                clips.append(runner.load_file(path))
                where.append(i)
            except (OSError, ValueError, RuntimeError) as exc:
                rows[i] = runner.error_row(path, str(exc))
        if clips:
            try:
                predicted = runner.predict(clips, [batch[i] for i in where])
            except Exception as exc:  # noqa: BLE001 - one clip that failed alone
                predicted = [runner.error_row(batch[where[0]], f"{type(exc).__name__}: {exc}")]
            for i, row in zip(where, predicted):
                rows[i] = row
        n_failed += sum(r["error"] is not None for r in rows)
        if progress is not None:
            progress(start + len(batch), len(paths), n_failed)
        yield from rows
