"""Speaker verification and identification on the shared recordings, speaker-disjoint.

Run from the project root (SpeakerEmbedding needs its weights:
``pip install --no-deps resemblyzer``)::

    .venv/bin/python benchmarks/bench_speakers.py --figure /tmp/speakers_det.png
    .venv/bin/python benchmarks/bench_speakers.py --cache none    # recompute everything
    .venv/bin/python benchmarks/bench_speakers.py --small         # a few speakers, quick
    .venv/bin/python benchmarks/bench_speakers.py --fold-ivectors commonvoice --ivec-seed 1
    # ^ the per-fold i-vector extractors under another seed (4 fits, ~5 min CPU each)

Front ends (computed once, cached in /tmp by default): SpeakerEmbedding (Resemblyzer's
GE2E encoder, a trained network run in numpy), and the PyTorch-free ones: MFCC
statistics (MelFeatures), i-vectors (IVectorExtractor, fitted without labels once per
outer fold of each verification set, on the librispeech windows and every recording of
that set whose speaker is not a test speaker of the fold, as Kaldi's recipe trains its
UBM and T on the domain's training data; for fsdd, once on librispeech only), both
concatenated, and the fusion of the MFCC-statistics and i-vector systems' scores (each
standardised by its own calibration scores, then summed; no weight learned). "The
classical system" of the target is chosen per outer fold among these four by an inner
speaker-disjoint CV on the fold's training speakers; its EER ratio to the embedding
system gets a 95 % interval from a speaker bootstrap (each fold's test speakers drawn
with replacement, the same draws for every system).
Data: 3 s windows of librispeech-251 (one utterance per speaker, up to 4 windows each)
always train the back end; commonvoice-en (speakers with two clips or
more, recorded in separate sessions; the first 3 s window of each clip, up to 6 clips
per speaker) and speechocean762 (125 speakers x 2 whole utterances) are each split in 4
speaker-disjoint folds: the back end trains on librispeech + 3 folds (``adapt_on`` the 3
folds: centred on their mean, their speakers the score-normalisation cohort), its
settings chosen among CANDIDATES by an inner speaker-disjoint CV on those, and is tested
on the 4th fold's speakers, never seen in fit. Anchor measured in the same run: raw
cosine on each front end (Resemblyzer's own recipe). Printed per set: EER and minDCF
(p_target 0.01) over all pairs of each test fold, pooled; precision and recall on the
seed's pairs (100 same-speaker pairs per speaker, 25 different-speaker pairs per pair of
speakers) at the threshold calibrated in fit at the EER of the in-domain training pairs
(precision also at the seed's own mix of pairs and at equal priors), and at thresholds
for precision 0.9 at the share of same-speaker pairs the scheme gives here and at the
seed's share; the false-accept rate on the new speakers at thresholds set in fit for 1 %
and 5 %. Identification on fsdd (6 speakers, 8 kHz digits resampled to 16 kHz; back end
on all the other sets): closed set, and open set with each speaker in turn left out of
the enrolment, at the threshold calibrated in fit on the other corpora and at one set
from the enrolled speakers' own enrolment digits (no test digit, no impostor).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread: the machine is shared

import argparse  # noqa: E402
import copy  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))
SR = 16000


def _first_per(table, key, k):
    return table.groupby(key, sort=False).head(k)


def _commonvoice(small=False):
    """validated.tsv, and the ids (cv000, ...) of the speakers with two clips or more."""
    v = pd.read_csv(DATA / "commonvoice-en" / "validated.tsv", sep="\t")
    counts = v.client_id.value_counts()
    ids = v.client_id[v.client_id.isin(counts[counts >= 2].index)].unique()
    if small:
        ids = ids[:12]
    return v, {c: f"cv{i:03d}" for i, c in enumerate(ids)}


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
    v, spk_ids = _commonvoice(small)
    v = v[v.client_id.isin(spk_ids)].groupby("client_id", sort=False).head(6)
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


FRONT_ENDS = ("emb", "mfcc", "ivec")  # computed from the audio
# PyTorch-free systems: each front end alone, and the two concatenated (one row per clip)
CLASSICAL = {"mfcc": "MFCC statistics", "ivec": "i-vector",
             "mfcc+ivec": "MFCC statistics + i-vector"}


def _ivector_extractor(sets):
    """The i-vector extractor, fitted (no labels) on the librispeech windows only."""
    from sklaudio.speakers import IVectorExtractor

    t = time.perf_counter()
    iv = IVectorExtractor(n_components=128, n_ivector=100, n_iter=5, random_state=0)
    cpu = time.process_time()
    iv.fit(sets["librispeech"][1])
    print(f"  IVectorExtractor fitted on {iv.n_frames_fit_} librispeech frames in "
          f"{time.perf_counter() - t:.0f} s ({time.process_time() - cpu:.0f} s CPU); "
          f"log-likelihood by EM iteration {np.round(iv.loglik_, 0).tolist()}", flush=True)
    return iv


def _outer_folds(table):
    """The 4 speaker-disjoint outer folds of a set: list of (train, test) row indices."""
    from sklearn.model_selection import GroupKFold

    y = table.speaker.to_numpy().astype(str)
    return list(GroupKFold(4).split(y, groups=y))


def _domain_audio(name, exclude):
    """Every recording of set ``name`` whose speaker is not in ``exclude``, whole.

    commonvoice-en: every clip of validated.tsv (speakers of one clip too: they are in
    no trial), a speaker excluded by its cv id; speechocean762: its utterances.
    """
    from sklaudio.io import load_audio
    from sklaudio.utils import ClipArray

    if name == "commonvoice":
        v, ids = _commonvoice()
        spk = v.client_id.map(ids).fillna(v.client_id).to_numpy()
        paths = [DATA / "commonvoice-en" / "clips" / p for p in v.path]
    else:
        m = pd.read_csv(DATA / "speechocean762" / "manifest.csv")
        spk = m.speaker.astype(str).to_numpy()
        paths = [DATA / "speechocean762" / p for p in m.path]
    keep = ~np.isin(spk, list(exclude))
    return ClipArray([load_audio(p, sr=SR)[0] for p, k in zip(paths, keep) if k], sr=SR)


def _fold_ivectors(name, fold, exclude, base, clips, seed=0):
    """i-vectors of ``base`` and ``clips`` from an extractor fitted for one outer fold.

    Fitted (no labels, same settings as :func:`_ivector_extractor`) on the librispeech
    windows ``base`` and the set's recordings of every speaker but ``exclude`` (the
    fold's test speakers), as Kaldi's recipe trains its UBM and T on the domain's
    training data.
    """
    from sklaudio.speakers import IVectorExtractor
    from sklaudio.utils import ClipArray

    pool = _domain_audio(name, exclude)
    train = ClipArray(list(base) + list(pool), sr=SR)
    t, cpu = time.perf_counter(), time.process_time()
    iv = IVectorExtractor(n_components=128, n_ivector=100, n_iter=5, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iv.fit(train)
        out = iv.transform(base), iv.transform(clips)
    hours = sum(len(c) for c in pool) / SR / 3600
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    note = (f"  {name} fold {fold} (seed {seed}): IVectorExtractor fitted on librispeech + "
            f"{len(pool)} {name} recordings ({hours:.2f} h, no test speaker), "
            f"{iv.n_frames_fit_} UBM frames, in {wall:.0f} s ({cpu:.0f} s CPU); "
            f"log-likelihood by EM iteration {np.round(iv.loglik_, 0).tolist()}")
    return (name, fold, *out), note


def fold_front_ends(sets, feats, cache, names=("commonvoice", "speechocean"), seed=0,
                    n_jobs=2):
    """Per-fold i-vectors of librispeech and of each verification set, cached.

    ``feats[f"{name}_ivec@{k}"]`` and ``feats[f"librispeech_ivec@{name}{k}"]``: the rows
    of the set and of librispeech under the extractor of outer fold ``k`` of ``name``.
    Each fold's pair is saved as soon as it is ready (``<cache>_ivec_<name><k>.npz``,
    ``..._s<seed>.npz`` for an extractor ``random_state`` other than 0).
    """
    from joblib import Parallel, delayed

    tasks = []
    for name in names:
        table = sets[name][0]
        y = table.speaker.to_numpy().astype(str)
        for k, (_, te) in enumerate(_outer_folds(table)):
            tag = f"_s{seed}" if seed else ""
            part = cache and Path(cache.replace(".npz", f"_ivec_{name}{k}{tag}.npz"))
            if part and part.exists():
                with np.load(part) as z:
                    feats.update({key: z[key] for key in z.files})
            if f"{name}_ivec@{k}" not in feats:
                tasks.append((name, k, set(y[te]), part))
    if not tasks:
        return feats
    if sets["librispeech"][1] is None:
        sets = prepare()
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_fold_ivectors)(name, k, exclude, sets["librispeech"][1], sets[name][1],
                                seed)
        for name, k, exclude, _ in tasks)
    for (name, k, base, rows), note in results:
        print(note, flush=True)
        got = {f"librispeech_ivec@{name}{k}": base, f"{name}_ivec@{k}": rows}
        feats.update(got)
        part = next(t[3] for t in tasks if t[:2] == (name, k))
        if part:
            np.savez(part, **got)
    return feats


def _fold_feats(feats, name, fe, fold):
    """(librispeech rows, set rows) of front end ``fe`` for outer fold ``fold`` of ``name``.

    The i-vectors (alone or joined) are the fold's own extractor's; other front ends
    are the same for every fold.
    """
    if "ivec" not in fe:
        return feats[f"librispeech_{fe}"], feats[f"{name}_{fe}"]
    if f"{name}_ivec@{fold}" not in feats:  # --fold-ivectors left this set out
        return feats[f"librispeech_{fe}"], feats[f"{name}_{fe}"]
    base, rows = feats[f"librispeech_ivec@{name}{fold}"], feats[f"{name}_ivec@{fold}"]
    if fe == "ivec":
        return base, rows
    return (np.c_[feats["librispeech_mfcc"], base], np.c_[feats[f"{name}_mfcc"], rows])


def front_ends(sets, cache):
    """Embedding, MFCC-statistics and i-vector tables of every set, cached in ``cache``."""
    from sklaudio.features import MelFeatures, SpeakerEmbedding

    out = {}
    if cache and Path(cache).exists():
        with np.load(cache, allow_pickle=True) as z:
            out = {k: z[k] for k in z.files}
    timing = {}
    fitted = {}

    def ivector_extractor(_clips):  # one extractor, fitted on librispeech, for every set
        if "ivec" not in fitted:
            fitted["ivec"] = _ivector_extractor(sets)
        return fitted["ivec"]

    makers = {"emb": lambda clips: SpeakerEmbedding().fit(clips[:1]),
              "mfcc": lambda clips: MelFeatures(kind="mfcc", n_mfcc=20, n_fft=512,
                                                hop_length=160, n_mels=40).fit(clips[:1]),
              "ivec": ivector_extractor}
    for name, (table, clips) in sets.items():
        for fe in FRONT_ENDS:
            key = f"{name}_{fe}"
            if key in out and len(out[key]) == len(table):
                continue
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # quality notes on digits / quiet clips
                out[key] = makers[fe](clips).transform(clips)
            timing[key] = time.perf_counter() - t
            print(f"  {key}: {len(table)} clips in {timing[key]:.0f} s", flush=True)
            if cache:
                np.savez(cache, **out)
    return out


def _cached_all(cache):
    """Whether the cache holds every set's table of every front end."""
    if not Path(cache).exists():
        return False
    with np.load(cache) as z:
        return all(f"{n}_{fe}" in z.files for n in ("librispeech", "commonvoice",
                                                     "speechocean", "fsdd")
                   for fe in FRONT_ENDS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default="/tmp/sklaudio_bench_speakers.npz",
                        help="npz file of the front ends' tables ('none' to recompute)")
    parser.add_argument("--small", action="store_true", help="a few speakers per set")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--front-ends", nargs="+", default=list(CLASSICAL),
                        choices=list(CLASSICAL),
                        help="PyTorch-free front ends to evaluate beside the embedding")
    parser.add_argument("--fold-ivectors", nargs="*", default=["commonvoice", "speechocean"],
                        choices=["commonvoice", "speechocean"],
                        help="sets whose i-vector extractor is fitted per outer fold (the "
                             "others: fitted once, on librispeech only)")
    parser.add_argument("--ivec-seed", type=int, default=0,
                        help="random_state of the per-fold i-vector extractors (their "
                             "spread over seeds)")
    parser.add_argument("--figure", default=None,
                        help="save the DET / histogram figure of commonvoice-en there (PNG)")
    args = parser.parse_args(argv)
    cache = None if args.cache == "none" else args.cache
    if args.small and cache:
        cache = cache.replace(".npz", "_small.npz")
    t0 = time.perf_counter()
    tables = None if cache is None else Path(cache.replace(".npz", "_tables.pkl"))
    if tables is not None and tables.exists() and _cached_all(cache):
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
    feats = fold_front_ends(sets, feats, cache, names=args.fold_ivectors,
                            seed=args.ivec_seed)
    for name in ("commonvoice", "speechocean"):
        if name not in args.fold_ivectors:
            feats = {k: v for k, v in feats.items() if not (
                k.startswith(f"{name}_ivec@") or k.startswith(f"librispeech_ivec@{name}"))}
        print(f"{name} i-vectors: extractor fitted "
              f"{'per outer fold' if name in args.fold_ivectors else 'on librispeech only'}")
    if args.prepare_only:
        return 0
    for name in sets:  # librispeech-only i-vectors joined: fsdd's identification
        feats[f"{name}_mfcc+ivec"] = np.c_[feats[f"{name}_mfcc"], feats[f"{name}_ivec"]]
    front = ("emb",) + tuple(fe for fe in CLASSICAL if fe in args.front_ends)
    return evaluate(sets, feats, figure=args.figure, front=front)


