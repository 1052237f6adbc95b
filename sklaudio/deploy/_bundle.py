"""Model bundles: a fitted estimator plus what a deployment needs to know, loaded safely.

A bundle is a zip file with two or three members:

- ``metadata.json``: versions, expected sample rate, classes, input and feature names, a
  summary of the training data, the sklaudio classes inside with their parameter names,
  the SHA-256 of each payload and a checksum of the metadata itself;
- ``model.skops`` (or ``model.pkl`` with ``format="pickle"``): the estimator;
- ``reference.skops``: an optional fitted drift monitor (:mod:`sklaudio.monitor`).

skops rebuilds objects from a description of their types and state and never runs code
from the file, so a bundle from someone else can be loaded if its types are trusted.
skops cannot store pandas objects (an ``Index`` has no default ``__reduce__``); a
pandas-output :class:`~sklearn.pipeline.FeatureUnion` keeps one per transformer, so
pandas objects found in fitted state are stored as plain arrays and rebuilt on load.
"""

import copy
import datetime
import hashlib
import importlib
import io
import json
import os
import platform
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.utils.validation import check_is_fitted

from sklaudio.exceptions import AudioWarning

__all__ = [
    "BundleError",
    "BundleVersionWarning",
    "UntrustedTypesError",
    "load_bundle",
    "load_model",
    "read_metadata",
    "save_model",
]

FORMAT = "sklaudio-model-bundle"
FORMAT_VERSION = 1
_META = "metadata.json"
_MODEL = {"skops": "model.skops", "pickle": "model.pkl"}
_REFERENCE = "reference.skops"

# libraries whose versions are recorded; a difference at load time warns
_VERSIONED = ("sklaudio", "scikit-learn", "numpy", "scipy", "pandas", "librosa",
              "imbalanced-learn", "skops")
_IMPORT_NAMES = {"scikit-learn": "sklearn", "imbalanced-learn": "imblearn"}

# skops reports the types a file needs beyond its own short list of safe ones; those
# from these libraries are trusted (rebuilding them runs no code from the file) ...
_TRUSTED_ROOTS = ("sklaudio", "sklearn", "imblearn", "numpy", "scipy")
# ... except from modules that read or write files, download, compile or run code ...
_UNSAFE_PARTS = {"io", "npyio", "_npyio_impl", "format", "pickle", "_pickle", "testing",
                 "_testing", "f2py", "distutils", "ctypeslib", "_joblib", "externals",
                 "_build_utils", "datasets", "os", "subprocess", "builtins"}
# ... and functions that touch files although numpy re-exports them at its top level
_UNSAFE_NAMES = {"load", "loads", "save", "savez", "savez_compressed", "savetxt", "loadtxt",
                 "genfromtxt", "fromfile", "tofile", "fromregex", "memmap", "open",
                 "DataSource", "recfromcsv", "recfromtxt"}


class BundleError(ValueError):
    """A model bundle that cannot be loaded: damaged, tampered with, or out of date.

    A subclass of :class:`ValueError`.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.deploy import BundleError, load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write("not a model")
    >>> try:
    ...     load_model(path)
    ... except BundleError as exc:
    ...     print("not a sklaudio model bundle" in str(exc))
    True
    """


class UntrustedTypesError(BundleError):
    """A bundle needs types that are not trusted; the message names them.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklaudio.deploy import UntrustedTypesError, load_model, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> _ = save_model(FunctionTransformer(os.system).fit([[0.0]]), path)
    >>> try:
    ...     load_model(path)
    ... except UntrustedTypesError as exc:
    ...     print("posix.system" in str(exc))
    True
    """


class BundleVersionWarning(AudioWarning):
    """A bundle was saved with other library versions than the installed ones.

    The message names each library with the saved and the installed version; the
    model still loads.

    Examples
    --------
    >>> import warnings
    >>> from sklaudio.deploy import BundleVersionWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("saved with numpy 1.26.4 (installed: 2.1.0)", BundleVersionWarning)
    >>> issubclass(caught[0].category, UserWarning)
    True
    """


