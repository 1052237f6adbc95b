"""map_clips: batches of clips, serial when too small, the same bits for every n_jobs,
worker warnings raised again in input order, and a real dask LocalCluster."""

import os
import sys
import time
import warnings

import joblib
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import sklaudio.utils._parallel as par
from sklaudio.exceptions import AudioWarning
from sklaudio.features import MelFeatures
from sklaudio.utils import ClipArray, map_clips
from tests.conftest import harmonic

SR = 16000


@pytest.fixture
def always_parallel(monkeypatch):
    """Make any job big enough to go parallel (the threshold is read in this process)."""
    monkeypatch.setattr(par, "_MIN_PARALLEL_SAMPLES", 0)


def _product(seed):
    """A float32 matrix product whose last bits depend on the number of BLAS threads."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((64, 513)).astype(np.float32)
    B = rng.standard_normal((513, 40)).astype(np.float32)
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return A @ B, max(blas)


def _pid(clip):
    return os.getpid()


def _warn_some(i):
    if i % 3 == 0:
        warnings.warn(f"clip {i} is odd", AudioWarning)
    return i


def _warn_same(i):
    warnings.warn("the same words each time", AudioWarning)
    return i


def _clips(n, seconds=0.4):
    return ClipArray([harmonic(110.0 + 15 * i, sr=SR, duration=seconds + 0.03 * i)
                      for i in range(n)], sr=SR)


def test_every_n_jobs_gives_the_same_bits(always_parallel):
    """Check a product that rounds by BLAS thread count: serial and 2 jobs agree exactly.

    The parent runs with two BLAS threads, as a 2-core machine does by default; every
    call must see one, in the parent and in the workers.
    """
    with threadpool_limits(limits=2, user_api="blas"):
        runs = {n: map_clips(_product, list(range(6)), n_jobs=n) for n in (1, 2)}
    for n, run in runs.items():
        assert [threads for _, threads in run] == [1] * 6, n
        for (a, _), (b, _) in zip(runs[1], run):
            np.testing.assert_array_equal(a, b)


def test_mel_features_identical_across_n_jobs(always_parallel):
    """Check MelFeatures on clips of different lengths: n_jobs=1 and 2 give the same bits."""
    X = _clips(8)
    with threadpool_limits(limits=2, user_api="blas"):
        one = MelFeatures(n_jobs=1).fit(X).transform(X)
        two = MelFeatures(n_jobs=2).fit(X).transform(X)
    np.testing.assert_array_equal(one, two)


def test_batches_are_contiguous_and_balanced_by_length():
    """Check the split: every item once, in order, shares of equal total length."""
    equal = par._batches([100] * 100, 8)
    assert [i for b in equal for i in b] == list(range(100))
    assert sorted({len(b) for b in equal}) == [12, 13]
    # one long clip in the middle gets a batch of its own; the short ones share the rest
    costs = [10] * 20 + [10_000] + [10] * 20
    split = par._batches(costs, 4)
    assert [i for b in split for i in b] == list(range(41))
    assert range(20, 21) in split
    assert par._batches([5, 5], 8) == [range(0, 1), range(1, 2)]


class _CountingParallel(joblib.Parallel):
    tasks = []

    def __call__(self, iterable):
        tasks = list(iterable)
        _CountingParallel.tasks.append(len(tasks))
        return super().__call__(tasks)


def _meet(marker, caller):
    """In the calling process, wait until a worker has begun; in a worker, say it has.

    So that both take part whatever the machine's load (a worker may need seconds to
    start): the calling process takes runs from the start, the worker from the end.
    """
    if os.getpid() == caller:
        deadline = time.monotonic() + 120
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
    else:
        open(marker, "a").close()


def _pid_after_meeting(item):
    i, marker, caller = item
    _meet(marker, caller)
    return i, os.getpid()


def test_calling_process_takes_runs_from_the_start_and_workers_from_the_end(
        always_parallel, tmp_path, monkeypatch):
    """Check 2 jobs send one task to one worker, both processes work, results in order."""
    monkeypatch.setattr(par, "Parallel", _CountingParallel)
    _CountingParallel.tasks = []
    marker = str(tmp_path / "worker-started")
    out = map_clips(_pid_after_meeting, [(i, marker, os.getpid()) for i in range(40)],
                    n_jobs=2)
    assert [i for i, _ in out] == list(range(40))
    assert _CountingParallel.tasks == [1]
    pids = [pid for _, pid in out]
    mine = pids.count(os.getpid())
    assert 0 < mine < 40
    assert pids[:mine] == [os.getpid()] * mine  # its runs are the first ones
    assert os.getpid() not in pids[mine:]


def test_workers_off_this_machine_get_batches_of_bounded_size(monkeypatch):
    """Check a backend that ships clips over the network gets at most a million samples a task.

    The threading backend stands in for dask here (neither maps the shared file).
    """
    monkeypatch.setattr(par, "Parallel", _CountingParallel)
    _CountingParallel.tasks = []
    clips = [np.zeros(250_000, dtype=np.float32)] * 40  # 10 million samples
    with joblib.parallel_config(backend="threading"):
        out = map_clips(np.size, clips, n_jobs=2)
    assert out == [250_000] * 40
    assert _CountingParallel.tasks == [10]


def test_small_jobs_run_serially():
    """Check the threshold: two short clips stay in this process."""
    short = [np.zeros(SR), np.zeros(SR)]
    assert map_clips(_pid, short, n_jobs=2) == [os.getpid()] * 2


def _negate_in_place(item):
    y, k, marker, caller = item
    _meet(marker, caller)
    y *= -k
    return y, os.getpid()


def test_workers_get_private_copies_of_the_shared_clips(always_parallel, tmp_path,
                                                        monkeypatch):
    """Check workers get private writable copies, return plain arrays, and the file goes.

    Each call negates its clip in place and returns it: the clips a worker handled
    must not change in the caller, the results must be ordinary arrays (not views of
    the shared file) with the negated samples. The file is kept for the next call,
    which reuses it, and removed at exit.
    """
    par._drop_kept_arena()
    monkeypatch.setattr(par, "_shared_folder", lambda nbytes: str(tmp_path))
    n = par._SHARE_MIN_BYTES // 8
    for call in range(2):
        clips = [np.full(n, float(i)) for i in range(40)]
        marker = str(tmp_path / f"worker-started-{call}")
        # one array sent twice
        items = [(c, 2, marker, os.getpid()) for c in clips] + [(clips[0], 3, marker, 0)]
        out = map_clips(_negate_in_place, items, n_jobs=2)
        assert [type(y) for y, _ in out] == [np.ndarray] * 41
        assert all(y.flags.writeable for y, _ in out)
        theirs = [i for i, (_, pid) in enumerate(out[:-1]) if pid != os.getpid()]
        assert theirs, "no clip went to a worker"
        for i in theirs:
            assert float(out[i][0][0]) == -2.0 * i
            assert float(clips[i][-1]) == float(i)  # the caller's clip is untouched
        assert len(list(tmp_path.glob("sklaudio-clips-*"))) == 1
    par._drop_kept_arena()
    assert list(tmp_path.glob("sklaudio-clips-*")) == []


def test_worker_warnings_are_raised_here_in_input_order(always_parallel):
    """Check each warning of a worker reaches the caller, once, in clip order."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = map_clips(_warn_some, list(range(12)), n_jobs=2)
    assert out == list(range(12))
    assert [str(w.message) for w in caught] == [f"clip {i} is odd" for i in (0, 3, 6, 9)]
    assert {w.category for w in caught} == {AudioWarning}
    assert {os.path.basename(w.filename) for w in caught} == {"test_parallel.py"}