CANDIDATES = [  # back-end settings, chosen per fold by an inner speaker-disjoint CV
    dict(backend="cosine", whiten=False, score_norm="s-norm"),
    dict(backend="cosine", whiten=False, score_norm="as-norm", cohort_top=20),
    dict(backend="cosine", lda_components=96),
    dict(backend="plda"),
    dict(backend="plda", lda_components=96),
]
# the seed's own test pairs: 34 speakers, 100 same-speaker pairs each and 25 per pair of
# speakers, so 3400 of 17425 pairs (19.5 %) are same-speaker; its precision 0.8 is at that mix
SEED_PRIOR = 3400 / (3400 + 25 * 34 * 33 / 2)


def _tri(S, y):
    """Scores and same-speaker flags of every unordered pair, from a score matrix."""
    i, j = np.triu_indices(len(y), k=1)
    return S[i, j], y[i] == y[j]


def _cosine(X, Y=None):
    """Resemblyzer's own recipe: dot products of the L2-normalised vectors."""
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    V = U if Y is None else Y / np.linalg.norm(Y, axis=1, keepdims=True)
    return U @ V.T


def _in_domain(n_base, n):
    """adapt_on / calibrate_on mask: False for the base corpus, True for the set's clips."""
    return np.r_[np.zeros(n_base, bool), np.ones(n, bool)]