class _PandasPayload:
    """A pandas Index, Series or DataFrame as plain arrays, which skops can store."""

    def __init__(self, obj=None):
        if obj is None:  # skops rebuilds through __new__ and __dict__; kept for clarity
            return
        if isinstance(obj, pd.DataFrame):
            self.kind = "DataFrame"
            self.columns = _PandasPayload(obj.columns)
            self.index = _PandasPayload(obj.index)
            self.data = [_PandasPayload(obj.iloc[:, j]) for j in range(obj.shape[1])]
        elif isinstance(obj, pd.Series):
            self.kind = "Series"
            self.values = _plain_values(obj)
            self.dtype = str(obj.dtype)
            self.name = _plain_name(obj.name)
            self.index = _PandasPayload(obj.index)
        elif isinstance(obj, pd.RangeIndex):
            self.kind = "RangeIndex"
            self.range = [int(obj.start), int(obj.stop), int(obj.step)]
            self.name = _plain_name(obj.name)
        elif isinstance(obj, pd.Index) and not isinstance(obj, pd.MultiIndex):
            self.kind = "Index"
            self.values = _plain_values(obj)
            self.dtype = str(obj.dtype)
            self.name = _plain_name(obj.name)
        else:
            raise BundleError(
                f"save_model cannot store the pandas object of type {type(obj).__name__} "
                "found in the estimator's fitted state; convert it to a numpy array first.")

    def rebuild(self):
        if self.kind == "RangeIndex":
            return pd.RangeIndex(*self.range, name=self.name)
        if self.kind == "Index":
            return pd.Index(self.values, dtype=_pandas_dtype(self.dtype), name=self.name)
        if self.kind == "Series":
            return pd.Series(self.values, index=self.index.rebuild(),
                             dtype=_pandas_dtype(self.dtype), name=self.name)
        columns = self.columns.rebuild()
        return pd.DataFrame({j: s.rebuild() for j, s in enumerate(self.data)},
                            index=self.index.rebuild()).set_axis(columns, axis=1)


def _plain_values(obj):
    values = np.asarray(obj)
    if values.dtype.kind not in "biufcMmO?":
        values = values.astype(object)
    return values


def _plain_name(name):
    if name is None or isinstance(name, (str, int, float, bool)):
        return name
    return str(name)


def _pandas_dtype(name):
    try:
        return pd.api.types.pandas_dtype(name)
    except TypeError:
        return None  # e.g. "category": pandas infers it again from the values


def _descend(obj):
    """Objects whose attributes may hold pandas state: estimators and their helpers."""
    module = type(obj).__module__ or ""
    return (hasattr(obj, "__dict__") and not isinstance(obj, type)
            and module.split(".")[0] in _TRUSTED_ROOTS)