def test_warning_filters_of_the_caller_apply_as_in_a_serial_run(always_parallel):
    """Check "default" shows a repeated warning once, "always" every time, "ignore" never.

    The repeats come from one line, as in a loop over clips; a second parallel call must
    still report them (the worker's own memory of shown warnings must not hide them).
    """
    counts = {}
    for action in ("default", "always", "ignore"):
        for n_jobs in (1, 2, 2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter(action)
                map_clips(_warn_same, list(range(10)), n_jobs=n_jobs)
            counts.setdefault(action, []).append(len(caught))
    assert counts == {"default": [1, 1, 1], "always": [10, 10, 10], "ignore": [0, 0, 0]}


def test_progress_line_counts_every_clip(always_parallel, capsys):
    """Check the progress line reaches n/n with clips done in batches."""
    map_clips(np.size, [np.ones(3)] * 20, n_jobs=2, verbose=1, desc="test")
    err = capsys.readouterr().err
    assert err.endswith("\n") and "test: [" in err
    assert err.rstrip().rsplit("\r", 1)[-1].split("]")[1].split()[0] == "20/20"


@pytest.fixture(scope="module")
def dask_client():
    try:
        import distributed
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("dask.distributed is not installed (pip install -e '.[dev]')")
        pytest.skip("dask.distributed is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_dask_cluster_gives_the_serial_bits_and_warnings(dask_client, always_parallel):
    """Check MelFeatures on a real LocalCluster (worker processes) equals the serial run."""
    X = _clips(6)
    serial = MelFeatures().fit(X).transform(X)
    with joblib.parallel_config(backend="dask"):
        remote = MelFeatures(n_jobs=2).fit(X).transform(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pids = map_clips(_pid, [np.zeros(4)] * 4, n_jobs=2)
            map_clips(_warn_some, list(range(7)), n_jobs=2)
    np.testing.assert_array_equal(remote, serial)
    assert os.getpid() not in pids
    assert [str(w.message) for w in caught] == [f"clip {i} is odd" for i in (0, 3, 6)]


def test_shared_file_of_a_killed_process_is_removed(always_parallel, tmp_path, monkeypatch):
    """Check a new shared file removes those of ended processes and keeps live ones'."""
    import subprocess
    import sys

    par._drop_kept_arena()
    monkeypatch.setattr(par, "_shared_folder", lambda nbytes: str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    orphan = tmp_path / f"sklaudio-clips-{int(ended.stdout)}-abc.bin"
    alive = tmp_path / f"sklaudio-clips-{os.getppid()}-def.bin"
    orphan.write_bytes(b"x")
    alive.write_bytes(b"x")
    map_clips(np.size, [np.ones(par._SHARE_MIN_BYTES)] * 4, n_jobs=2)
    assert not orphan.exists() and alive.exists()
    par._drop_kept_arena()


def _fail_at(item):
    i, bad, marker, caller = item
    _meet(marker, caller)
    if i == bad:
        raise ValueError(f"clip {i} is broken")
    return i


@pytest.mark.parametrize("bad", [0, 39])  # taken by the calling process, by the worker
def test_an_error_in_either_process_reaches_the_caller(always_parallel, tmp_path, bad):
    """Check the error of a clip is raised here, whichever process met it, and the next
    call works."""
    marker = str(tmp_path / "worker-started")
    with pytest.raises(ValueError, match=f"clip {bad} is broken"):
        map_clips(_fail_at, [(i, bad, marker, os.getpid()) for i in range(40)], n_jobs=2)
    assert map_clips(_fail_at, [(i, -1, marker, 0) for i in range(40)], n_jobs=2) == list(
        range(40))


def _pid_of(item):
    _, marker, caller = item
    _meet(marker, caller)
    return os.getpid()


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc (Linux)")
def test_a_shared_file_too_big_to_keep_is_removed_and_unmapped(always_parallel, tmp_path,
                                                                monkeypatch):
    """Check a file over the size kept between calls is removed, and no worker still
    maps it (its memory would stay taken while the worker idles)."""
    par._drop_kept_arena()
    monkeypatch.setattr(par, "_shared_folder", lambda nbytes: str(tmp_path))
    monkeypatch.setattr(par, "_ARENA_KEEP_BYTES", 0)
    marker = str(tmp_path / "worker-started")
    items = [(np.ones(par._SHARE_MIN_BYTES), marker, os.getpid()) for _ in range(8)]
    pids = set(map_clips(_pid_of, items, n_jobs=2)) - {os.getpid()}
    assert pids and list(tmp_path.glob("sklaudio-clips-*")) == []
    for pid in pids:
        with open(f"/proc/{pid}/maps") as f:
            assert "sklaudio-clips-" not in f.read()


def _refaults(n_chunks=20, chunk_bytes=5 << 20):
    """Minor page faults of allocating and filling ``n_chunks`` blocks a second time.

    The first round leaves the blocks freed; an allocator that kept them serves the
    second round from memory already in the process (no faults), one that gave them
    back to the system faults pages in again (glibc's defaults: about 10,000 of the
    25,600 pages of 100 MB, every time).
    """
    import resource

    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        blocks = [np.ones(chunk_bytes // 8) for _ in range(n_chunks)]
        del blocks
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _refaults_after_meeting(item):
    i, marker, caller = item
    _meet(marker, caller)
    return os.getpid(), _refaults()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_workers_keep_freed_memory_for_the_next_clips(always_parallel, tmp_path):
    """Check a worker serves a second round of 5 MB blocks without faulting pages in again.

    The same rounds in a fresh process with the allocator's defaults fault in about
    10,000 pages: the check can fail.
    """
    import subprocess

    code = "import tests.utils.test_parallel as t; print(t._refaults())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}  # defaults
    fresh = int(subprocess.run([sys.executable, "-c", code], check=True, text=True,
                               capture_output=True, env=env).stdout)
    assert fresh > 5_000
    marker = str(tmp_path / "worker-started")
    out = map_clips(_refaults_after_meeting, [(i, marker, os.getpid()) for i in range(4)],
                    n_jobs=2)
    theirs = [faults for pid, faults in out if pid != os.getpid()]
    assert theirs, "no item went to a worker"
    assert max(theirs) < 500
