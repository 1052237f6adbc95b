"""Per-clip work over many clips, serially or in parallel through joblib: ``map_clips``.

Every step that works clip by clip calls :func:`map_clips`, so these rules hold for all:

- **Batches, not clips.** The clips are cut into runs of consecutive clips of about
  equal total length, several per process (``_BATCHES_PER_PROCESS``), so that a slow
  process (a busy machine, clips whose cost is not proportional to their length) is
  balanced by the others taking the remaining runs.
- **Serial when too small to pay.** Below ``_MIN_PARALLEL_SAMPLES`` samples in all, the
  clips run in the calling process (see that constant for why that figure).
- **Same bits for every n_jobs.** Matrix products round differently with several BLAS
  threads (the order of the partial sums changes), so every call of ``func`` runs with
  one BLAS / OpenMP thread, in the calling process and in the workers alike (the
  thread counts are restored afterwards). Parallel work comes from the processes.
- **Warnings reach the user.** Warnings raised in a worker process are recorded there
  and raised again in the calling process, in input order, where the user's warning
  filters apply as if the clips had run serially.
- **Worker processes on this machine** (joblib's default backend): the calling process
  works too, instead of waiting. The clips are copied once into a file in shared
  memory that is kept and reused by the next call (its pages are already there), and
  each of the ``n_jobs - 1`` workers gets one task that maps the file once and takes
  runs of clips from the end while the calling process takes them from the start,
  until they meet. Sending, pickling and scheduling thus cost once per worker and
  call, not once per run: with the cheapest extractors a run costs little more than
  sending it would (see ``_Arena``).
- **Workers keep freed memory** for their next clips (glibc's ``mallopt``, set once per
  worker process; see ``_tune_worker_allocator``). The calling process's allocator is
  the user's and is left alone.
- **Any joblib backend.** The work goes through :class:`joblib.Parallel`, so
  ``joblib.parallel_config(backend="dask")`` runs it on a dask.distributed cluster.
  Clips travel to the workers; file paths must exist on the workers too.
"""

import atexit
import os
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager

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
        return [func(item, **kwargs) for item in items], recorded


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
# file (smaller ones cost less to pickle than to copy and map).
_SHARE_MIN_BYTES = 1 << 16

# Runs of clips per process (the workers and the calling process) on this machine:
# taking a run costs a lock of the shared file (microseconds), so runs can be short,
# which keeps the wait for the last one short.
_BATCHES_PER_PROCESS = 16

# Runs written ahead of each worker: while the calling process works through one of
# its runs, a worker takes about one (runs are of equal length), so a few keep it busy.
_WRITE_AHEAD = 3

# The shared file is kept for the next call up to this size (a larger one is removed
# at the end of its call, so that a one-off big job leaves no memory behind).
_ARENA_KEEP_BYTES = 256 << 20

# The file's header: four int64, the call's token, the next run from the start (taken
# by the calling process), one past the next run from the end (workers), and the first
# run whose clips are written (workers take only those).
_HEADER = 64


class _Slot:
    """Where an array of an item lies in the shared file (sent instead of the samples)."""

    __slots__ = ("offset", "dtype", "shape")

    def __init__(self, offset, dtype, shape):
        self.offset, self.dtype, self.shape = offset, dtype, shape

    def __reduce__(self):
        return _Slot, (self.offset, self.dtype, self.shape)


def _arrays_in(item):
    """The plain arrays in an item: the item itself, or inside its tuples and lists."""
    if type(item) is np.ndarray:
        if item.dtype != object and item.nbytes >= _SHARE_MIN_BYTES:
            yield item
    elif type(item) in (tuple, list):
        for x in item:
            yield from _arrays_in(x)


def _swap(item, slots):
    """``item`` with each array found in ``slots`` (by identity) replaced by its slot."""
    if type(item) is np.ndarray:
        return slots.get(id(item), item)
    if type(item) in (tuple, list):
        return type(item)(_swap(x, slots) for x in item)
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