def _encode(obj, memo):
    """``obj`` with pandas objects replaced by payloads; shallow copies, never in place."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, (pd.Index, pd.Series, pd.DataFrame)):
        out = _PandasPayload(obj)
    elif isinstance(obj, list):
        items = [_encode(v, memo) for v in obj]
        out = obj if all(a is b for a, b in zip(items, obj)) else items
    elif isinstance(obj, tuple):
        items = tuple(_encode(v, memo) for v in obj)
        out = obj if all(a is b for a, b in zip(items, obj)) else (
            type(obj)(*items) if hasattr(obj, "_fields") else items)
    elif isinstance(obj, dict):
        items = {k: _encode(v, memo) for k, v in obj.items()}
        out = obj if all(items[k] is v for k, v in obj.items()) else type(obj)(items)
    elif _descend(obj):
        memo[key] = obj  # cycles: a back reference keeps the original
        changed = {k: _encode(v, memo) for k, v in vars(obj).items()}
        changed = {k: v for k, v in changed.items() if v is not vars(obj)[k]}
        if changed:
            out = copy.copy(obj)
            out.__dict__.update(changed)
        else:
            out = obj
    else:
        out = obj
    memo[key] = out
    return out


def _decode(obj, seen):
    """Rebuild the pandas objects of a loaded estimator, in place."""
    if isinstance(obj, _PandasPayload):
        return obj.rebuild()
    if id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, list):
        obj[:] = [_decode(v, seen) for v in obj]
    elif isinstance(obj, tuple):
        items = tuple(_decode(v, seen) for v in obj)
        if any(a is not b for a, b in zip(items, obj)):
            return type(obj)(*items) if hasattr(obj, "_fields") else items
    elif isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _decode(obj[k], seen)
    elif _descend(obj):
        for k, v in list(vars(obj).items()):
            new = _decode(v, seen)
            if new is not v:
                setattr(obj, k, new)
    return obj


def _walk_estimators(obj, seen=None):
    """Every estimator inside ``obj`` (itself, pipeline steps, union members, ...)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, BaseEstimator):
        yield obj
    if isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk_estimators(v, seen)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_estimators(v, seen)
    elif _descend(obj):
        for v in vars(obj).values():
            yield from _walk_estimators(v, seen)


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _public_path(cls):
    """``sklaudio.features.MelFeatures`` for ``sklaudio.features._mel.MelFeatures``."""
    parts = cls.__module__.split(".")
    for i in range(len(parts), 0, -1):
        module = ".".join(parts[:i])
        try:
            if getattr(importlib.import_module(module), cls.__name__, None) is cls:
                if not any(p.startswith("_") for p in parts[1:i]):
                    return f"{module}.{cls.__name__}"
        except ImportError:  # pragma: no cover - the class's own modules import
            continue
    return _class_path(cls)


def _sklaudio_classes(estimator):
    """Parameter names of each sklaudio class inside, checked against the installed ones."""
    records = {}
    for est in _walk_estimators(estimator):
        cls = type(est)
        if cls.__module__.split(".")[0] != "sklaudio":
            continue
        records[_class_path(cls)] = {"class": _class_path(cls), "public": _public_path(cls),
                                     "params": sorted(cls._get_param_names())}
    return sorted(records.values(), key=lambda r: r["class"])


def _installed_versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    import sklaudio

    out["sklaudio"] = sklaudio.__version__
    return out