def _select(X_base, y_base, X, y):
    """The candidate with the lowest inner-CV EER (base always in training)."""
    from sklearn.model_selection import GroupKFold

    from sklaudio.speakers import SpeakerVerifier, equal_error_rate

    eers = []
    for params in CANDIDATES:
        scores, sames = [], []
        for tr, te in GroupKFold(2).split(X, groups=y):
            sv = SpeakerVerifier(calibration_cv=None, **params)
            sv.fit(np.r_[X_base, X[tr]], np.r_[y_base, y[tr]],
                   adapt_on=_in_domain(len(X_base), len(tr)))
            a, b = _tri(sv.score_matrix(X[te]), y[te])
            scores.append(a)
            sames.append(b)
        eers.append(equal_error_rate(np.concatenate(sames), np.concatenate(scores)))
    return CANDIDATES[int(np.argmin(eers))]


def _precision_at(tpr, fpr, prior):
    """Precision expected when a share ``prior`` of the pairs are same-speaker."""
    return tpr * prior / max(tpr * prior + fpr * (1 - prior), 1e-300)


def _met(precision, recall):
    return "met" if min(precision, recall) >= 0.9 else "NOT met"


# "the PyTorch-free classical system" of the target: in each outer fold, the one of these
# with the lowest EER in an inner speaker-disjoint CV on that fold's training speakers
SYSTEMS = ("mfcc", "ivec", "mfcc+ivec", "fusion")
N_BOOT = 1000  # speaker bootstrap resamples