class _Arena:
    """A file in shared memory holding a call's clips and the counters of the runs taken.

    The calling process copies clips in, run by run from the last, a few runs ahead of
    the workers (:func:`_write_ahead`); each worker maps the file once (the mapping is
    kept for the next call, see :func:`_worker_arena`) and copies out the clips of the
    runs it takes. An array in several runs is copied with the last of them: a worker
    that takes a run has taken every later one. Runs are taken under a lock of the file's header
    (``fcntl.lockf``, which holds across processes): the calling process from the
    start, the workers from the end, so the calling process's runs are always the
    first ones (its warnings, raised as they come, stay in input order).

    The file is reused by the next call while it is big enough, because writing into
    pages already in memory costs about a third of writing a new file (the kernel
    need not find and clear the pages again): with the cheapest extractors the copy
    is a noticeable part of the parallel run.
    """

    def __init__(self, nbytes):
        import mmap

        size = _HEADER + nbytes
        folder = _shared_folder(size)
        _remove_orphans(folder or tempfile.gettempdir())
        fd, self.path = tempfile.mkstemp(prefix=f"sklaudio-clips-{os.getpid()}-",
                                         suffix=".bin", dir=folder)
        try:
            os.ftruncate(fd, size)
            self.mm = mmap.mmap(fd, size)
        except OSError:
            os.close(fd)
            os.unlink(self.path)
            raise
        self.fd, self.capacity, self.pid = fd, nbytes, os.getpid()
        self.lock = threading.Lock()  # one call at a time in this process

    def layout(self, items, runs):
        """Place the large arrays of ``items``; return the items with slots instead.

        Nothing is copied yet: :meth:`write_run` copies a run's arrays (each array
        with the last run that holds it, as runs are written from the end).
        """
        slots, where, offset = {}, {}, _HEADER
        for a in (a for item in items for a in _arrays_in(item)):
            if id(a) not in slots:
                offset += -offset % 64  # aligned like any numpy buffer
                slots[id(a)] = _Slot(offset, a.dtype.str, a.shape)
                where[id(a)] = (a, offset)
                offset += a.nbytes
        last = {id(a): r for r, run in enumerate(runs) for i in run
                for a in _arrays_in(items[i])}
        self.unwritten = [[] for _ in runs]
        for key, r in last.items():
            self.unwritten[r].append(where[key])
        return [_swap(item, slots) for item in items]

    def write_run(self, r):
        for a, offset in self.unwritten[r]:
            view = np.frombuffer(self.mm, dtype=a.dtype, count=a.size, offset=offset)
            view.reshape(a.shape)[...] = a
        self.unwritten[r] = []

    def start(self, token, n_runs):
        _counters(self.mm)[:] = (token, 0, n_runs, n_runs)

    def stop(self):
        """Let the workers take no more runs."""
        with _locked(self.fd):
            _counters(self.mm)[0] = 0

    def close(self):
        _close_map(self.mm, self.fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _remove_orphans(folder):
    """Remove the shared files of processes that ended without removing theirs (killed)."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith("sklaudio-clips-")]
    except OSError:
        return
    for name in names:
        try:
            os.kill(int(name.split("-")[2]), 0)
        except ProcessLookupError:  # no such process: its file is an orphan
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
        except (ValueError, IndexError, OSError):  # alive (maybe another user's), or odd
            pass


def _needed_bytes(items):
    arrays = {id(a): a for item in items for a in _arrays_in(item)}
    return sum(a.nbytes + 64 for a in arrays.values())


def _counters(mm):
    return np.frombuffer(mm, dtype=np.int64, count=4)


@contextmanager
def _locked(fd):
    """The header's lock (``fcntl.lockf`` holds across processes)."""
    import fcntl

    fcntl.lockf(fd, fcntl.LOCK_EX, 8, 0)
    try:
        yield
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 8, 0)


_NOT_YET = -1


def _take(mm, fd, token, from_end):
    """The index of the next run (from the start or the end), or None when none is left.

    From the end (a worker), ``_NOT_YET`` when the next run's clips are not written yet.
    """
    c = _counters(mm)
    with _locked(fd):
        if c[0] != token or c[1] >= c[2]:
            return None
        if from_end:
            if c[2] - 1 < c[3]:
                return _NOT_YET
            c[2] -= 1
            return int(c[2])
        c[1] += 1
        return int(c[1] - 1)


def _write_ahead(arena, margin):
    """Write runs from the end until ``margin`` runs the workers have not taken are
    written, or all but the run the calling process takes next."""
    c = _counters(arena.mm)
    while True:
        with _locked(arena.fd):
            front, back, ready = int(c[1]), int(c[2]), int(c[3])
        if ready - 1 <= front or back - ready >= margin:
            return
        arena.write_run(ready - 1)
        with _locked(arena.fd):
            c[3] = ready - 1


