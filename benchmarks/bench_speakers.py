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
    parser.add_argument("--figure", default=None,
                        help="save the DET / histogram figure of commonvoice-en there (PNG)")
    args = parser.parse_args(argv)
    cache = None if args.cache == "none" else args.cache
    if args.small and cache:
        cache = cache.replace(".npz", "_small.npz")
    t0 = time.perf_counter()
    tables = None if cache is None else Path(cache.replace(".npz", "_tables.pkl"))
    if tables is not None and tables.exists() and Path(cache).exists():
        # the windows' tables and the front ends' rows, from an earlier run
        sets = {k: (t, None) for k, t in pd.read_pickle(tables).items()}
        with np.load(cache, allow_pickle=True) as z:
            feats = {k: z[k] for k in z.files}
        print(f"tables and features read from {cache}")
    else:
        sets = prepare(small=args.small)
        print(f"windows and clips ready in {time.perf_counter() - t0:.0f} s", flush=True)
        feats = front_ends(sets, cache)
        if tables is not None:
            pd.to_pickle({k: t for k, (t, _) in sets.items()}, tables)
    print(", ".join(f"{k}: {len(t)} clips of {t.speaker.nunique()} speakers"
                    for k, (t, _) in sets.items()), flush=True)
    if args.prepare_only:
        return 0
    return evaluate(sets, feats, figure=args.figure)


def _cosine_pairs(E, i, j):
    """Resemblyzer's own recipe: the dot product of the L2-normalised vectors."""
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", U[i], U[j])


def _all_pairs(y):
    from sklaudio.speakers import make_pairs

    return make_pairs(y, n_same=None, n_different=None)


GRID = {"backend": ["cosine", "plda"], "lda_components": [None, 48, 96],
        "score_norm": [None, "as-norm"]}


def _search(X, y):
    """Back-end settings chosen by 3-fold speaker-disjoint search on the training set."""
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from sklaudio.speakers import SpeakerVerifier

    search = GridSearchCV(SpeakerVerifier(calibration_cv=None), GRID, cv=GroupKFold(3))
    search.fit(X, y, groups=y)
    return search.best_params_, -search.best_score_


