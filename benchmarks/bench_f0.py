"""Speed and agreement of sklaudio's fast pyin against librosa.pyin on real speech.

Both run in this process on the same clips with the same fmin, fmax, frame and hop
(librosa's defaults: 2048 / 512), one clip at a time on one core. Prints the median
per-clip time of each (wall clock, and CPU time, which a busy shared machine disturbs
less), their ratio, the realtime factors, and over all frames of
all clips the voicing agreement and the median relative |f0 difference| on frames
both call voiced; also the first call's cost in a fresh process (numba compiles the
kernels once per process: they are not cached on disk) and the peak memory.

    .venv/bin/python benchmarks/bench_f0.py                 # 20 clips of librispeech-251
    .venv/bin/python benchmarks/bench_f0.py --n-clips 5 --frame-length 1486

Targets (issue 3): >= 20x faster, median |df0| <= 1 %, voicing agreement >= 95 %.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklaudio.features import estimate_f0  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(
        os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data")) / "librispeech-251")
    parser.add_argument("--n-clips", type=int, default=20)
    parser.add_argument("--fmin", type=float, default=50.0)
    parser.add_argument("--fmax", type=float, default=500.0)
    parser.add_argument("--frame-length", type=int, default=2048)
    parser.add_argument("--hop-length", type=int, default=None)
    args = parser.parse_args(argv)

    files = sorted(args.data.glob("*.flac"))[: args.n_clips]
    if not files:
        sys.exit(f"no .flac files in {args.data}; pass --data or set SKLAUDIO_DATA")
    params = dict(fmin=args.fmin, fmax=args.fmax, frame_length=args.frame_length,
                  hop_length=args.hop_length)

    # warm up both (numba compilation, librosa's caches) on a short excerpt
    y, sr = sf.read(files[0], dtype="float32", frames=16000)
    librosa.pyin(y, sr=sr, **params)
    cpu = time.process_time()
    estimate_f0(y, sr=sr, **params)
    first_call = time.process_time() - cpu

    t_ref, t_ours, cpu_ref, cpu_ours, durations = [], [], [], [], []
    agree, n_frames, rel_err = 0, 0, []
    for path in files:
        y, sr = sf.read(path, dtype="float32")
        start, cpu = time.perf_counter(), time.process_time()
        ref = librosa.pyin(y, sr=sr, **params)
        t_ref.append(time.perf_counter() - start)
        cpu_ref.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        ours = estimate_f0(y, sr=sr, **params)
        t_ours.append(time.perf_counter() - start)
        cpu_ours.append(time.process_time() - cpu)
        durations.append(len(y) / sr)
        agree += np.count_nonzero(ref[1] == ours[1])
        n_frames += len(ref[1])
        both = ref[1] & ours[1]
        rel_err.append(np.abs(ours[0][both] / ref[0][both] - 1))

    t_ref, t_ours, cpu_ref, cpu_ours, durations = map(
        np.asarray, (t_ref, t_ours, cpu_ref, cpu_ours, durations))
    rel_err = np.concatenate(rel_err)
    hop = args.hop_length or args.frame_length // 4
    print(f"librosa {librosa.__version__}, {len(files)} clips of {args.data.name} "
          f"({durations.sum():.0f} s of audio, sr={sr}), fmin={args.fmin}, fmax={args.fmax}, "
          f"frame_length={args.frame_length}, hop_length={hop}")
    print(f"median time per clip   librosa.pyin {np.median(t_ref) * 1e3:8.1f} ms   "
          f"sklaudio fast {np.median(t_ours) * 1e3:7.1f} ms")
    print(f"speed-up               median per clip {np.median(t_ref / t_ours):.1f}x   "
          f"total {t_ref.sum() / t_ours.sum():.1f}x")
    print(f"CPU time (load-proof)  median per clip librosa.pyin "
          f"{np.median(cpu_ref) * 1e3:.1f} ms, sklaudio fast "
          f"{np.median(cpu_ours) * 1e3:.1f} ms, ratio {np.median(cpu_ref / cpu_ours):.1f}x")
    print(f"realtime factor        librosa.pyin {durations.sum() / t_ref.sum():.0f}x   "
          f"sklaudio fast {durations.sum() / t_ours.sum():.0f}x   (CPU time: "
          f"{durations.sum() / cpu_ref.sum():.0f}x and {durations.sum() / cpu_ours.sum():.0f}x)")
    print(f"voicing agreement      {agree / n_frames:.4%} of {n_frames} frames")
    print(f"median |df0| / f0      {np.median(rel_err):.4%} on {len(rel_err)} frames both call "
          f"voiced (95th percentile {np.percentile(rel_err, 95):.4%}, "
          f"exactly equal {np.mean(rel_err == 0):.2%})")
    print(f"first call in a process (numba compile, CPU) {first_call:.1f} s; peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