_arena = {"kept": None}
_arena_lock = threading.Lock()


@contextmanager
def _call_arena(items):
    """A shared file holding ``items`` for this call (the kept one when free and big
    enough), or None where it cannot be written (the pipe is used then)."""
    if os.name != "posix":
        yield None
        return
    nbytes = _needed_bytes(items)
    arena = None
    with _arena_lock:
        kept = _arena["kept"]
        if kept is not None and kept.pid != os.getpid():  # a forked child: not its file
            _arena["kept"] = kept = None
        if kept is not None and kept.capacity >= nbytes and kept.lock.acquire(blocking=False):
            arena = kept
    if arena is None:
        try:
            arena = _Arena(nbytes)
        except OSError:
            yield None
            return
        arena.lock.acquire()
    try:
        yield arena
    finally:
        arena.lock.release()
        with _arena_lock:
            if arena is not _arena["kept"]:
                if arena.capacity <= _ARENA_KEEP_BYTES and (
                        _arena["kept"] is None or not _arena["kept"].lock.locked()):
                    if _arena["kept"] is not None:
                        _arena["kept"].close()
                    _arena["kept"] = arena
                else:
                    arena.close()
            elif arena.capacity > _ARENA_KEEP_BYTES:
                _arena["kept"] = None
                arena.close()


def _drop_kept_arena():
    with _arena_lock:
        kept, _arena["kept"] = _arena["kept"], None
    if kept is not None and kept.pid == os.getpid():
        kept.close()


atexit.register(_drop_kept_arena)

_worker_map = {"path": None}


def _close_map(mm, fd):
    try:
        mm.close()
    except BufferError:  # a view still points into it: it goes with the view
        pass
    os.close(fd)


def _unmap():
    """Drop the worker's mapping (a removed file's memory is freed once unmapped)."""
    if _worker_map["path"] is not None:
        _close_map(_worker_map.pop("mm"), _worker_map.pop("fd"))
        _worker_map["path"] = None


def _worker_arena(path):
    """The worker's mapping of the shared file: opened once, kept while the path stays."""
    import mmap

    if _worker_map["path"] != path:
        _unmap()
        fd = os.open(path, os.O_RDWR)
        _worker_map.update(path=path, fd=fd, mm=mmap.mmap(fd, 0))
    return _worker_map["mm"], _worker_map["fd"]


def _resolve(item, mm):
    """A worker's private, writable copy of each array of ``item`` held in the file.

    So ``func`` sees what pickling would have given it, and nothing it returns can
    point into the shared file.
    """
    if type(item) is _Slot:
        n = int(np.prod(item.shape))
        return np.frombuffer(mm, dtype=item.dtype, count=n,
                             offset=item.offset).reshape(item.shape).copy()
    if type(item) in (tuple, list):
        return type(item)(_resolve(x, mm) for x in item)
    return item


# The C allocator's settings in the worker processes (glibc's ``mallopt``). By default,
# glibc hands back to the system any large block freed at the top of its heap, and
# serves blocks above a moving threshold with fresh pages; the next clip's frames and
# spectra then fault in and zero those pages again. With the cheapest extractors this
# cost up to a fifth of a worker's time (perf: 23 % of MelFeatures' worker samples were
# the kernel clearing pages). Blocks up to 32 MB (glibc's ceiling) now come from the
# heap, and up to 128 MB of freed memory stays with the worker for the next clip.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_WORKER_MMAP_THRESHOLD = 32 << 20
_WORKER_TRIM_THRESHOLD = 128 << 20
_allocator = {"pid": None}


def _tune_worker_allocator():
    """Once per worker process: keep freed memory for the next clips (see above).

    Only in worker processes (the caller's allocator is the user's), only with glibc;
    elsewhere nothing changes.
    """
    if _allocator["pid"] == os.getpid():
        return
    _allocator["pid"] = os.getpid()
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _WORKER_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, _WORKER_TRIM_THRESHOLD)