def _jsonable(value, where):
    """Numbers, strings, lists and dicts of them, from numpy scalars too; else an error."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # numpy's str_ too
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"{where} is {value}; metadata holds finite numbers only.")
        return value
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(list(value))]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where} is a {type(value).__name__}; metadata holds numbers, strings, "
                    "lists and dicts only (JSON).")


def _final_step(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        last = steps[-1][1]
        return _final_step(last) if last not in (None, "passthrough") else estimator
    return estimator


def _first_step(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return _first_step(steps[0][1])
    return estimator


def _expected_sr(estimator):
    """The rate the estimator's audio steps expect: the loader's ``sr``, else a fitted ``sr_``."""
    from sklaudio.io import AudioLoader

    first = _first_step(estimator)
    if isinstance(first, AudioLoader) and first.sr is not None:
        return int(first.sr) if float(first.sr).is_integer() else float(first.sr)
    for est in _walk_estimators(estimator):
        sr = getattr(est, "sr_", None)
        if isinstance(sr, (int, float, np.integer, np.floating)):
            return _jsonable(sr, "sr_")
    return None


def _input_kind(estimator):
    from sklaudio.io import AudioLoader

    if isinstance(_first_step(estimator), AudioLoader):
        return "audio files or clips"
    if _expected_sr(estimator) is not None:
        return "clips"
    return "table"


def _feature_names(estimator):
    """Names of the columns the final estimator sees, when they can be known."""
    final = _final_step(estimator)
    names = getattr(final, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    steps = getattr(estimator, "steps", None)
    # audio steps have no column names: the names start at the first feature step
    for start in range(len(steps or ()) - 1):
        try:
            return [str(n) for n in estimator[start:-1].get_feature_names_out()]
        except Exception:  # noqa: BLE001, S112 - an audio step: try from the next one
            continue
    return None


def _durations(X, sr):
    """Clip durations in seconds from paths (file headers) or clips, or None."""
    from sklaudio.io._load import _is_loaded
    from sklaudio.utils._audio import carried_sr

    if _is_loaded(X):
        rate = carried_sr(X) or sr
        if rate is None:
            return None
        return np.array([len(np.asarray(c).reshape(-1)) / rate for c in X])
    import soundfile as sf

    out = []
    for p in np.asarray(X, dtype=object).reshape(-1):
        try:
            out.append(sf.info(os.fspath(p)).duration)
        except (RuntimeError, TypeError, OSError, sf.SoundFileError):
            return None  # not paths to readable files: no duration summary
    return np.array(out)


def training_summary(X=None, y=None, *, estimator=None):
    """Summarise the training data: number of clips, labels, duration range.

    Parameters
    ----------
    X : sequence of paths or clips, default=None
        What the estimator was fitted on.
    y : array-like, default=None
        The targets it was fitted on.
    estimator : estimator, default=None
        Used for the task (class counts or a range of values) and the sample rate of
        plain clips.

    Returns
    -------
    summary : dict
        ``n_clips``, and when known ``class_counts`` (classifiers), ``target_range``
        and ``target_mean`` (regressors), ``duration_s`` (min, median, max).

    Examples
    --------
    >>> from sklaudio.deploy._bundle import training_summary
    >>> training_summary(["a.wav", "b.wav", "c.wav"], ["f", "m", "f"])["class_counts"]
    {'f': 2, 'm': 1}
    """
    summary = {}
    if X is not None:
        summary["n_clips"] = len(X)
        sr = _expected_sr(estimator) if estimator is not None else None
        dur = _durations(X, sr)
        if dur is not None and len(dur):
            summary["duration_s"] = {"min": round(float(dur.min()), 4),
                                     "median": round(float(np.median(dur)), 4),
                                     "max": round(float(dur.max()), 4)}
    if y is not None:
        y_arr = np.asarray(y).reshape(-1)
        summary.setdefault("n_clips", len(y_arr))
        if len(y_arr) != summary["n_clips"]:
            raise ValueError(f"save_model: X has {summary['n_clips']} clips but y has "
                             f"{len(y_arr)} labels; pass the data the model was fitted on.")
        regression = estimator is not None and is_regressor(estimator)
        if regression or (estimator is None and y_arr.dtype.kind == "f"):
            y_arr = y_arr.astype(float)
            summary["target_range"] = [float(np.nanmin(y_arr)), float(np.nanmax(y_arr))]
            summary["target_mean"] = float(np.nanmean(y_arr))
        else:
            values, counts = np.unique(y_arr.astype(str) if y_arr.dtype == object else y_arr,
                                       return_counts=True)
            summary["class_counts"] = {str(v): int(c) for v, c in zip(values, counts)}
    return summary


def _describe(estimator, X, y, metadata):
    final = _final_step(estimator)
    task = ("classification" if is_classifier(estimator) else
            "regression" if is_regressor(estimator) else None)
    classes = getattr(final, "classes_", None)
    target = getattr(y, "name", None)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": _installed_versions(),
        "estimator": _class_path(type(estimator)),
        "task": task,
        "classes": None if classes is None or task != "classification" else
        _jsonable(classes, "classes_"),
        "target": None if target is None else str(target),
        "sr": _expected_sr(estimator),
        "input": _input_kind(estimator),
        "feature_names_in": _jsonable(getattr(estimator, "feature_names_in_", None),
                                      "feature_names_in_"),
        "feature_names": _feature_names(estimator),
        "training_data": _jsonable(training_summary(X, y, estimator=estimator),
                                   "training_data") if X is not None or y is not None else None,
        "reference": None,
        "sklaudio_classes": _sklaudio_classes(estimator),
        "user": {},
    }
    for key, value in (metadata or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"metadata keys must be strings; got {key!r}.")
        value = _jsonable(value, f"metadata[{key!r}]")
        # the user may state what cannot be derived (target, sr, training_data, ...)
        if key in ("target", "sr", "classes", "training_data", "input", "feature_names"):
            meta[key] = value
        elif key in meta:
            raise ValueError(f"metadata[{key!r}] is written by save_model itself; choose "
                             "another key.")
        else:
            meta["user"][key] = value
    return meta


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _seal(meta):
    """Add the checksum over everything else in the metadata."""
    meta = {k: v for k, v in meta.items() if k != "checksum"}
    meta["checksum"] = _sha256(json.dumps(meta, sort_keys=True).encode())
    return meta


def _dump(obj, fmt):
    if fmt == "pickle":
        import joblib

        buf = io.BytesIO()
        joblib.dump(obj, buf)
        return buf.getvalue()
    import skops.io as sio

    try:
        return sio.dumps(_encode(obj, {}), compression=zipfile.ZIP_DEFLATED)
    except TypeError as exc:
        raise BundleError(
            f"skops cannot store this estimator ({exc}). Save it with format='pickle' "
            "(only for files you will load yourself), or report which step fails."
        ) from exc


def save_model(estimator, path, *, metadata=None, reference=None, X=None, y=None,
               format="skops", overwrite=False):
    """Save a fitted estimator as a bundle that loads safely and says what it needs.

    The bundle records the library versions, the sample rate the model expects, its
    classes (or task), the names of its inputs and features, a summary of the training
    data when ``X``/``y`` are given, the parameters of every sklaudio class inside and
    checksums that reveal a changed file.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        The model, for instance the ``best_estimator_`` of a grid search.
    path : str or path-like
        The bundle file to write (any name; ``.sklaudio`` is a good suffix).
    metadata : dict, default=None
        Extra JSON-able facts (numbers, strings, lists, dicts). The keys ``target``,
        ``sr``, ``classes``, ``training_data``, ``input`` and ``feature_names`` replace
        what save_model derives; other keys are kept under ``metadata["user"]``.
    reference : fitted DriftMonitor or None, default=None
        A :class:`sklaudio.monitor.DriftMonitor` fitted on the training features, stored
        next to the model so the deployment can watch for drift.
    X : sequence of paths or clips, default=None
        The training inputs, for the summary (number of clips, duration range).
    y : array-like, default=None
        The training targets, for the summary (class counts or value range). A named
        Series also gives the target's name.
    format : {"skops", "pickle"}, default="skops"
        ``"skops"`` never runs code from the file when loading. ``"pickle"`` (joblib)
        stores anything but runs code when loaded: use it only for files you load
        yourself, never for files you share or receive.
    overwrite : bool, default=False
        Replace an existing file at ``path``.

    Returns
    -------
    metadata : dict
        What was stored in the bundle's ``metadata.json``.

    See Also
    --------
    load_model : Load the estimator back.
    read_metadata : Read a bundle's metadata without loading the model.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklaudio.deploy import load_model, save_model
    >>> clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], ["f", "f", "m", "m"])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> meta = save_model(clf, path, metadata={"target": "gender"})
    >>> meta["classes"], meta["target"]
    (['f', 'm'], 'gender')
    >>> load_model(path).predict([[0.2], [2.9]]).tolist()
    ['f', 'm']
    """
    if format not in _MODEL:
        raise ValueError(f"format={format!r}; expected 'skops' (safe to load) or 'pickle'.")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None; got {type(metadata).__name__}.")
    check_is_fitted(estimator)
    path = Path(os.fspath(path))
    if path.is_dir():
        raise IsADirectoryError(f"save_model: {str(path)!r} is a folder; give a file name.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"save_model: {str(path)!r} exists; pass overwrite=True to "
                              "replace it, or choose another name.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save_model: the folder {str(path.parent)!r} does not exist.")
    meta = _describe(estimator, X, y, metadata)
    meta["serializer"] = format
    payload = _dump(estimator, format)
    members = {_MODEL[format]: payload}
    if reference is not None:
        ref_payload = _dump(reference, "skops")
        members[_REFERENCE] = ref_payload
        meta["reference"] = {"member": _REFERENCE, "class": _class_path(type(reference)),
                             "sklaudio_classes": _sklaudio_classes(reference)}
        meta["reference"].update(_jsonable(_reference_facts(reference), "reference"))
    meta["payload"] = {name: {"sha256": _sha256(data), "bytes": len(data)}
                       for name, data in members.items()}
    meta = _seal(meta)
    tmp = path.with_name(path.name + ".partial")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(_META, json.dumps(meta, indent=1, sort_keys=True))
            for name, data in members.items():
                zf.writestr(name, data)
        os.replace(tmp, path)  # a crash never leaves half a bundle under the real name
    finally:
        if tmp.exists():
            tmp.unlink()
    return meta


def _reference_facts(reference):
    check_is_fitted(reference)
    facts = {}
    for attr in ("n_features_in_", "n_reference_"):
        if hasattr(reference, attr):
            facts[attr.rstrip("_")] = getattr(reference, attr)
    names = getattr(reference, "feature_names_in_", None)
    if names is not None:
        facts["feature_names"] = [str(n) for n in names]
    return facts


def _open_bundle(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model bundle not found: {path!r}.")
    try:
        zf = zipfile.ZipFile(path)
        names = set(zf.namelist())
        if _META not in names:
            raise BundleError(f"{path!r} is a zip file but not a sklaudio model bundle "
                              f"(no {_META}); save models with sklaudio.save_model.")
        meta = json.loads(zf.read(_META))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{path!r} is not a sklaudio model bundle, or it is damaged "
                          f"({exc}). A joblib/pickle file is not a bundle: load it with "
                          "joblib only if you made it yourself.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path!r}: its {_META} is damaged ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BundleError(f"{path!r} is not a sklaudio model bundle (format "
                          f"{meta.get('format') if isinstance(meta, dict) else None!r}).")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise BundleError(f"{path!r} is a bundle of format {meta['format_version']}, newer "
                          f"than this sklaudio reads ({FORMAT_VERSION}); upgrade sklaudio.")
    if _seal(meta).get("checksum") != meta.get("checksum"):
        raise BundleError(f"{path!r} was changed after it was saved: its metadata does not "
                          "match its checksum. Do not use it; ask for the original file.")
    return zf, meta


def _read_member(zf, meta, name, path):
    expected = meta.get("payload", {}).get(name, {}).get("sha256")
    try:
        data = zf.read(name)
    except KeyError as exc:
        raise BundleError(f"{path!r} has no {name}: the bundle is incomplete.") from exc
    except (zipfile.BadZipFile, OSError) as exc:  # a zip CRC failure: changed bytes
        raise BundleError(f"{path!r} is damaged or was changed after it was saved "
                          f"({name}: {exc}). Do not use it.") from exc
    if expected is None or _sha256(data) != expected:
        raise BundleError(f"{path!r} was changed after it was saved: {name} does not match "
                          "the checksum in its metadata. Do not use it; ask for the "
                          "original file.")
    return data


def read_metadata(path):
    """Read a bundle's metadata without loading the model (nothing from it is run).

    Parameters
    ----------
    path : str or path-like
        A bundle written by :func:`save_model`.

    Returns
    -------
    metadata : dict
        Versions, ``sr``, ``task``, ``classes``, ``target``, ``feature_names``,
        ``training_data``, ``reference``, ``user`` and the bundle's checksums.

    See Also
    --------
    save_model, load_model

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklaudio.deploy import read_metadata, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> _ = save_model(Ridge().fit([[0.0], [1.0]], [20.0, 40.0]), path, y=[20.0, 40.0])
    >>> meta = read_metadata(path)
    >>> meta["task"], meta["training_data"]["target_range"]
    ('regression', [20.0, 40.0])
    """
    zf, meta = _open_bundle(path)
    zf.close()
    return meta


def _check_versions(meta, path):
    saved = meta.get("versions", {})
    now = _installed_versions()
    diff = [f"{name} {saved[name]} (installed: {now.get(name)})"
            for name in _VERSIONED if saved.get(name) and saved.get(name) != now.get(name)]
    if diff:
        warnings.warn(
            f"{path!r} was saved with other library versions: {', '.join(diff)}. Its "
            "predictions may differ; re-save it with the installed versions after checking "
            "them.", BundleVersionWarning, stacklevel=3)


def _resolve_class(rec):
    """The installed class of a saved record: at its module, else at its public name."""
    module, _, name = rec["class"].rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        cls = None
    if cls is None:  # moved to another module: its public name still leads to it
        pmod, _, pname = rec.get("public", "").rpartition(".")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # an old public path, re-exported
            try:
                cls = getattr(importlib.import_module(pmod), pname, None) if pmod else None
            except ImportError:
                cls = None
    return cls if isinstance(cls, type) else None


def _check_classes(records, path, saved_version, what="model"):
    """Every sklaudio class must exist and take the parameters it had when saved.

    Returns
    -------
    moved : dict
        ``{saved class path: installed class path}`` for classes that moved module.
    """
    problems, moved = [], {}
    for rec in records:
        cls = _resolve_class(rec)
        if cls is None:
            problems.append(f"{rec['public']} no longer exists")
            continue
        if _class_path(cls) != rec["class"]:
            moved[rec["class"]] = _class_path(cls)
        saved, now = set(rec["params"]), set(cls._get_param_names())
        if saved != now:
            parts = []
            if now - saved:
                parts.append(f"added {sorted(now - saved)}")
            if saved - now:
                parts.append(f"removed {sorted(saved - now)}")
            problems.append(f"{rec['public']} has {' and '.join(parts)} since it was saved")
    if problems:
        raise BundleError(
            f"{path!r} ({what}) was saved with sklaudio {saved_version}, whose classes no "
            f"longer match the installed sklaudio: {'; '.join(problems)}. Retrain and save "
            "the model with the installed sklaudio, or install the version it was saved with.")
    return moved


def _remap_moved(data, moved):
    """Point skops's schema at the new module of classes that moved (same parameters)."""
    if not moved:
        return data

    def fix(node):
        if isinstance(node, dict):
            full = f"{node.get('__module__')}.{node.get('__class__')}"
            if full in moved:
                node["__module__"], _, node["__class__"] = moved[full].rpartition(".")
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with src, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(content)
                fix(schema)
                content = json.dumps(schema).encode()
            dst.writestr(item.filename, content)
    return out.getvalue()


