"""One process at a time fills numba's on-disk cache of librosa's compiled functions.

librosa compiles several numba functions with ``cache=True`` when its modules are
imported (``librosa.util``'s peak picker and local maxima, ``librosa.core``'s zero
crossings and parabolic interpolation), and reads or writes them in numba's cache
folder (``NUMBA_CACHE_DIR``, else beside librosa's sources). Processes that fill an
empty cache at the same moment (a GridSearchCV with ``n_jobs=2``, two notebooks,
joblib workers, a service with several workers) can leave index and data files that
do not match: one of them crashed, and every later run loading that cache crashed too.

``import sklaudio`` installs an import hook (stdlib only, nothing is imported) that
runs the import of each ``librosa`` module while holding an exclusive file lock
(:func:`fcntl.flock` on a file in the temporary folder, one per cache folder). The
first process compiles and writes the cache; the others wait, then load it. sklaudio's
own numba kernels compile with ``cache=False``, so they write no shared cache.
Platforms without :mod:`fcntl` (Windows) import librosa unlocked.
"""

import hashlib
import importlib.abc
import os
import sys
import tempfile
import threading
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["install", "librosa_import_lock"]

_THREAD_LOCK = threading.RLock()
_state = {"depth": 0, "fd": None}


def _lock_path():
    # one lock per cache folder: NUMBA_CACHE_DIR, or (unset) the folder beside librosa,
    # which is the same for every process of one Python environment
    where = os.environ.get("NUMBA_CACHE_DIR") or sys.prefix
    digest = hashlib.sha1(os.path.abspath(where).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"sklaudio-numba-{digest}.lock")


@contextmanager
def librosa_import_lock():
    """Hold the inter-process lock of the numba cache (reentrant within a process)."""
    with _THREAD_LOCK:
        if _state["depth"] == 0 and fcntl is not None:
            try:
                fd = os.open(_lock_path(), os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:  # an unwritable temporary folder: go on unlocked
                fd = None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            _state["fd"] = fd
        _state["depth"] += 1
        try:
            yield
        finally:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["fd"] is not None:
                fcntl.flock(_state["fd"], fcntl.LOCK_UN)
                os.close(_state["fd"])
                _state["fd"] = None


class _LockedLoader(importlib.abc.Loader):
    """Run another loader's ``exec_module`` under :func:`librosa_import_lock`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with librosa_import_lock():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # get_source, get_filename, is_package, ...
        return getattr(self._loader, name)


class _LibrosaFinder(importlib.abc.MetaPathFinder):
    """Find ``librosa`` modules with the other finders, and lock their execution."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "librosa" and not fullname.startswith("librosa."):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _LockedLoader(spec.loader)
        return spec


def install():
    """Install the import hook once per process (librosa imported before it is not locked)."""
    if not any(isinstance(f, _LibrosaFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _LibrosaFinder())