def _drain(func, path, token, runs, kwargs, keep):
    """One worker's task: take runs from the end of the shared file's list until none is left.

    Returns ``[(run index, results, recorded warnings), ...]``. The file stays mapped
    for the next call if the calling process keeps it (``keep``).
    """
    try:
        mm, fd = _worker_arena(path)
    except OSError:  # the file is gone (a task that started after its call ended) or
        return []  # cannot be opened here: the calling process takes every run
    _tune_worker_allocator()
    done = []
    with _one_thread():
        while (r := _take(mm, fd, token, from_end=True)) is not None:
            if r == _NOT_YET:  # the calling process is still copying clips in
                time.sleep(0.0002)
                continue
            with _recording() as recorded:
                out = [func(_resolve(item, mm), **kwargs) for item in runs[r]]
            done.append((r, out, recorded))
    if not keep:
        _unmap()
    return done


def _finish_in_background(results):
    """Consume the rest of a joblib result generator in a thread (joblib must see every
    task end: a generator dropped unfinished aborts the tasks, which kills workers)."""

    def consume():
        try:
            for _ in results:
                pass
        except Exception:  # the call has its results: nothing to report here
            pass

    threading.Thread(target=consume, name="sklaudio-finish", daemon=True).start()


def _map_local(func, clips, costs, n_workers, n_jobs, kwargs, progress):
    """map_clips on worker processes of this machine, the calling process working too."""
    runs = _batches(costs, min(len(clips), n_workers * _BATCHES_PER_PROCESS))
    with _call_arena(list(clips)) as arena:
        if arena is None:
            return None
        shared = arena.layout(list(clips), runs)
        token = int.from_bytes(os.urandom(7), "little")
        arena.start(token, len(runs))
        sent = [[shared[i] for i in run] for run in runs]
        # the workers start at once; the clips are copied in from the last run on, a
        # few runs ahead of them (those the calling process takes are never copied)
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered",
                           pre_dispatch="all", batch_size=1)(
            delayed(_drain)(func, arena.path, token, sent, kwargs,
                            arena.capacity <= _ARENA_KEEP_BYTES)
            for _ in range(n_workers - 1)
        )
        margin = _WRITE_AHEAD * (n_workers - 1)
        own = {}
        try:
            _write_ahead(arena, margin)
            while (r := _take(arena.mm, arena.fd, token, from_end=False)) is not None:
                own[r] = [func(clips[i], **kwargs) for i in runs[r]]
                progress.advance(len(runs[r]))
                _write_ahead(arena, margin)
        except BaseException:
            arena.stop()
            try:  # let them finish theirs before the file is reused
                for _ in results:
                    pass
            except Exception:
                pass
            raise
        claimed = len(runs) - len(own)  # all runs are taken now
        arena.stop()  # a worker that starts only now finds nothing to take
        theirs, returned = {}, 0
        if claimed:
            for chunk in results:  # a task returns once it found nothing left to take
                returned += 1
                for r, out, recorded in chunk:
                    theirs[r] = (out, recorded)
                    progress.advance(len(out))
                if len(theirs) == claimed:
                    break
        if returned == n_workers - 1:
            for _ in results:  # every task has returned: this ends at once
                pass
        else:  # tasks that took nothing, such as those of workers still starting (the
            # first call of a session), are not waited for: they end in the background
            _finish_in_background(results)
    out = []
    for r in range(len(runs)):
        if r in own:
            out.extend(own[r])
        else:
            batch_out, recorded = theirs[r]
            _reraise(recorded)
            out.extend(batch_out)
    return out


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
            done = None
            if local:
                done = _map_local(func, clips, costs, n_workers, n_jobs, kwargs, progress)
            if done is not None:
                out = done
            else:  # elsewhere (dask), in threads, or no shared file: batches through joblib
                n_batches = n_workers * _TASKS_PER_WORKER
                if not local:
                    n_batches = max(n_batches, -(-sum(costs) // _MAX_REMOTE_BATCH_SAMPLES))
                batches = _batches(costs, min(n, n_batches))
                pid = os.getpid()
                results = Parallel(n_jobs=n_jobs, return_as="generator")(
                    delayed(_run_batch)(func, [clips[i] for i in b], kwargs, pid)
                    for b in batches
                )
                for batch_out, recorded in results:
                    _reraise(recorded)
                    out.extend(batch_out)
                    progress.advance(len(batch_out))
    progress.close()
    return out