def _trusted_types(untrusted, extra):
    """Split skops's list of needed types into trusted and refused ones."""
    extra = set(extra or ())
    refused = []
    for name in untrusted:
        parts = name.split(".")
        if name in extra:
            continue
        if parts[0] == "sklaudio":
            if _is_sklaudio_type(name):
                continue
        elif (parts[0] in _TRUSTED_ROOTS and not set(parts[1:-1]) & _UNSAFE_PARTS
              and parts[-1] not in _UNSAFE_NAMES):
            continue
        refused.append(name)
    return refused


def _is_sklaudio_type(name):
    """A class or function that the installed sklaudio defines (not the command line)."""
    module, _, attr = name.rpartition(".")
    if name == _class_path(_PandasPayload):
        return True
    if module.split(".")[1:2] in (["cli"], ["deploy"]):
        return False
    try:
        obj = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return False
    return (isinstance(obj, type) or callable(obj)) and (
        getattr(obj, "__module__", "") or "").split(".")[0] == "sklaudio"


def _skops_load(data, trusted, path, member, moved=None):
    import skops.io as sio

    data = _remap_moved(data, moved)
    untrusted = sio.get_untrusted_types(data=data)
    refused = _trusted_types(untrusted, trusted)
    if refused:
        raise UntrustedTypesError(
            f"{path!r} ({member}) contains types that are not trusted: {refused}. Loading "
            "them could run code from the file. If you know where the file comes from and "
            "trust these types, pass them: load_model(path, trusted=[...]).")
    obj = sio.loads(data, trusted=list(untrusted))
    return _decode(obj, set())


