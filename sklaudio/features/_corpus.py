"""Features for a whole corpus: batches in parallel, a per-file cache on disk, resumable.

Each file's row is stored under a key made of the file's content (SHA-256 of its bytes)
and the extractor's parameters, as a plain ``.npy`` array written atomically. A rerun
after a crash, or with more files, computes only the rows it has not stored; a changed
file or a changed parameter gets a new key, so a stale row is never served. We store
rows ourselves rather than through ``joblib.Memory``: Memory keys a call by its
arguments (a path says nothing about the file's content, and hashing decoded audio costs
as much as reading it) and stores pickles, which a shared cache folder should not hold.
"""

import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

import sklaudio
from sklaudio.exceptions import AudioLoadError

__all__ = ["extract_corpus"]

_CHUNK = 1 << 20  # bytes read at a time when hashing a file


def _file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _params_key(transformer):
    desc = {"sklaudio": sklaudio.__version__, "type": type(transformer).__qualname__,
            "params": joblib.hash(transformer.get_params(deep=True))}
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:24]


def _atomic_save(path, array):
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)  # readers see the whole file or none of it
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _extract_batch(transformer, paths, digests, store):
    """Rows of ``paths`` (one process or dask worker); stores each when ``store`` is set."""
    for p in paths:
        if not os.path.exists(p):
            raise AudioLoadError(
                f"extract_corpus: {p} does not exist on {socket.gethostname()}. Remote "
                "workers (a dask cluster) need the files at the same path, e.g. a shared "
                "file system."
            )
    est = clone(transformer).set_output(transform="pandas")
    table = est.fit_transform(list(paths))
    rows = np.asarray(table, dtype=np.float64)
    if store is not None:
        for row, digest in zip(rows, digests):
            _atomic_save(store / f"{digest}.npy", row)
    return rows, list(table.columns)


def _check_transformer(transformer):
    from sklaudio.model_selection import is_cacheable

    if not hasattr(transformer, "fit_transform") or not is_cacheable(transformer):
        raise ValueError(
            "extract_corpus needs a transformer that learns nothing from the data, from "
            "file paths to one row per clip: for example make_pipeline(AudioLoader(sr=16000), "
            f"MelFeatures()). Got {type(transformer).__name__}, which is not made only of "
            "steps that declare _sklaudio_cacheable (a learning step such as MelCodebook "
            "must be fitted on training data instead)."
        )


def _progress(done, total, cached, start, verbose):
    if not verbose:
        return
    elapsed = time.monotonic() - start
    computed = done - cached
    left = ""
    if computed and done < total:
        left = f", about {elapsed / computed * (total - done):.0f} s left"
    print(f"extract_corpus: {done}/{total} files ({cached} from the cache), "
          f"{elapsed:.0f} s{left}", file=sys.stderr, flush=True)


def extract_corpus(transformer, paths, *, cache_dir=None, batch_size=32, n_jobs=None,
                   verbose=0):
    """Extract one row of features per file for a corpus, resumably, in parallel.

    Files are processed in batches (one task per batch, so workers start once and
    small corpora are not slowed by scheduling), through joblib: the
    ``joblib.parallel_config(backend="dask")`` context runs the batches on a dask
    cluster. With ``cache_dir``, each file's row is stored as soon as its batch is
    done, keyed by the file's content and the transformer's parameters; a rerun
    (after an interruption, or with new files) reads stored rows and computes the
    rest.

    Parameters
    ----------
    transformer : estimator
        From file paths to one row per clip, made only of steps that learn nothing
        (they declare ``_sklaudio_cacheable``), for example
        ``make_pipeline(AudioLoader(sr=16000), Denoiser(), MelFeatures())``. It is
        cloned and fitted on each batch, which for such steps only records the
        sampling rate.
    paths : sequence of str or path-like
        The audio files, in the order of the output rows.
    cache_dir : str or path-like or None, default=None
        Folder of stored rows (created when missing; safe to share between runs and
        processes). None: nothing is stored.
    batch_size : int, default=32
        Files per task.
    n_jobs : int or None, default=None
        Parallel tasks (joblib's meaning; -1 for all cores).
    verbose : int, default=0
        Print progress (files done, from the cache, time left) to standard error.

    Returns
    -------
    features : pandas.DataFrame of shape (n_files, n_features)
        One row per path, in the order given, indexed by the paths as strings.
        ``features.attrs`` holds ``n_computed`` and ``n_cached``.

    Raises
    ------
    sklaudio.exceptions.AudioLoadError
        A file that cannot be read, named; rows already stored stay stored.

    See Also
    --------
    sklaudio.model_selection.search_with_cached_features : Features once per grid.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklaudio.features import MelFeatures, extract_corpus
    >>> from sklaudio.io import AudioLoader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [f"{folder}/{i}.wav" for i in range(3)]
    >>> for i, p in enumerate(paths):
    ...     sf.write(p, np.sin(np.arange(8000) * (0.05 + 0.02 * i)), 8000)
    >>> pipe = make_pipeline(AudioLoader(sr=8000), MelFeatures(n_mels=16, n_mfcc=4))
    >>> first = extract_corpus(pipe, paths, cache_dir=f"{folder}/cache")
    >>> again = extract_corpus(pipe, paths, cache_dir=f"{folder}/cache")
    >>> first.shape[0], again.attrs["n_cached"], bool(np.allclose(first, again))
    (3, 3, True)
    """
    _check_transformer(transformer)
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("extract_corpus: paths is empty; pass at least one audio file.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"extract_corpus: batch_size must be an int >= 1; got {batch_size!r}.")
    start = time.monotonic()
    store = digests = None
    rows = [None] * len(paths)
    columns = None
    if cache_dir is not None:
        store = Path(cache_dir) / _params_key(transformer)
        store.mkdir(parents=True, exist_ok=True)
        for p in paths:
            if not os.path.isfile(p):
                raise AudioLoadError(f"extract_corpus: {p} does not exist or is not a file.")
        digests = [_file_digest(p) for p in paths]
        names_file = store / "columns.json"
        if names_file.is_file():
            columns = json.loads(names_file.read_text())
            for i, d in enumerate(digests):
                if (store / f"{d}.npy").is_file():
                    rows[i] = np.load(store / f"{d}.npy", allow_pickle=False)
    todo = [i for i, r in enumerate(rows) if r is None]
    n_cached = len(paths) - len(todo)
    _progress(n_cached, len(paths), n_cached, start, verbose)
    batches = [todo[k:k + batch_size] for k in range(0, len(todo), batch_size)]
    done = n_cached
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_extract_batch)(transformer, [paths[i] for i in b],
                                None if digests is None else [digests[i] for i in b], store)
        for b in batches
    )
    for b, (batch_rows, batch_columns) in zip(batches, results):
        if columns is None:
            columns = batch_columns
            if store is not None:
                (store / "columns.json").write_text(json.dumps(columns))
        for i, row in zip(b, batch_rows):
            rows[i] = row
        done += len(b)
        _progress(done, len(paths), n_cached, start, verbose)
    out = pd.DataFrame(np.vstack(rows), columns=columns, index=pd.Index(paths, name="path"))
    out.attrs.update(n_computed=len(todo), n_cached=n_cached)
    return out