def _standard(S, cal):
    """Scores standardised by the mean and spread of their own calibration scores."""
    return (S - cal.mean()) / cal.std()


def _fusion(parts):
    """Score fusion of back ends: each standardised by its own calibration scores, summed.

    ``parts``: dicts with the test scores ``S`` and the calibration scores ``cal`` (the
    same in-domain training pairs for every part, as their back ends split the same
    speakers). Returns the fused ``S`` and ``cal``; no weight is learned.
    """
    return (sum(_standard(p["S"], p["cal"]) for p in parts),
            sum(_standard(p["cal"], p["cal"]) for p in parts))


def _inner_choice(sets, feats, store, name, fold, tr, ytr):
    """The classical system with the lowest EER in an inner CV on the fold's training speakers.

    Two speaker-disjoint halves of the outer fold's training speakers (librispeech
    always in training); each front end's back end as chosen for this outer fold.
    The fold's test speakers are never used (nor is their audio by the fold's
    i-vector extractor; the inner held-out speakers' audio is, without labels).
    Returns (system, {system: inner EER}).
    """
    from sklearn.model_selection import GroupKFold

    from sklaudio.speakers import SpeakerVerifier, equal_error_rate

    y = sets[name][0].speaker.to_numpy().astype(str)[tr]
    trials = {k: ([], []) for k in SYSTEMS}
    for itr, ite in GroupKFold(2).split(y, groups=y):
        parts = {}
        for fe in SYSTEMS[:3]:
            base, X = _fold_feats(feats, name, fe, fold)
            X = X[tr]
            in_domain = _in_domain(len(base), len(itr))
            sv = SpeakerVerifier(**store[(name, fe)][fold]["params"]).fit(
                np.r_[base, X[itr]], np.r_[ytr, y[itr]], adapt_on=in_domain,
                calibrate_on=in_domain)
            parts[fe] = dict(S=sv.score_matrix(X[ite]),
                             cal=sv.calibration_scores_.score.to_numpy())
        parts["fusion"] = dict(zip(("S", "cal"), _fusion([parts["mfcc"], parts["ivec"]])))
        for k in SYSTEMS:
            a, b = _tri(_standard(parts[k]["S"], parts[k]["cal"]), y[ite])
            trials[k][0].append(a)
            trials[k][1].append(b)
    eers = {k: equal_error_rate(np.concatenate(b), np.concatenate(a))
            for k, (a, b) in trials.items()}
    return min(SYSTEMS, key=eers.get), eers


