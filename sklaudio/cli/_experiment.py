"""``sklaudio experiment``: predict gender and age from recordings (the main job)."""

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "experiment",
        help="predict gender and age from recordings (the main job)",
        description=(
            "Extract features once, tune the seed grid (scaler x PCA x C) by speaker-grouped "
            "nested cross-validation, print the top grid points, held-out scores and "
            "confusion matrices, and write the fitted models (joblib), report.json and "
            "confusion_<target>.png to --out. Without DATA, a synthetic voice corpus made "
            "by sklaudio.datasets.make_voices is written to OUT/voices and used."
        ),
    )
    p.add_argument("data", nargs="?", default=None,
                   help="a corpus folder or manifest (Common Voice .tsv, LibriSpeech folder, "
                        "folder with manifest.csv, .csv); default: synthetic voices")
    p.add_argument("--target", nargs="+", default=None,
                   choices=["gender", "age", "age_years"],
                   help="what to predict (default: every one the labels allow)")
    p.add_argument("--age-scheme", default="auto",
                   help="child-teen-adult, child-adult, decades, common_voice, or auto "
                        "(common_voice for adult corpora, child-teen-adult when children are in)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--n-speakers", type=int, default=120,
                   help="speakers of the synthetic corpus (default: 120)")
    p.add_argument("--sr", type=int, default=16000)
    p.add_argument("--no-denoise", action="store_true",
                   help="leave out the Denoiser step (for clean recordings)")
    p.add_argument("--embedding", action="store_true",
                   help="add a pretrained speaker encoder's embedding to the features "
                        "(SpeakerEmbedding; needs pip install 'sklaudio[embed]')")
    p.add_argument("--regressor", choices=["svr", "ridge"], default="svr",
                   help="model for age_years: RBF SVR (default) or the seed's Ridge")
    p.add_argument("--n-splits", type=int, default=5)
    p.add_argument("--n-C", type=int, default=10, help="values of C in the grid")
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--verbose", type=int, default=0)
    p.add_argument("--random-state", type=int, default=0)
    p.set_defaults(func=run)
    return p


def run(args):
    import numpy as np

    from sklaudio.experiment import run_experiment

    out = Path(args.out)
    if args.data is None:
        from sklaudio.datasets import make_voices

        print(f"no DATA given: writing a synthetic corpus of {args.n_speakers} speakers "
              f"to {out / 'voices'}")
        data = make_voices(args.n_speakers, path=out / "voices", random_state=args.random_state)
        paths, labels, groups = data.paths, data.frame, data.groups
    else:
        from sklaudio.datasets import read_dataset

        m = read_dataset(args.data)
        paths, labels, groups = m.paths, m.labels, m.groups
    targets = args.target
    if targets is None:
        targets = [t for t in ("gender", "age") if t in labels or (t == "age" and "age_group" in labels)]
        if not targets:
            sys.exit(f"the labels of {args.data} have no 'gender' or 'age' column: "
                     f"columns are {list(labels.columns)}")
    scheme = args.age_scheme
    if scheme == "auto":
        age = labels["age"] if "age" in labels else None
        numeric = age is not None and np.issubdtype(np.asarray(age).dtype, np.number)
        scheme = "child-teen-adult" if numeric and np.nanmin(age) < 13 else "common_voice"
    print(f"{len(paths)} clips, {len(set(groups)) if groups is not None else '?'} speakers, "
          f"targets {targets}, age groups: {scheme}")
    run_experiment(paths, labels, groups=groups, targets=targets, age_scheme=scheme,
                   sr=args.sr, denoise=not args.no_denoise, embedding=args.embedding,
                   regressor=args.regressor,
                   n_splits=args.n_splits, n_C=args.n_C, out_dir=out,
                   n_jobs=args.n_jobs, verbose=args.verbose, random_state=args.random_state)
    return 0
