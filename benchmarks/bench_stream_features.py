"""Time and peak memory of feature extraction on one long recording: whole vs streamed.

One recording of ``--minutes`` of real speech (the LibriSpeech clips of
``librispeech-251`` end to end, repeated as needed) goes through each extractor's
``transform`` twice, each time in a fresh process:

- ``whole``: the recording loaded as one float32 array (as before issue 17);
- ``streamed``: a :class:`~sklaudio.utils._stream.StreamedClip` that reads it from a raw
  float32 file block by block (never whole in memory); reading is part of its time.

For each run: CPU seconds of ``transform`` (quality check included, as a user sees
it), wall seconds, the process's peak RSS and its RSS just before ``transform`` (after
a 5-second warm-up that does the imports; the whole recording is in it for
``whole``), and how far the streamed row is from the whole one as a fraction of the
tests' tolerance ``1e-6 + 1e-5 * |whole|`` (at most 1 passes). The speech is decoded
once into a raw file under the temporary folder.

Run from the project root::

    nice -n 10 .venv/bin/python benchmarks/bench_stream_features.py --minutes 60
    .venv/bin/python benchmarks/bench_stream_features.py --minutes 5 --only MelFeatures
    nice -n 10 .venv/bin/python benchmarks/bench_stream_features.py --minutes 600 --modes streamed
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXTRACTORS = ["MelFeatures", "TemporalFeatures", "AudioQuality"]
SR = 16000


def _data_dir(arg):
    if arg:
        return Path(arg)
    return Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def _speech_file(data, minutes):
    """A raw float32 file of ``minutes`` of LibriSpeech end to end (made once)."""
    import pandas as pd
    import soundfile as sf

    path = Path(tempfile.gettempdir()) / f"sklaudio_bench_speech_{minutes:g}min.f32"
    n = int(minutes * 60 * SR)
    if path.exists() and path.stat().st_size == 4 * n:
        return path, n
    folder = data / "librispeech-251"
    files = [folder / p for p in pd.read_csv(folder / "manifest.csv")["path"]]
    written = 0
    with open(path, "wb") as out:
        while written < n:
            for f in files:
                y, sr = sf.read(f, dtype="float32")
                assert sr == SR, f"{f} is at {sr} Hz"
                y = y[: n - written]
                out.write(y.tobytes())
                written += len(y)
                if written >= n:
                    break
    return path, n


class _FileBlocks:
    """Blocks of a raw float32 file, read with plain reads (no memory map in the RSS)."""

    def __init__(self, path):
        self.path = path

    def __call__(self, block_size):
        with open(self.path, "rb") as f:
            while True:
                b = np.fromfile(f, dtype=np.float32, count=block_size)
                if not len(b):
                    return
                yield b


def _child(name, mode, path, n, out):
    import sklaudio.features as F
    from sklaudio.utils._stream import StreamedClip

    est = getattr(F, name)(sr=SR).fit([np.zeros(SR, np.float32)])
    with warnings.catch_warnings():  # imports, compiled code and caches: not the clip's
        warnings.simplefilter("ignore")
        est.transform([np.fromfile(path, dtype=np.float32, count=5 * SR)])
    if mode == "whole":
        clip = np.fromfile(path, dtype=np.float32)
    else:
        clip = StreamedClip(_FileBlocks(path), sr=SR, n_samples=n, name=str(path))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu, wall = time.process_time(), time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = est.transform([clip])[0]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(out, row)
    print(f"{cpu:.3f} {wall:.3f} {rss_before:.0f} {peak:.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", default=EXTRACTORS)
    parser.add_argument("--modes", nargs="*", default=["whole", "streamed"],
                        help="streamed alone for recordings that do not fit in memory whole")
    parser.add_argument("--data", default=None, help="data folder (default ../shared/data)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, mode, path, n, out = args.child
        return _child(name, mode, Path(path), int(n), out)
    path, n = _speech_file(_data_dir(args.data), args.minutes)
    print(f"{args.minutes:g} min of speech ({n * 4 / 1e6:.0f} MB as float32), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'extractor':18s} {'mode':9s} {'cpu s':>7s} {'wall s':>7s} {'RSS before MB':>14s} "
          f"{'peak RSS MB':>12s} {'diff / tol':>11s}")
    for name in args.only:
        rows = {}
        for mode in args.modes:
            out = Path(tempfile.gettempdir()) / f"sklaudio_bench_row_{name}_{mode}.npy"
            res = subprocess.run(
                [sys.executable, __file__, "--child", name, mode, str(path), str(n), str(out)],
                capture_output=True, text=True, cwd=ROOT,
            )
            if res.returncode:
                print(f"{name:18s} {mode:9s} failed:\n{res.stderr[-2000:]}")
                continue
            cpu, wall, before, peak = res.stdout.split()[-4:]
            rows[mode] = np.load(out)
            diff = ""
            if len(rows) == 2:
                a, b = rows["whole"], rows["streamed"]
                diff = f"{np.max(np.abs(a - b) / (1e-6 + 1e-5 * np.abs(a))):.2f}"
            print(f"{name:18s} {mode:9s} {float(cpu):7.1f} {float(wall):7.1f} {before:>14s} "
                  f"{peak:>12s} {diff:>11s}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