def _speaker_bootstrap(systems, ys, n_boot=N_BOOT, seed=0):
    """Pooled EER of each system over resamples of each fold's test speakers.

    ``systems``: {system: list of per-fold score matrices}; ``ys``: per-fold speakers.
    In each resample every fold's test speakers are drawn with replacement; a pair of
    speakers drawn ``c_a`` and ``c_b`` times weighs ``c_a c_b``, a same-speaker pair
    ``c_a``. All systems see the same resamples (paired). Returns {system: (n_boot,)}.
    """
    from sklaudio.speakers import equal_error_rate

    rng = np.random.default_rng(seed)
    folds = []
    for y in ys:
        names, inv = np.unique(y, return_inverse=True)
        i, j = np.triu_indices(len(y), k=1)
        folds.append((len(names), inv[i], inv[j], inv[i] == inv[j]))
    pooled = {k: np.concatenate([S[np.triu_indices(len(S), k=1)] for S in v])
              for k, v in systems.items()}
    same = np.concatenate([f[3] for f in folds])
    out = {k: np.empty(n_boot) for k in systems}
    for b in range(n_boot):
        w = []
        for n, a, c, sm in folds:
            cnt = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            w.append(np.where(sm, cnt[a], cnt[a] * cnt[c]))
        w = np.concatenate(w)
        for k in systems:
            out[k][b] = equal_error_rate(same, pooled[k], sample_weight=w)
    return out


def _classical(sets, feats, store, name):
    """Fusion, the inner-CV choice among :data:`SYSTEMS`, and bootstrap ratios on one set.

    Returns a DataFrame, one row per system (the four, ``chosen`` and ``emb``): pooled
    EER, minDCF, per-fold EERs, and the speaker-bootstrap spread of the EER ratio to
    the embedding system. Pooled over folds, each fold's scores are standardised by
    its own calibration scores (for the fusion, the fused ones), so that folds choosing
    different systems pool on one scale.
    """
    from sklaudio.speakers import equal_error_rate, min_dcf

    ytr = sets["librispeech"][0].speaker.to_numpy()
    folds = _outer_folds(sets[name][0])
    per = {k: [] for k in (*SYSTEMS, "chosen", "emb")}
    choice = []
    for fold, (tr, _) in enumerate(folds):
        fs = {fe: store[(name, fe)][fold] for fe in (*SYSTEMS[:3], "emb")}
        fs["fusion"] = dict(zip(("S", "cal"), _fusion([fs["mfcc"], fs["ivec"]])))
        for k, f in fs.items():
            per[k].append(_standard(f["S"], f["cal"]))
        pick, eers = _inner_choice(sets, feats, store, name, fold, tr, ytr)
        choice.append(pick)
        per["chosen"].append(per[pick][-1])
        print(f"  {name} fold {fold}: inner-CV EER "
              f"{ {k: round(100 * v, 2) for k, v in eers.items()} } -> {pick}", flush=True)
    ys = [store[(name, "emb")][f]["y"] for f in range(len(folds))]
    boot = _speaker_bootstrap(per, ys)
    rows = []
    for k, mats in per.items():
        a = np.concatenate([_tri(S, y)[0] for S, y in zip(mats, ys)])
        b = np.concatenate([_tri(S, y)[1] for S, y in zip(mats, ys)])
        eer = equal_error_rate(b, a)
        ratio = boot[k] / boot["emb"]
        rows.append(dict(set=name, system=k, eer=eer, min_dcf=min_dcf(b, a, p_target=0.01),
                         fold_eers=[round(100 * equal_error_rate(*_tri(S, y)[::-1]), 2)
                                    for S, y in zip(mats, ys)],
                         eer_lo=np.percentile(boot[k], 2.5),
                         eer_hi=np.percentile(boot[k], 97.5),
                         ratio_lo=np.percentile(ratio, 2.5),
                         ratio_hi=np.percentile(ratio, 97.5),
                         share_ratio_le2=float(np.mean(ratio <= 2))))
    out = pd.DataFrame(rows)
    out["ratio"] = out.eer / out.eer[out.system == "emb"].iloc[0]
    out.attrs["choice"] = choice
    return out


def _far_threshold(cal, target):
    non = np.sort(cal.score[~cal.same].to_numpy())
    k = int(np.floor(target * len(non)))
    return np.nextafter(non[len(non) - k - 1], np.inf)


def _open_set_threshold(model, X, y):
    """An open-set threshold from the enrolled speakers' own enrolment clips only.

    Each speaker's clips in two halves: models of one half score the other half; a
    clip's score for its own speaker is a genuine trial, its best score among the
    other speakers an impostor trial (as if its speaker were not enrolled); the
    threshold is at the EER of the two. The back end is unchanged, and neither the
    test clips nor the real impostor are used.
    """
    from sklaudio.speakers import equal_error_rate

    half = pd.Series(y).groupby(y).cumcount().to_numpy() % 2 == 0
    genuine, impostor = [], []
    for part in (half, ~half):
        m = copy.deepcopy(model).forget()
        m.enroll(X[part], y[part])
        S = m.score_speakers(X[~part])
        own = m.speakers_[None, :] == y[~part][:, None]
        genuine.append(S[own])
        impostor.append(np.where(own, -np.inf, S).max(axis=1))
    g, i = np.concatenate(genuine), np.concatenate(impostor)
    return equal_error_rate(np.r_[np.ones(len(g)), np.zeros(len(i))], np.r_[g, i],
                            return_threshold=True)[1]