def load_bundle(path, *, trusted=None, allow_pickle=False):
    """Load a bundle: the estimator, its metadata, and the drift reference if stored.

    Parameters
    ----------
    path : str or path-like
        A bundle written by :func:`save_model`.
    trusted : list of str, default=None
        Further type names to trust (as given in the error that refused them). Types and
        functions of sklaudio, scikit-learn, imbalanced-learn, numpy and scipy are
        trusted already, except those that read or write files, download or compile
        (their I/O and data-set modules, ``numpy.load``, ``numpy.save``, ...).
    allow_pickle : bool, default=False
        Load a bundle saved with ``format="pickle"``. Unpickling runs code from the
        file: only for files you made yourself.

    Returns
    -------
    bundle : :class:`~sklearn.utils.Bunch`
        ``estimator``, ``metadata`` (dict) and ``reference`` (the fitted drift monitor,
        or None).

    Raises
    ------
    BundleError
        The file is not a bundle, was changed after saving, or holds sklaudio classes
        whose parameters differ from the installed ones.
    UntrustedTypesError
        The file needs types that are not trusted.

    See Also
    --------
    load_model : Only the estimator.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from sklaudio.deploy import load_bundle, save_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> _ = save_model(Ridge().fit([[0.0], [1.0]], [20.0, 40.0]), path)
    >>> bundle = load_bundle(path)
    >>> bundle.metadata["task"], bundle.reference
    ('regression', None)
    """
    from sklearn.utils import Bunch

    path = os.fspath(path)
    if trusted is not None and (isinstance(trusted, str) or not all(
            isinstance(t, str) for t in trusted)):
        raise TypeError(f"trusted must be a list of type names (str); got {trusted!r}.")
    zf, meta = _open_bundle(path)
    with zf:
        _check_versions(meta, path)
        saved_version = meta.get("versions", {}).get("sklaudio")
        moved = _check_classes(meta.get("sklaudio_classes", []), path, saved_version)
        serializer = meta.get("serializer")
        if serializer not in _MODEL:
            raise BundleError(f"{path!r}: unknown serializer {serializer!r}.")
        data = _read_member(zf, meta, _MODEL[serializer], path)
        if serializer == "pickle":
            if not allow_pickle:
                raise BundleError(
                    f"{path!r} was saved with format='pickle': loading it runs code from the "
                    "file. Only if you made it yourself, pass allow_pickle=True; to share "
                    "models, save them with the default format='skops'.")
            import joblib

            estimator = joblib.load(io.BytesIO(data))
        else:
            estimator = _skops_load(data, trusted, path, _MODEL[serializer], moved)
        reference = None
        if meta.get("reference"):
            ref_moved = _check_classes(meta["reference"].get("sklaudio_classes", []), path,
                                       saved_version, "drift reference")
            ref_data = _read_member(zf, meta, _REFERENCE, path)
            reference = _skops_load(ref_data, trusted, path, _REFERENCE, ref_moved)
    return Bunch(estimator=estimator, metadata=meta, reference=reference)


