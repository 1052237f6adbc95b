"""``sklaudio monitor``: has new data drifted away from a model's training data?"""

from pathlib import Path

from sklaudio.cli._common import CLIError, add_trusted_option, check_output_dir, collect_inputs

__all__ = ["add_parser", "run"]

_TABLE_SUFFIXES = {".csv", ".tsv", ".parquet"}


def add_parser(subparsers):
    p = subparsers.add_parser(
        "monitor",
        help="test new data for drift against a model's training data",
        description=(
            "Compare NEW_DATA with a reference and print the columns that drifted, most "
            "drifted first (KS / chi-square tests with a correction for their number, PSI, "
            "normed Wasserstein distance). REFERENCE is a model bundle saved with "
            "sklaudio.deploy.save_model(..., reference=DriftMonitor(...).fit(...)) (NEW_DATA "
            "are then audio files, folders or manifests, run through the monitor's feature "
            "steps), or a feature table (.csv, .tsv, .parquet; NEW_DATA are then tables with "
            "the same columns). With --out, writes report.json and drift.png (histograms of "
            "the most drifted columns; needs matplotlib). Exit status: 0 no drift, 1 drift, "
            "2 an error."
        ),
    )
    p.add_argument("reference", metavar="REFERENCE",
                   help="a model bundle with a drift reference, or a feature table")
    p.add_argument("new_data", metavar="NEW_DATA", nargs="+",
                   help="audio files, folders or manifests (bundle), or feature tables")
    p.add_argument("--out", default=None, help="folder for report.json and drift.png")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out folder")
    p.add_argument("--alpha", type=float, default=None,
                   help="level of the test (default: the monitor's, 0.05 for a table)")
    p.add_argument("--correction", choices=["bonferroni", "fdr_bh"], default=None,
                   help="multiple-test correction (default: the monitor's, bonferroni)")
    p.add_argument("--detector", choices=["features", "classifier", "both"], default=None,
                   help="per-column tests, a domain classifier, or both")
    p.add_argument("--top", type=int, default=6, help="columns in the figure")
    p.add_argument("--rows", type=int, default=20,
                   help="rows of the printed table (report.json has them all)")
    add_trusted_option(p)
    p.set_defaults(func=run)
    return p


def _read_table(path):
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise CLIError(f"{path}: no such file")
    if suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")


def _load_monitor(args):
    from sklaudio.monitor import DriftMonitor

    ref = Path(args.reference)
    if not ref.is_file():
        raise CLIError(f"{args.reference}: no such file (give a model bundle or a feature table)")
    if ref.suffix.lower() in _TABLE_SUFFIXES:
        return DriftMonitor().fit(_read_table(ref))
    from sklaudio.deploy import load_bundle

    bundle = load_bundle(ref, trusted=args.trusted)
    if bundle.reference is None:
        raise CLIError(f"{args.reference} holds no drift reference: save the model with "
                       "sklaudio.deploy.save_model(model, path, reference=DriftMonitor("
                       "features=..., model=model).fit(training_audio))")
    return bundle.reference


def run(args):
    import json

    import pandas as pd

    monitor = _load_monitor(args)
    if args.out is not None:
        out = check_output_dir(args.out, force=args.force)
    changes = {k: v for k, v in (("alpha", args.alpha), ("correction", args.correction),
                                 ("detector", args.detector)) if v is not None}
    if changes:
        monitor.set_params(**changes)
        monitor._validate_params()
    if monitor.features is not None:
        batch = collect_inputs(args.new_data, missing="error")[0]
    else:
        for item in args.new_data:
            if Path(item).suffix.lower() not in _TABLE_SUFFIXES:
                raise CLIError(f"{item}: the reference is a feature table, so NEW_DATA must be "
                               "tables (.csv, .tsv, .parquet) with the same columns")
        batch = pd.concat([_read_table(t) for t in args.new_data], ignore_index=True)
    report = monitor.test(batch)
    print(report.format(max_rows=args.rows))
    if args.out is not None:
        (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        wrote = [str(out / "report.json")]
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            print("matplotlib is not installed: no figure (pip install matplotlib)")
        else:
            report.plot(top=args.top, path=out / "drift.png")
            wrote.append(str(out / "drift.png"))
        print("wrote " + ", ".join(wrote))
    return 1 if report.drift else 0