def _open_set(model, X, y, first, impostor):
    """Open-set identification with ``impostor`` not enrolled, at two thresholds.

    ``train``: the model's threshold (calibrated in fit, on other corpora);
    ``enrol``: :func:`_open_set_threshold` on the enrolment clips.
    """
    m = copy.deepcopy(model).forget()
    enrolled = first & (y != impostor)
    m.enroll(X[enrolled], y[enrolled])
    test = ~first
    known = y[test] != impostor
    out = {}
    for tag, thr in (("train", None),
                     ("enrol", _open_set_threshold(m, X[enrolled], y[enrolled]))):
        pred = m.identify(X[test], threshold=thr)
        out[f"known_acc_{tag}"] = float(np.mean(pred[known] == y[test][known]))
        out[f"impostor_rejected_{tag}"] = float(np.mean(pred[~known] == m.unknown_label))
    return out


def _pooled_row(fe, name, system, r):
    """The printed row of one system from its folds' trials (``r``), and the pooled trials."""
    from sklaudio.speakers import equal_error_rate, min_dcf

    a, b = np.concatenate(r["all"]), np.concatenate(r["same"])
    acc, ss = np.concatenate(r["seed"]), np.concatenate(r["seed_same"])
    tp = np.sum(acc & ss)
    tpr, fpr = tp / ss.sum(), np.sum(acc & ~ss) / np.sum(~ss)
    row = dict(front_end=fe, set=name, system=system,
               eer=equal_error_rate(b, a), min_dcf=min_dcf(b, a, p_target=0.01),
               precision=tp / max(acc.sum(), 1), recall=tpr,
               # as if same- and different-speaker pairs were equally many
               precision_eq=tpr / (tpr + fpr),
               # at the seed's own mix of pairs (19.5 % same-speaker)
               precision_seed=_precision_at(tpr, fpr, SEED_PRIOR),
               n_trials=len(a), n_target=int(b.sum()), n_seed_pairs=len(ss),
               n_seed_same=int(ss.sum()))
    if r["seed_p"]:  # the thresholds calibrated for precision 0.9
        acc_p = np.concatenate(r["seed_p"])
        here, at_seed = acc_p[:, 0], acc_p[:, 1]
        row["precision@p0.9"] = np.sum(here & ss) / max(here.sum(), 1)
        row["recall@p0.9"] = np.sum(here & ss) / ss.sum()
        tpr_s = np.sum(at_seed & ss) / ss.sum()
        fpr_s = np.sum(at_seed & ~ss) / np.sum(~ss)
        row["precision_seed@p0.9"] = _precision_at(tpr_s, fpr_s, SEED_PRIOR)
        row["recall_seed@p0.9"] = tpr_s
    if r["far"]:
        far = np.sum(r["far"], axis=0)
        row["far@0.01"], row["far@0.05"] = far[0] / far[4], far[1] / far[4]
        row["far@0.01_in"], row["far@0.05_in"] = far[2] / far[4], far[3] / far[4]
    return row, b, a


