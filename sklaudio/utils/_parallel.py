"""Per-clip work over many clips, serially or in parallel through joblib: ``map_clips``.

Every step that works clip by clip calls :func:`map_clips`, so these rules hold for all:

- **Batches, not clips.** Each parallel task is a run of consecutive clips of about
  equal total length, a few per worker (``_TASKS_PER_WORKER``): sending, pickling and
  scheduling cost once per batch, and a slow worker still leaves others something to take.
- **Serial when too small to pay.** Below ``_MIN_PARALLEL_SAMPLES`` samples in all, the
  clips run in the calling process (see that constant for why that figure).
- **Same bits for every n_jobs.** Matrix products round differently with several BLAS
  threads (the order of the partial sums changes), so every call of ``func`` runs with
  one BLAS / OpenMP thread, in the calling process and in the workers alike (the
  thread counts are restored afterwards). Parallel work comes from the workers.
- **Warnings reach the user.** Warnings raised in a worker process are recorded there
  and raised again in the calling process, in input order, where the user's warning
  filters apply as if the clips had run serially.
- **Clips through shared memory.** For worker processes on this machine (joblib's
  default backend), the clips are written once to a file in shared memory and each
  worker maps it, instead of each clip being pickled through a pipe: that copy cost
  the calling process as much CPU as the cheapest extractors' own work.
- **Any joblib backend.** The work goes through :class:`joblib.Parallel`, so
  ``joblib.parallel_config(backend="dask")`` runs it on a dask.distributed cluster.
  Clips travel to the workers; file paths must exist on the workers too.
"""

import os
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager, nullcontext

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

__all__ = ["map_clips"]

# Batches per worker: a few, so that an unevenly slow worker (a busy machine, clips
# whose cost is not proportional to their length) is balanced by the others taking
# the remaining batches, while each batch stays long enough that dispatch is noise.
_TASKS_PER_WORKER = 4

# Total samples below which map_clips runs serially. Sending a batch to a running
# worker and back costs about 1-3 ms; the cheapest steps process about a minute of
# 16 kHz audio per 50 ms. Below ~1e6 samples (a minute at 16 kHz) the whole job
# takes a few tens of ms serially, so splitting it gains less than dispatch costs.
_MIN_PARALLEL_SAMPLES = 1_000_000

# Samples per batch at most for workers that receive the clips through the network
# (dask): a few MB per task, which dask.distributed sends without its warning about
# large task graphs (from about 10 MB), and which no worker holds for long.
_MAX_REMOTE_BATCH_SAMPLES = 1_000_000

# Cost of an item that is neither an array nor a file path (unknown work): counted as
# a clip of this many samples, so a long list of such items still goes parallel.
_DEFAULT_ITEM_SAMPLES = 16_000


def _item_samples(item):
    """Rough cost of one item: its number of samples (arrays, tuples of them, files)."""
    if isinstance(item, np.ndarray):
        return item.size if item.dtype != object else sum(_item_samples(c) for c in item)
    if isinstance(item, (tuple, list)):
        return sum(_item_samples(c) for c in item)
    if isinstance(item, (str, os.PathLike)):
        try:
            return os.path.getsize(item) // 2  # 16-bit samples; compressed files count low
        except OSError:
            return _DEFAULT_ITEM_SAMPLES
    return _DEFAULT_ITEM_SAMPLES