def load_model(path, *, trusted=None, allow_pickle=False):
    """Load the estimator of a bundle written by :func:`save_model`, safely.

    Checks before building anything: the file's checksums (a changed file is
    refused), the sklaudio classes' parameters (a bundle of classes that changed since
    it was saved fails here, not later at ``predict``), the types it needs (only
    sklaudio, scikit-learn, imbalanced-learn, numpy and scipy types and functions, less
    those that read or write files, unless ``trusted`` names more). Other library
    versions than the saving ones give a :class:`BundleVersionWarning` naming them.

    Parameters
    ----------
    path : str or path-like
        The bundle.
    trusted : list of str, default=None
        Further type names to trust, as named by :class:`UntrustedTypesError`.
    allow_pickle : bool, default=False
        Allow a bundle saved with ``format="pickle"`` (runs code from the file).

    Returns
    -------
    estimator : estimator
        The fitted estimator, ready to ``predict``.

    See Also
    --------
    save_model : Write a bundle.
    load_bundle : The estimator with its metadata and drift reference.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklaudio.deploy import load_model, save_model
    >>> clf = LogisticRegression().fit([[0.0], [1.0]], ["f", "m"])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.sklaudio")
    >>> _ = save_model(clf, path)
    >>> load_model(path).classes_.tolist()
    ['f', 'm']
    """
    return load_bundle(path, trusted=trusted, allow_pickle=allow_pickle).estimator