def _verify_set(name, fe, sets, feats, ytr, chosen, figure, store):
    """Verification on one set with one front end: 4 speaker-disjoint folds, one row per system.

    Each fold's back-end test scores, its settings and its in-domain calibration scores
    go to ``store[(name, fe)]`` (a list, one dict per fold), for fusion and selection.
    """
    from sklaudio.speakers import (
        SpeakerVerifier,
        equal_error_rate,
        make_pairs,
        plot_verification,
        threshold_at_precision,
    )

    rows, t0 = [], time.perf_counter()
    y = sets[name][0].speaker.to_numpy().astype(str)
    res = {k: dict(all=[], same=[], seed=[], seed_same=[], far=[], seed_p=[]) for k in
           ("raw cosine", "back end")}
    store[(name, fe)] = []
    for fold, (tr, te) in enumerate(_outer_folds(sets[name][0])):
        Xtr, X = _fold_feats(feats, name, fe, fold)
        Xb, yb = np.r_[Xtr, X[tr]], np.r_[ytr, y[tr]]
        params = _select(Xtr, ytr, X[tr], y[tr])
        chosen[fe][str(params)] += 1
        # centring, score-normalisation cohort and threshold (at the EER) from the
        # in-domain speakers, as the guide recommends
        in_domain = _in_domain(len(Xtr), len(tr))
        sv = SpeakerVerifier(**params).fit(Xb, yb, adapt_on=in_domain,
                                           calibrate_on=in_domain)
        cal_in = sv.calibration_scores_
        # the same back end, its threshold calibrated on all training speakers' pairs
        cal = SpeakerVerifier(**params).fit(Xb, yb, adapt_on=in_domain) \
            .calibration_scores_
        seed = make_pairs(y[te], random_state=fold)  # 100 same / 25 different
        # thresholds for precision 0.9 (threshold_at_precision, as
        # calibration="precision" does) at the share of same-speaker pairs the seed's
        # scheme gives here (known from the pair counts before any score) and at the
        # seed's own share
        thr_p = {p: threshold_at_precision(cal_in.same, cal_in.score, 0.9,
                                           p_target=p)[0]
                 for p in (float(seed.same.mean()), SEED_PRIOR)}
        # raw cosine: threshold at the EER of the training speakers' pairs
        _, cos_thr = equal_error_rate(*_tri(_cosine(Xb), yb)[::-1], return_threshold=True)
        S_back = sv.score_matrix(X[te])
        store[(name, fe)].append(dict(S=S_back, y=y[te], params=params,
                                      cal=cal_in.score.to_numpy()))
        for system, S, thr, cal in (
                ("raw cosine", _cosine(X[te]), cos_thr, None),
                ("back end", S_back, sv.threshold_, cal)):
            a, b = _tri(S, y[te])
            r = res[system]
            r["all"].append(a)
            r["same"].append(b)
            r["seed"].append(S[seed.i, seed.j] >= thr)
            r["seed_same"].append(seed.same.to_numpy())
            if cal is not None:
                r["seed_p"].append(np.stack([S[seed.i, seed.j] >= t
                                             for t in thr_p.values()], axis=1))
            if cal is not None:  # FAR on the new speakers at thresholds set in fit
                r["far"].append([np.sum(a[~b] >= _far_threshold(c, f)) for c in
                                 (cal, cal_in) for f in (0.01, 0.05)] + [np.sum(~b)])
    for system, r in res.items():
        row, b, a = _pooled_row(fe, name, system, r)
        if r["far"] and figure and fe == "emb" and name == "commonvoice":
            plot_verification(b, a, threshold=None, path=figure, title=(
                "commonvoice-en 3 s windows: SpeakerEmbedding + back end "
                "(4 speaker-disjoint folds, pooled)"))
        rows.append(row)
    print(f"[{fe}] {name}: 4 folds in {time.perf_counter() - t0:.0f} s; settings "
          f"chosen: {dict(chosen[fe])}", flush=True)
    return rows


def _identify_fsdd(fe, sets, feats, ytr, params):
    """Closed- and open-set identification on fsdd with one front end: one row per system."""
    from sklaudio.speakers import SpeakerVerifier

    Xtr, ident = feats[f"librispeech_{fe}"], []
    # identification on fsdd: back end on all the other sets' speakers (fsdd's six are
    # new to it); enrol 10 digits per speaker, identify the other 30
    table = sets["fsdd"][0]
    X, y = feats[f"fsdd_{fe}"], table.speaker.to_numpy().astype(str)
    first = table.groupby("speaker").cumcount().to_numpy() < 10
    Xb = np.concatenate(
        [Xtr, feats[f"commonvoice_{fe}"], feats[f"speechocean_{fe}"]])
    yb = np.concatenate([ytr, sets["commonvoice"][0].speaker.to_numpy().astype(str),
                         sets["speechocean"][0].speaker.to_numpy().astype(str)])
    names = np.unique(y)
    models = np.stack([X[first & (y == s)].mean(0) for s in names])
    pred = names[np.argmax(_cosine(X[~first], models), axis=1)]
    ident.append(dict(front_end=fe, system="raw cosine",
                      closed_acc=float(np.mean(pred == y[~first]))))
    model = SpeakerVerifier(**params, calibration="far", target_far=0.01).fit(Xb, yb)
    # open set: each speaker in turn is the impostor, the five others enrolled
    opened = pd.DataFrame([_open_set(model, X, y, first, s) for s in names]).mean()
    model.forget()  # keep the back end; enrol only fsdd speakers
    model.enroll(X[first], y[first])
    pred = model.identify(X[~first], open_set=False)
    ident.append(dict(front_end=fe, system=f"back end {params}",
                      closed_acc=float(np.mean(pred == y[~first])), **opened))
    return ident


