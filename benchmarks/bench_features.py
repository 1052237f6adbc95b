"""Realtime factor per core of sklaudio's feature extractors vs a per-file librosa loop.

Run from the project root::

    .venv/bin/python benchmarks/bench_features.py            # 20 LibriSpeech files
    .venv/bin/python benchmarks/bench_features.py --n 5 --repeat 1

Everything runs on one core (BLAS/OpenMP threads pinned to 1, n_jobs=1) and is timed
in CPU seconds of this process (``time.process_time``), so "x realtime" = seconds of
audio processed per CPU-second of one core, even when other processes share the
machine. Printed:

1. each extractor alone on clips already in memory (MelFeatures, TemporalFeatures,
   F0Stats if present, and their FeatureUnion: the default feature pipeline);
2. sklaudio's whole chain: AudioLoader -> Denoiser -> Trimmer -> the FeatureUnion;
3. the reference: the project's original per-file loop, measured in the same run:
   librosa.load -> noisereduce.reduce_noise
   (stationary=False) -> librosa.effects.trim -> librosa.pyin (fmin=50, fmax=500) ->
   librosa.feature.melspectrogram, file by file;

with the ratios of 2 and of the feature union to 3 (the whole loop, and its pyin + mel
part only). Timings are medians over ``--repeat`` runs (the librosa loop runs once
unless ``--reference-repeat`` says otherwise: it is slow).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # per-core figures: no hidden BLAS threads

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# CPU time of this (single-threaded) process: "per core", and robust to other
# processes sharing the machine, which inflate wall time but not our CPU time
_clock = time.process_time


def _timed(func, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = _clock()
        out = func()
        times.append(_clock() - start)
    return statistics.median(times), out


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(os.environ.get(
        "SKLAUDIO_DATA", ROOT.parent / "shared" / "data")) / "librispeech-251"))
    parser.add_argument("--n", type=int, default=20, help="number of files (default 20)")
    parser.add_argument("--sr", type=int, default=16000, help="rate for both sides")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-repeat", type=int, default=1,
                        help="runs of the librosa reference loop (default 1; slow)")
    return parser.parse_args(argv)


def _time_extractors(union, clips, repeat):
    """(name, CPU seconds, n_features) of each extractor of the union, then the union."""
    extractors = [(f"{type(est).__name__} ({name})", est) for name, est in union.transformer_list]
    extractors.append(("FeatureUnion of the above", union))
    rows = []
    for name, est in extractors:
        est.fit(clips[:1])
        est.transform(clips[:1])  # warm-up: numba compilation, filterbank cache
        t, out = _timed(lambda est=est: est.fit(clips).transform(clips), repeat)
        assert np.isfinite(np.asarray(out)).all()  # the union outputs a DataFrame
        rows.append((name, t, out.shape[1]))
    return rows


def _librosa_loop(files, sr):
    """The reference, file by file; returns the CPU seconds of its pyin + mel part."""
    import librosa
    import noisereduce

    part = 0.0
    for f in files:
        y, _ = librosa.load(f, sr=sr)
        y = noisereduce.reduce_noise(y=y, sr=sr, stationary=False)
        y, _ = librosa.effects.trim(y)
        start = _clock()
        librosa.pyin(y, fmin=50, fmax=500, sr=sr)
        librosa.feature.melspectrogram(y=y, sr=sr)
        part += _clock() - start
    return part


def main(argv=None):
    args = _parse(argv)
    from sklearn.pipeline import make_pipeline

    from sklaudio.experiment import make_age_gender_pipeline
    from sklaudio.io import AudioLoader
    from sklaudio.preprocessing import Denoiser, Trimmer

    files = sorted(Path(args.data).glob("*.flac"))[: args.n]
    if not files:
        sys.exit(f"no .flac files in {args.data}")

    def load_all():
        return AudioLoader(sr=args.sr).fit_transform([str(f) for f in files])

    clips = load_all()
    audio_s = sum(len(c) for c in clips) / args.sr
    print(f"{len(files)} files of {args.data}: {audio_s:.1f} s of audio at {args.sr} Hz; "
          f"one core, CPU time; median of {args.repeat} run(s); "
          f"load average {os.getloadavg()[0]:.1f}")

    # the feature union of the age/gender pipeline, as the experiment runs it
    union = make_age_gender_pipeline().named_steps["features"]
    rows = _time_extractors(union, clips, args.repeat)
    t_union = rows[-1][1]

    chain = make_pipeline(Denoiser(), Trimmer(), union)
    chain.fit(clips[:1])

    def run_chain():
        loaded = load_all()
        return chain.fit(loaded).transform(loaded)

    t_chain, _ = _timed(run_chain, args.repeat)
    t_ref, t_ref_feat = _timed(lambda: _librosa_loop(files, args.sr), args.reference_repeat)

    def fmt(name, t, extra=""):
        print(f"  {name:<40s} {t:8.2f} s  {audio_s / t:8.1f}x realtime{extra}")

    print("\nfeature extraction on loaded clips (n_jobs=1):")
    for name, t, width in rows:
        fmt(name, t, f"  ({width} features)")
    print("\nwhole chain, from files:")
    fmt("AudioLoader > Denoiser > Trimmer > union", t_chain)
    fmt("librosa loop (load>noisereduce>trim>pyin>mel)", t_ref)
    fmt("  of which pyin + mel", t_ref_feat)
    print("\nratios (higher = sklaudio faster):")
    print(f"  feature union vs librosa pyin + mel:  {t_ref_feat / t_union:6.1f}x")
    print(f"  sklaudio chain vs librosa loop:       {t_ref / t_chain:6.1f}x")
    print(f"  target: feature union >= 150x realtime per core -> "
          f"{'met' if audio_s / t_union >= 150 else 'NOT met'} ({audio_s / t_union:.0f}x)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (both sides): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
