"""Benchmark sklaudio's Denoiser and Trimmer against noisereduce and librosa.

Run from the repository root::

    .venv/bin/python benchmarks/bench_preprocessing.py [--n-clips N] [--repeat R]

Reads ``librispeech-251`` from $SKLAUDIO_DATA, else ``../shared/data`` beside the repo.
Prints, from one run on the same clips:

- median time per clip of ``Denoiser`` vs ``noisereduce.reduce_noise(stationary=False)``
  and of ``Trimmer`` (leading/trailing trim only) vs ``librosa.effects.trim``, as ratios;
- the SNR gain (output SNR - input SNR, dB; median over clips) on speech mixed with
  white and pink noise at 0, 5 and 10 dB, ours vs noisereduce;
- the level change (dB) of clean speech run through each denoiser.
"""

import argparse
import os
import time
from pathlib import Path

import librosa
import noisereduce
import numpy as np
import pandas as pd
import soundfile as sf

from sklaudio.preprocessing import Denoiser, Trimmer

ROOT = Path(__file__).resolve().parents[1]


def data_dir():
    return Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def load_clips(n_clips):
    folder = data_dir() / "librispeech-251"
    manifest = pd.read_csv(folder / "manifest.csv").sort_values("path")
    # every k-th file: a spread of speakers and durations, the same on every run
    step = max(1, len(manifest) // n_clips)
    paths = manifest["path"].iloc[::step].iloc[:n_clips]
    clips = []
    for p in paths:
        y, sr = sf.read(folder / p, dtype="float32")
        clips.append(y)
    return clips, sr


def make_noise(kind, n, rng):
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    # pink: shape white noise to a 1/f power spectrum
    spec = np.fft.rfft(white)
    f = np.arange(len(spec))
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    return np.fft.irfft(spec, n=n)


def mix(clean, noise, snr_db):
    gain = np.sqrt(np.sum(clean**2) / (np.sum(noise**2) * 10 ** (snr_db / 10)))
    return (clean + gain * noise).astype(np.float32)


def snr(clean, estimate):
    return 10 * np.log10(np.sum(clean.astype(np.float64) ** 2)
                         / np.sum((estimate.astype(np.float64) - clean) ** 2))


def level_db(clean, estimate):
    power = np.sum(estimate.astype(np.float64) ** 2) / np.sum(clean.astype(np.float64) ** 2)
    return 10 * np.log10(power)


def median_time(func, clips, repeat):
    """Median over clips of the best-of-``repeat`` time per clip, in ms."""
    times = []
    for y in clips:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            func(y)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
    return 1000 * np.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    clips, sr = load_clips(args.n_clips)
    total = sum(len(c) for c in clips) / sr
    print(f"librispeech-251: {len(clips)} clips, {total:.0f} s of audio at {sr} Hz\n")

    den = Denoiser(sr=sr)
    ours = lambda y: den.transform([y])[0]  # noqa: E731
    ref = lambda y: noisereduce.reduce_noise(y=y, sr=sr, stationary=False)  # noqa: E731
    rng = np.random.default_rng(0)
    noisy = [mix(c, make_noise("white", len(c), rng), 5) for c in clips]
    t_ours = median_time(ours, noisy, args.repeat)
    t_ref = median_time(ref, noisy, args.repeat)
    print("Speed (median per clip, best of %d)" % args.repeat)
    print(f"  Denoiser            {t_ours:8.1f} ms   noisereduce        {t_ref:8.1f} ms   "
          f"speed-up x{t_ref / t_ours:.2f}")
    # the whole batch at once, as a pipeline would call it
    t0 = time.perf_counter()
    den.transform(noisy)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    for y in noisy:
        ref(y)
    t_batch_ref = time.perf_counter() - t0
    print(f"  Denoiser (all clips) {t_batch:7.2f} s    noisereduce (loop) {t_batch_ref:7.2f} s    "
          f"speed-up x{t_batch_ref / t_batch:.2f}")

    trim = Trimmer(sr=sr, top_db=60)
    t_trim = median_time(lambda y: trim.transform([y]), clips, args.repeat)
    t_lib = median_time(lambda y: librosa.effects.trim(y, top_db=60), clips, args.repeat)
    print(f"  Trimmer             {t_trim:8.2f} ms   librosa.effects.trim {t_lib:6.2f} ms   "
          f"speed-up x{t_lib / t_trim:.2f}")
    same = sum(
        len(a) == len(b) and np.array_equal(a, b)
        for a, b in zip(trim.transform(clips),
                        (librosa.effects.trim(y, top_db=60)[0] for y in clips))
    )
    print(f"  Trimmer output identical to librosa.effects.trim on {same}/{len(clips)} clips\n")

    print("SNR gain in dB (median over clips; higher is better)")
    print(f"  {'noise':6s} {'SNR in':>6s} {'Denoiser':>9s} {'noisereduce':>12s} {'diff':>6s}")
    worst = np.inf
    for kind in ("white", "pink"):
        for snr_in in (0, 5, 10):
            rng = np.random.default_rng(hash((kind, snr_in)) % 2**32)
            mixed = [mix(c, make_noise(kind, len(c), rng), snr_in) for c in clips]
            out = den.transform(mixed)
            g_ours = np.median([snr(c, o) - snr_in for c, o in zip(clips, out)])
            g_ref = np.median([snr(c, ref(m)) - snr_in for c, m in zip(clips, mixed)])
            worst = min(worst, g_ours - g_ref)
            print(f"  {kind:6s} {snr_in:6d} {g_ours:9.2f} {g_ref:12.2f} {g_ours - g_ref:+6.2f}")
    print(f"  worst difference (ours - noisereduce): {worst:+.2f} dB (target >= -1)\n")

    out = den.transform(clips)
    l_ours = [level_db(c, o) for c, o in zip(clips, out)]
    l_ref = [level_db(c, ref(c)) for c in clips]
    print("Clean speech level change in dB (target within +-1)")
    print(f"  Denoiser    median {np.median(l_ours):+.2f}  worst {max(l_ours, key=abs):+.2f}")
    print(f"  noisereduce median {np.median(l_ref):+.2f}  worst {max(l_ref, key=abs):+.2f}")


if __name__ == "__main__":
    main()