def _batches(costs, n_batches):
    """Split ``range(len(costs))`` into at most ``n_batches`` runs of about equal cost.

    Item ``i`` goes to the run whose share of the total cost holds the midpoint of its
    own cost, so one item costlier than a share simply gets a run of its own.
    """
    c = np.asarray(costs, dtype=float) + 1.0  # +1: an empty clip still costs a call
    mid = np.cumsum(c) - c / 2
    shares = c.sum() * np.arange(1, n_batches) / n_batches
    bounds = np.unique(np.r_[0, np.searchsorted(mid, shares), len(c)])
    return [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


_controller = {"n_modules": -1, "controller": None}


def _threadpools():
    """threadpoolctl's controller, rebuilt only when new modules were imported.

    Building one inspects every loaded library (~2 ms); its ``limit`` costs ~15 us.
    A module imported later may load a new native library, hence the module count.
    """
    from threadpoolctl import ThreadpoolController

    if _controller["n_modules"] != len(sys.modules):
        _controller["controller"] = ThreadpoolController()
        _controller["n_modules"] = len(sys.modules)
    return _controller["controller"]


@contextmanager
def _one_thread():
    """Run the block with one BLAS and one OpenMP thread, then restore the previous counts."""
    limiter = _threadpools().limit(limits=1)
    try:
        yield
    finally:
        limiter.restore_original_limits()


_worker = threading.local()
_worker_state = {"pid": None, "recording": 0}
_worker_lock = threading.Lock()


def _install_recorder():
    """Once per worker process: send warnings into the running task's list, if any.

    The list is kept per thread (a dask worker may run several tasks at once in
    threads), which ``warnings.catch_warnings`` cannot do: it swaps global state under
    the other threads' feet. Outside a task, warnings are shown as before.
    """
    if _worker_state["pid"] == os.getpid():
        return
    original = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        sink = getattr(_worker, "sink", None)
        if sink is None:
            return original(message, category, filename, lineno, file, line)
        sink.append((message, category, filename, lineno))

    warnings.showwarning = showwarning
    _worker_state["pid"] = os.getpid()


@contextmanager
def _recording():
    """Record this thread's warnings, all of them: the caller's filters decide later.

    An "always" filter is in front while any task runs (counted across threads), so
    that the worker's own once-per-line memory hides no repeat, even one from an
    earlier task; it is removed when the last task ends.
    """
    _install_recorder()
    with _worker_lock:
        if _worker_state["recording"] == 0:
            warnings.simplefilter("always")
            _worker_state["always"] = warnings.filters[0]
        _worker_state["recording"] += 1
    _worker.sink = sink = []
    try:
        yield sink
    finally:
        _worker.sink = None
        with _worker_lock:
            _worker_state["recording"] -= 1
            if _worker_state["recording"] == 0 and _worker_state["always"] in warnings.filters:
                warnings.filters.remove(_worker_state["always"])
                warnings._filters_mutated()


def _run_batch(func, items, kwargs, caller_pid):
    """One parallel task: ``func`` on each item; returns (results, recorded warnings)."""
    if os.getpid() == caller_pid:
        # a thread of the calling process (threading backend, in-process dask): the
        # caller already holds one BLAS thread and its warnings reach the user directly
        return [func(item, **kwargs) for item in items], []
    with _one_thread(), _recording() as recorded:
        return [func(_own(item), **kwargs) for item in items], recorded


def _reraise(recorded):
    """Raise the warnings recorded in a worker again, here, as if raised here serially.

    Each goes through the registry of the module that raised it, as ``warnings.warn``
    would, so the default "once per line" rule holds across serial and parallel runs.
    """
    if not recorded:
        return
    modules = {getattr(m, "__file__", None): m for m in list(sys.modules.values())}
    for message, category, filename, lineno in recorded:
        module = modules.get(filename)
        registry = None if module is None else vars(module).setdefault("__warningregistry__", {})
        warnings.warn_explicit(message, category, filename, lineno, registry=registry)


# Plain arrays at least this large go to local worker processes through the shared
# file (smaller ones cost less to pickle than to map).
_SHARE_MIN_BYTES = 1 << 16


def _arrays_in(item):
    """The plain arrays in an item: the item itself, or inside its tuples and lists."""
    if type(item) is np.ndarray:
        if item.dtype != object and item.nbytes >= _SHARE_MIN_BYTES:
            yield item
    elif type(item) in (tuple, list):
        for x in item:
            yield from _arrays_in(x)


def _swap(item, views):
    """``item`` with each array found in ``views`` (by identity) replaced by its view."""
    if type(item) is np.ndarray:
        return views.get(id(item), item)
    if type(item) in (tuple, list):
        return type(item)(_swap(x, views) for x in item)
    return item


def _own(item):
    """A worker's private, writable copy of each mapped array in ``item``.

    So ``func`` sees what pickling would have given it, and nothing it returns can
    point into the shared file (joblib would send such a result back as a reference).
    """
    if isinstance(item, np.memmap):
        return np.array(item)
    if type(item) in (tuple, list):
        return type(item)(_own(x) for x in item)
    return item


def _shared_folder(nbytes):
    """/dev/shm when it has room to spare (a full tmpfs fails writes), else the temp folder."""
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize > 2 * nbytes and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except (OSError, AttributeError):
        pass
    return None


@contextmanager
def _shared(items):
    """``items`` whose large arrays are read-only views of one file in shared memory.

    joblib's process backends pickle an array backed by a memory-mapped file as the
    file's name and an offset, so the samples are copied once, here, into the file
    instead of being pickled for the pipe. The file is removed on exit (a worker's
    open mapping stays valid). Where the file cannot be written, ``items`` unchanged.
    """
    arrays = {id(a): a for item in items for a in _arrays_in(item)}
    if not arrays or os.name != "posix":
        yield items
        return
    total = sum(a.nbytes + 64 for a in arrays.values())
    fd, path = tempfile.mkstemp(prefix="sklaudio-clips-", suffix=".bin",
                                dir=_shared_folder(total))
    try:
        offsets = {}
        try:
            with os.fdopen(fd, "wb") as f:
                for key, a in arrays.items():
                    f.write(b"\0" * (-f.tell() % 64))  # aligned like any numpy buffer
                    offsets[key] = f.tell()
                    np.ascontiguousarray(a).tofile(f)
        except OSError:  # no room: the pipe, as without sharing
            yield items
            return
        mapped = np.memmap(path, mode="r")
        views = {key: mapped[o : o + a.nbytes].view(a.dtype).reshape(a.shape)
                 for (key, a), o in zip(arrays.items(), offsets.values())}
        yield [_swap(item, views) for item in items]
    finally:
        os.unlink(path)


class _Progress:
    """The progress line on stderr: ``desc: [####....] i/n 1.2s``."""

    def __init__(self, desc, n, verbose):
        self.desc, self.n, self.verbose = desc, n, verbose
        self.done, self.shown, self.start = 0, 0, time.perf_counter()
        self.step = max(1, n // 50)

    def advance(self, k):
        self.done += k
        if not self.verbose or (self.done - self.shown < self.step and self.done < self.n):
            return
        self.shown = self.done
        width = 30
        bar = int(width * self.done / self.n)
        sys.stderr.write(
            f"\r{self.desc}: [{'#' * bar}{'.' * (width - bar)}] {self.done}/{self.n} "
            f"{time.perf_counter() - self.start:.1f}s"
        )
        sys.stderr.flush()

    def close(self):
        if self.verbose:
            sys.stderr.write("\n")


def map_clips(func, clips, *, n_jobs=None, verbose=0, desc="clips", **kwargs):
    """Apply ``func(clip, **kwargs)`` to each clip, in order, optionally in parallel.

    In parallel, each worker receives batches of consecutive clips of about equal
    total length, a few batches per worker; a job too small to gain from parallel
    work runs serially. The results are the same, bit for bit, for every ``n_jobs``
    and joblib backend, and warnings raised in worker processes are raised again
    here, in input order.

    Parameters
    ----------
    func : callable
        Module-level function (so joblib can send it to workers).

    clips : sequence of 1-D ndarray
        The clips (or any items ``func`` takes).

    n_jobs : int or None, default=None
        joblib's meaning: None is 1 unless in a ``joblib.parallel_config`` context, -1
        all cores. ``parallel_config(backend="dask")`` sends the batches to a
        dask.distributed cluster.

    verbose : int, default=0
        When > 0, print a progress line to stderr.

    desc : str, default="clips"
        Label of the progress line.

    **kwargs : dict
        Keyword arguments passed to every call of ``func``.

    Returns
    -------
    results : list
        ``func``'s results, one per clip, in input order.

    See Also
    --------
    joblib.Parallel : The parallel loop behind it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.utils import map_clips
    >>> map_clips(np.sum, [np.ones(2), np.ones(3)])
    [np.float64(2.0), np.float64(3.0)]
    """
    n = len(clips)
    progress = _Progress(desc, n, verbose)
    n_workers = effective_n_jobs(n_jobs) if n > 1 else 1
    costs = [_item_samples(c) for c in clips] if n_workers > 1 else []
    out = []
    with _one_thread():
        if n_workers == 1 or sum(costs) < _MIN_PARALLEL_SAMPLES:
            for c in clips:
                out.append(func(c, **kwargs))
                progress.advance(1)
        else:
            backend, _ = get_active_backend()
            # joblib's own process backends (loky, multiprocessing) run on this machine
            local = type(backend).__name__ in ("LokyBackend", "MultiprocessingBackend")
            n_batches = n_workers * _TASKS_PER_WORKER
            if not local:
                n_batches = max(n_batches, -(-sum(costs) // _MAX_REMOTE_BATCH_SAMPLES))
            batches = _batches(costs, min(n, n_batches))
            pid = os.getpid()
            with _shared(list(clips)) if local else nullcontext(clips) as items:
                results = Parallel(n_jobs=n_jobs, return_as="generator")(
                    delayed(_run_batch)(func, [items[i] for i in b], kwargs, pid)
                    for b in batches
                )
                for batch_out, recorded in results:
                    _reraise(recorded)
                    out.extend(batch_out)
                    progress.advance(len(batch_out))
    progress.close()
    return out