def _report(rows, ident, sets, feats, front, store):
    """Print the verification and identification tables and each target, met or not."""
    import resource

    pd.set_option("display.width", 250)
    res = pd.DataFrame(rows)
    print("\nVerification, 4 speaker-disjoint folds per set, trials pooled over folds (all "
          "pairs within a fold for EER / minDCF (p_target 0.01) / FAR; the seed's pairs, 100 "
          "same per speaker and 25 per pair of speakers, for precision / recall at the "
          "threshold calibrated in fit at the EER of the in-domain training speakers' pairs; "
          "precision_seed / precision_eq: the same rates at the seed's mix (19.5 % same) and "
          "at equal numbers; @p0.9: at thresholds for precision 0.9 at these pairs' mix and "
          "(seed) at the seed's; far@: calibrated on all / in-domain (_in) training pairs):")
    print(res.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("\nIdentification on fsdd (6 speakers, 8 kHz digits; 10 enrolment digits each, "
          "30 test digits each; open set: 5 enrolled, the 6th an impostor, each speaker "
          "in turn, averaged; threshold _train: at FAR 1 % on the training corpora's "
          "pairs; _enrol: at the EER of the enrolled speakers' own enrolment digits, half "
          "against half, each speaker's best score among the others as an impostor's):")
    print(pd.DataFrame(ident).to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    print("\nTargets:")
    for name in ("commonvoice", "speechocean"):
        r = res[res.set == name].set_index(["front_end", "system"])
        raw, learned = r.loc[("emb", "raw cosine"), "eer"], r.loc[("emb", "back end"), "eer"]
        rel = 1 - learned / raw
        print(f"  {name}: back end vs raw cosine on the embeddings: EER {100 * raw:.2f} -> "
              f"{100 * learned:.2f} %, {100 * rel:+.0f} % relative reduction (target >= 25 "
              f"%): {'met' if rel >= 0.25 else 'NOT met'}")
        for fe, what in CLASSICAL.items():
            if fe not in front:
                continue
            ratio = r.loc[(fe, "back end"), "eer"] / learned
            # raw scores of different back ends (PLDA log-ratios, cosines) do not pool
            mixed = len({str(f["params"]) for f in store[(name, fe)]}) > 1
            print(f"  {name}: PyTorch-free {what} system EER / embedding system EER = "
                  f"{ratio:.2f} (target <= 2): {'met' if ratio <= 2 else 'NOT met'}"
                  + ("; raw scores pooled over folds that chose different back ends, "
                     "so on different scales: see the standardised rows below" if mixed
                     else ""))
        if all(fe in front for fe in SYSTEMS[:3]):
            c = _classical(sets, feats, store, name)
            print(f"  {name}: PyTorch-free systems, pooled over folds on standardised "
                  f"scores (fusion: MFCC statistics + i-vector standardised scores summed; "
                  f"chosen: per fold by inner CV, {c.attrs['choice']}); 95 % speaker "
                  f"bootstrap ({N_BOOT} resamples) of EER and of the ratio to the "
                  f"embedding system:")
            print(c.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
            ch = c[c.system == "chosen"].iloc[0]
            print(f"  {name}: THE PyTorch-free classical system (chosen per fold by inner "
                  f"CV) EER {100 * ch.eer:.2f} % / embedding system EER = {ch.ratio:.2f} "
                  f"(target <= 2): {'met' if ch.ratio <= 2 else 'NOT met'}; bootstrap 95 % "
                  f"{ch.ratio_lo:.2f}-{ch.ratio_hi:.2f}, ratio <= 2 in "
                  f"{100 * ch.share_ratio_le2:.0f} % of resamples")
        for fe in front:
            row = r.loc[(fe, "back end")]
            print(f"  {name} [{fe}] precision / recall (target both >= 0.9): at the EER "
                  f"threshold {row.precision:.3f} / {row.recall:.3f} on these pairs "
                  f"({row.n_seed_same:.0f} same of {row.n_seed_pairs:.0f}), "
                  f"{row.precision_seed:.3f} at the seed's mix (19.5 % same), "
                  f"{row.precision_eq:.3f} at equal priors; at a threshold for precision 0.9 "
                  f"at the seed's mix {row['precision_seed@p0.9']:.3f} / "
                  f"{row['recall_seed@p0.9']:.3f}: "
                  f"{_met(row['precision_seed@p0.9'], row['recall_seed@p0.9'])}; at these "
                  f"pairs' mix {row['precision@p0.9']:.3f} / {row['recall@p0.9']:.3f}: "
                  f"{_met(row['precision@p0.9'], row['recall@p0.9'])}")
        for f in (0.01, 0.05):
            for suffix, how in (("", "all training speakers"), ("_in", "in-domain speakers")):
                far = r.loc[("emb", "back end"), f"far@{f:g}{suffix}"]
                print(f"  {name}: FAR on new speakers {100 * far:.2f} % for target {100 * f:g} "
                      f"% calibrated on {how} (+-2 points): "
                      f"{'met' if abs(far - f) <= 0.02 else 'NOT met'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory {peak:.0f} MB; load average {os.getloadavg()[0]:.1f} (2 cores shared)")


def evaluate(sets, feats, figure=None, front=("emb", *CLASSICAL)):
    """Run the protocol per front end (tune, score, calibrate), then print the report."""
    from collections import Counter

    ytr = sets["librispeech"][0].speaker.to_numpy()
    rows, ident, chosen, store = [], [], {}, {}
    for fe in front:
        chosen[fe] = Counter()
        for name in ("commonvoice", "speechocean"):
            rows += _verify_set(name, fe, sets, feats, ytr, chosen, figure, store)
        params = eval(chosen[fe].most_common(1)[0][0])  # noqa: S307 (our own dict repr)
        ident += _identify_fsdd(fe, sets, feats, ytr, params)
    _report(rows, ident, sets, feats, front, store)
    return 0

if __name__ == "__main__":
    sys.exit(main())
