"""Speaker verification and identification on the shared recordings, speaker-disjoint.

Run from the project root (SpeakerEmbedding needs the extra ``sklaudio[embed]``)::

    .venv/bin/python benchmarks/bench_speakers.py                 # features cached in /tmp
    .venv/bin/python benchmarks/bench_speakers.py --cache none    # recompute everything
    .venv/bin/python benchmarks/bench_speakers.py --small         # a few speakers, quick

Back ends are trained on 3 s windows of librispeech-251 (251 speakers) and tested on
speakers they never saw: commonvoice-en (speakers with two clips or more, recorded in
separate sessions; one 3 s window per clip), speechocean762 (125 speakers x 2 whole
utterances) for verification; fsdd (6 speakers, 8 kHz digits resampled to 16 kHz) for
closed- and open-set identification. Two front ends: SpeakerEmbedding (Resemblyzer's
GE2E encoder) and MFCC statistics (MelFeatures, PyTorch-free). Anchors measured in
the same run: raw cosine on each front end. Printed: EER, minDCF (p_target=0.01),
false-accept rate against its target, precision and recall at the calibrated threshold
on the seed's pairs (100 same-speaker pairs per speaker, 25 different-speaker pairs per
pair of speakers), identification accuracy.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))
SR = 16000


def _first_per(table, key, k):
    return table.groupby(key, sort=False).head(k)


def prepare(small=False):
    """Windows and clips of every set: dict of name -> (table, ClipArray)."""
    from sklaudio.io import load_audio
    from sklaudio.speakers import make_windows
    from sklaudio.utils import ClipArray

    rng = np.random.default_rng(0)
    sets = {}
    # librispeech-251: one utterance per speaker -> up to 4 windows of 3 s
    m = pd.read_csv(DATA / "librispeech-251" / "manifest.csv")
    if small:
        m = m.iloc[:40]
    table, windows = make_windows([str(DATA / "librispeech-251" / p) for p in m.path],
                                  length=3.0, hop=3.0, sr=SR, speakers=m.speaker.astype(str))
    keep = _first_per(table, "speaker", 4)
    counts = keep.speaker.value_counts()
    keep = keep[keep.speaker.isin(counts[counts >= 2].index)]
    sets["librispeech"] = (keep.reset_index(drop=True), windows[keep.index.to_numpy()])

    # commonvoice-en: speakers with >= 2 clips, up to 6 clips each, first 3 s window
    v = pd.read_csv(DATA / "commonvoice-en" / "validated.tsv", sep="\t")
    counts = v.client_id.value_counts()
    v = v[v.client_id.isin(counts[counts >= 2].index)]
    v = v.groupby("client_id", sort=False).head(6)
    if small:
        v = v[v.client_id.isin(v.client_id.unique()[:12])]
    spk_ids = {c: f"cv{i:03d}" for i, c in enumerate(v.client_id.unique())}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clips shorter than 3 s are skipped
        table, windows = make_windows(
            [str(DATA / "commonvoice-en" / "clips" / p) for p in v.path], length=3.0,
            hop=3.0, sr=SR, speakers=v.client_id.map(spk_ids))
    keep = _first_per(table, "recording", 1)
    counts = keep.speaker.value_counts()
    keep = keep[keep.speaker.isin(counts[counts >= 2].index)]
    sets["commonvoice"] = (keep.reset_index(drop=True), windows[keep.index.to_numpy()])

    # speechocean762: whole utterances, 2 per speaker
    m = pd.read_csv(DATA / "speechocean762" / "manifest.csv")
    if small:
        m = m[m.speaker.isin(m.speaker.unique()[:20])]
    clips = [load_audio(DATA / "speechocean762" / p, sr=SR)[0] for p in m.path]
    sets["speechocean"] = (pd.DataFrame({"recording": m.path.to_numpy(),
                                         "speaker": m.speaker.astype(str).to_numpy()}),
                           ClipArray(clips, sr=SR))

    # fsdd: 6 speakers, 40 takes each (digits), resampled to 16 kHz
    m = pd.read_csv(DATA / "fsdd" / "manifest.csv")
    m = m.iloc[rng.permutation(len(m))]
    m = m.groupby("speaker", sort=False).head(12 if small else 40)
    clips = [load_audio(DATA / "fsdd" / p, sr=SR)[0] for p in m.path]
    sets["fsdd"] = (pd.DataFrame({"recording": m.path.to_numpy(),
                                  "speaker": m.speaker.astype(str).to_numpy()}),
                    ClipArray(clips, sr=SR))
    return sets


def front_ends(sets, cache):
    """Embedding and MFCC-statistics tables of every set, cached in ``cache``."""
    from sklaudio.features import MelFeatures, SpeakerEmbedding

    out = {}
    if cache and Path(cache).exists():
        with np.load(cache, allow_pickle=True) as z:
            out = {k: z[k] for k in z.files}
    timing = {}
    for name, (table, clips) in sets.items():
        for fe, make in (("emb", lambda: SpeakerEmbedding()),
                         ("mfcc", lambda: MelFeatures(kind="mfcc", n_mfcc=20, n_fft=512,
                                                      hop_length=160, n_mels=40))):
            key = f"{name}_{fe}"
            if key in out and len(out[key]) == len(table):
                continue
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # quality notes on digits / quiet clips
                out[key] = make().fit(clips[:1]).transform(clips)
            timing[key] = time.perf_counter() - t
            print(f"  {key}: {len(table)} clips in {timing[key]:.0f} s", flush=True)
            if cache:
                np.savez(cache, **out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="/tmp/sklaudio_bench_speakers.npz",
                        help="npz file of the front ends' tables ('none' to recompute)")
    parser.add_argument("--small", action="store_true", help="a few speakers per set")
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args(argv)
    cache = None if args.cache == "none" else args.cache
    if args.small and cache:
        cache = cache.replace(".npz", "_small.npz")
    t0 = time.perf_counter()
    sets = prepare(small=args.small)
    print(f"windows and clips ready in {time.perf_counter() - t0:.0f} s: " + ", ".join(
        f"{k} {len(t)} clips / {t.speaker.nunique()} speakers" for k, (t, _) in sets.items()),
        flush=True)
    feats = front_ends(sets, cache)
    if args.prepare_only:
        return 0
    return evaluate(sets, feats)


def evaluate(sets, feats):
    raise NotImplementedError


if __name__ == "__main__":
    sys.exit(main())
