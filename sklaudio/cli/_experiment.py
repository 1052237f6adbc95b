"""``sklaudio experiment``: predict gender and age from recordings (the main job).

Every argument is checked before any audio is read or written: the output folder, the
numbers, the age scheme, and the targets against the data's labels.
"""

from pathlib import Path

from sklaudio.cli._common import CLIError, check_output_dir

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    p = subparsers.add_parser(
        "experiment",
        help="predict gender and age from recordings (the main job)",
        description=(
            "Extract features once, tune the grid (scaler x PCA x features x C, and models "
            "on the speaker embedding when it is available) by speaker-grouped nested "
            "cross-validation, print the top grid points, held-out "
            "scores and confusion matrices, and write report.json (the whole run: data, "
            "choices, grid, versions, scores), clips.csv (each clip's labels, audio quality "
            "and held-out predictions), the fitted models (bundles for sklaudio predict "
            "and sklaudio serve) and "
            "confusion_<target>.png to --out. Without DATA, a synthetic voice corpus made "
            "by sklaudio.datasets.make_voices is written to OUT/voices and used."
        ),
    )
    p.add_argument("data", nargs="?", default=None,
                   help="a corpus folder or manifest: a Common Voice release folder or .tsv, "
                        "a LibriSpeech folder, a folder with manifest.csv, or a .csv "
                        "(default: a synthetic voice corpus)")
    p.add_argument("--target", nargs="+", default=None,
                   choices=["gender", "age", "age_years"],
                   help="what to predict (default: gender and age, where the labels have them)")
    p.add_argument("--age-scheme", default="auto",
                   help="how ages become groups: child-teen-adult, child-adult, decades, "
                        "common_voice, or auto: common_voice for adult corpora, "
                        "child-teen-adult when children are in (default: auto)")
    p.add_argument("--out", default="results",
                   help="output folder, new or empty (default: results)")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out, replacing files of the same name "
                        "(default: refuse)")
    p.add_argument("--n-speakers", type=int, default=120,
                   help="speakers of the synthetic corpus (default: 120)")
    p.add_argument("--sr", type=int, default=16000,
                   help="sampling rate the recordings are loaded at, in Hz (default: 16000)")
    p.add_argument("--no-denoise", action="store_true",
                   help="leave out the Denoiser step, for clean recordings (default: denoise)")
    p.add_argument("--embedding", nargs="?", choices=["auto", "yes", "no"], const="yes",
                   default="auto",
                   help="add a pretrained speaker encoder's embedding to the features, and "
                        "models on it to the grid (SpeakerEmbedding; needs its weights: "
                        "pip install --no-deps resemblyzer); auto: when the weights are "
                        "installed and --sr is 16000; --embedding alone means yes "
                        "(default: auto)")
    p.add_argument("--pool-speakers", action="store_true",
                   help="train gender and age groups on one row per speaker (the mean of "
                        "its clips' features) when speakers have several clips "
                        "(default: the inner CV chooses between that and clips)")
    p.add_argument("--regressor", choices=["svr", "ridge"], default="svr",
                   help="model for age_years: RBF SVR or Ridge (default: svr)")
    p.add_argument("--n-splits", type=int, default=5,
                   help="folds of the outer and of the inner cross-validation, at least 2 "
                        "(default: 5)")
    p.add_argument("--n-C", type=int, default=10,
                   help="values of the regularisation C in the grid, at least 1 (default: 10)")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="processes for clips and grid points; -1 uses every core "
                        "(default: one)")
    p.add_argument("--verbose", type=int, default=0,
                   help="1 shows progress bars of the audio steps (default: 0)")
    p.add_argument("--random-state", type=int, default=0,
                   help="fixes the random folds of the cross-validation and the synthetic "
                        "corpus, so that a run can be repeated (default: 0)")
    p.set_defaults(func=run)
    return p


def _check_numbers(args):
    if args.n_splits < 2:
        raise CLIError(f"--n-splits must be at least 2; got {args.n_splits}")
    if args.n_C < 1:
        raise CLIError(f"--n-C must be at least 1; got {args.n_C}")
    if args.n_speakers < 2:
        raise CLIError(f"--n-speakers must be at least 2; got {args.n_speakers}")
    if args.sr <= 0:
        raise CLIError(f"--sr must be a positive number of samples per second; got {args.sr}")
    if args.n_jobs == 0:
        raise CLIError("--n-jobs must not be 0: give a number of processes, or -1 for all")
    from sklaudio.datasets import AGE_SCHEMES

    if args.age_scheme != "auto" and args.age_scheme not in AGE_SCHEMES:
        raise CLIError(f"--age-scheme {args.age_scheme!r} is not known; choose auto or one "
                       f"of {', '.join(sorted(AGE_SCHEMES))}")


def _read(args, out):
    """(paths, labels, groups, source, make) where make() writes the synthetic corpus."""
    if args.data is not None:
        from sklaudio.datasets import read_dataset

        m = read_dataset(args.data)
        return m.paths, m.labels, m.groups, str(Path(args.data).resolve()), None
    from sklaudio.datasets import make_voices

    data = make_voices(args.n_speakers, random_state=args.random_state)  # in memory
    source = (f"synthetic voices (sklaudio.datasets.make_voices, {args.n_speakers} speakers, "
              f"random_state={args.random_state})")

    def make():
        print(f"no DATA given: writing a synthetic corpus of {args.n_speakers} speakers "
              f"to {out / 'voices'}")
        return make_voices(args.n_speakers, path=out / "voices",
                           random_state=args.random_state).paths

    return None, data.frame, data.groups, source, make


def run(args):
    from sklaudio.experiment import check_experiment, run_experiment

    _check_numbers(args)
    out = Path(args.out)
    if args.data is not None and Path(args.data).resolve() == out.resolve():
        raise CLIError(f"--out {args.out} is the data folder: choose another output folder")
    paths, labels, groups, source, make = _read(args, out)
    try:
        targets, scheme = check_experiment(
            labels, targets=args.target, age_scheme=args.age_scheme, groups=groups,
            n_splits=args.n_splits, n_C=args.n_C, regressor=args.regressor)
    except ValueError as exc:
        raise CLIError(f"{exc} (data: {source})") from None
    check_output_dir(out, force=args.force)
    if make is not None:
        paths = make()
    n_speakers = len(set(groups)) if groups is not None else "?"
    print(f"{len(paths)} clips, {n_speakers} speakers, targets {targets}, age groups: {scheme}")
    run_experiment(paths, labels, groups=groups, targets=targets, age_scheme=scheme,
                   sr=args.sr, denoise=not args.no_denoise,
                   embedding={"auto": "auto", "yes": True, "no": False}[args.embedding],
                   pool_speakers=True if args.pool_speakers else "auto",
                   regressor=args.regressor, n_splits=args.n_splits, n_C=args.n_C,
                   out_dir=out, n_jobs=args.n_jobs, verbose=args.verbose,
                   random_state=args.random_state, source=source)
    return 0