def evaluate(sets, feats, figure=None):
    import resource

    from sklaudio.speakers import (
        SpeakerVerifier,
        equal_error_rate,
        make_pairs,
        min_dcf,
        plot_verification,
        verification_report,
    )

    ytr = sets["librispeech"][0].speaker.to_numpy()
    rows, ident = [], []
    for fe in ("emb", "mfcc"):
        Xtr = feats[f"librispeech_{fe}"]
        t = time.perf_counter()
        best, cv_eer = _search(Xtr, ytr)
        t_search = time.perf_counter() - t
        print(f"\n[{fe}] search over {len(ParameterGridLen(GRID))} settings on librispeech "
              f"({len(ytr)} windows, {len(set(ytr))} speakers): best {best}, CV EER "
              f"{100 * cv_eer:.2f} % ({t_search:.0f} s)", flush=True)
        t = time.perf_counter()
        sv = SpeakerVerifier(**best).fit(Xtr, ytr)                     # threshold at EER
        sv_far = {f: SpeakerVerifier(**best, calibration="far", target_far=f).fit(Xtr, ytr)
                  for f in (0.01, 0.05)}
        t_fit = (time.perf_counter() - t) / 3
        # raw-cosine anchor, its threshold at the EER of the training speakers' pairs
        tp = _all_pairs(ytr)
        _, cos_thr = equal_error_rate(tp.same, _cosine_pairs(Xtr, tp.i, tp.j),
                                      return_threshold=True)
        for name in ("commonvoice", "speechocean"):
            table, _ = sets[name]
            X, y = feats[f"{name}_{fe}"], table.speaker.to_numpy()
            allp = _all_pairs(y)
            seed = make_pairs(y, random_state=0)  # 100 same per speaker, 25 per speaker pair
            for system in ("raw cosine", "back end"):
                if system == "raw cosine":
                    s_all = _cosine_pairs(X, allp.i, allp.j)
                    s_seed, thr = _cosine_pairs(X, seed.i, seed.j), cos_thr
                else:
                    s_all = sv.decision_function((X[allp.i], X[allp.j]))
                    s_seed, thr = sv.decision_function((X[seed.i], X[seed.j])), sv.threshold_
                rep = verification_report(seed.same, s_seed, thr)
                row = dict(front_end=fe, set=name, system=system,
                           eer=equal_error_rate(allp.same, s_all),
                           min_dcf=min_dcf(allp.same, s_all, p_target=0.01),
                           precision=rep["precision"], recall=rep["recall"],
                           n_trials=len(allp), n_target=int(allp.same.sum()))
                if system == "back end":
                    for f, model in sv_far.items():
                        acc = model.predict((X[allp.i], X[allp.j]))
                        row[f"far@{f:g}"] = float(acc[~allp.same.to_numpy()].mean())
                    if figure and fe == "emb" and name == "commonvoice":
                        plot_verification(allp.same, s_all, threshold=sv.threshold_, path=figure,
                                          title="commonvoice-en, 3 s windows, SpeakerEmbedding "
                                          "+ learned back end (trained on librispeech-251)")
                rows.append(row)
        # identification on fsdd: enrol 10 takes per speaker, identify the other 30
        table, _ = sets["fsdd"]
        X, y = feats[f"fsdd_{fe}"], table.speaker.to_numpy()
        first = table.groupby("speaker").cumcount().to_numpy() < 10
        for system in ("raw cosine", "back end"):
            if system == "raw cosine":
                U = X / np.linalg.norm(X, axis=1, keepdims=True)
                names = np.unique(y[first])
                models = np.stack([U[first & (y == s)].mean(0) for s in names])
                pred = names[np.argmax(U[~first] @ models.T, axis=1)]
                open_acc = rejected = np.nan
            else:
                model = SpeakerVerifier(**best, calibration="far", target_far=0.01)
                model.fit(Xtr, ytr).forget()  # keep the back end, enrol only fsdd speakers
                out = y == np.unique(y)[-1]    # five enrolled speakers; the sixth an impostor
                model.enroll(X[first & ~out], y[first & ~out])
                pred_open, yt, known = model.identify(X[~first]), y[~first], ~out[~first]
                open_acc = float(np.mean(pred_open[known] == yt[known]))
                rejected = float(np.mean(pred_open[~known] == "unknown"))
                model.enroll(X[first & out], y[first & out])
                pred = model.identify(X[~first], open_set=False)
            ident.append(dict(front_end=fe, system=system,
                              closed_acc=float(np.mean(pred == y[~first])),
                              open_known_acc=open_acc, open_impostor_rejected=rejected))
        print(f"[{fe}] back end fit {t_fit:.1f} s each", flush=True)

    pd.set_option("display.width", 200)
    res = pd.DataFrame(rows)
    print("\nVerification, speaker-disjoint (all pairs for EER/minDCF; the seed's pairs for "
          "precision/recall at the threshold calibrated on librispeech):")
    print(res.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nIdentification on fsdd (6 speakers, 10 enrolment digits each, 30 test digits "
          "each; open set: 5 enrolled, the 6th an impostor, threshold at FAR 1 %):")
    print(pd.DataFrame(ident).to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    print("\nTargets:")
    for name in ("commonvoice", "speechocean"):
        r = res[res.set == name].set_index(["front_end", "system"])
        raw, learned = r.loc[("emb", "raw cosine"), "eer"], r.loc[("emb", "back end"), "eer"]
        rel = 1 - learned / raw
        print(f"  {name}: back end lowers the embedding EER by {100 * rel:.0f} % relative "
              f"({100 * raw:.2f} -> {100 * learned:.2f} %; target >= 25 %): "
              f"{'met' if rel >= 0.25 else 'NOT met'}")
        ratio = r.loc[("mfcc", "back end"), "eer"] / learned
        print(f"  {name}: PyTorch-free MFCC system EER / embedding system EER = {ratio:.2f} "
              f"(target <= 2): {'met' if ratio <= 2 else 'NOT met'}")
        p, rc = r.loc[("emb", "back end"), "precision"], r.loc[("emb", "back end"), "recall"]
        print(f"  {name}: precision {p:.3f}, recall {rc:.3f} at the calibrated threshold "
              f"(target both >= 0.9): {'met' if min(p, rc) >= 0.9 else 'NOT met'}")
        for f in (0.01, 0.05):
            far = r.loc[("emb", "back end"), f"far@{f:g}"]
            print(f"  {name}: FAR on new speakers {100 * far:.2f} % for target {100 * f:g} % "
                  f"(within +-2 points): {'met' if abs(far - f) <= 0.02 else 'NOT met'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory {peak:.0f} MB; load average {os.getloadavg()[0]:.1f}")
    return 0


def ParameterGridLen(grid):
    from sklearn.model_selection import ParameterGrid

    return list(ParameterGrid(grid))


if __name__ == "__main__":
    sys.exit(main())
