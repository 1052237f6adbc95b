"""``sklaudio predict``: predict audio files with a saved model bundle."""

import csv
import json
import os
import sys

from sklaudio.cli._common import (
    CLIError,
    add_trusted_option,
    check_output_file,
    collect_inputs,
)

__all__ = ["add_parser", "run"]

_MAX_STATUS = 125  # exit statuses above 125 mean "not run" / signals to shells


def add_parser(subparsers):
    p = subparsers.add_parser(
        "predict",
        help="predict audio files with a saved model (one row per clip)",
        description=(
            "Load a model bundle (sklaudio.save_model) and predict every input clip, in "
            "batches, in input order: one row per clip with the prediction, the class "
            "probabilities, the clip's quality flag (ok, too_short, silent, no_voice) and "
            "its duration. A file that cannot be read becomes a row with its error and the "
            "run goes on. Exit status: 0 when every clip was predicted, else the number of "
            "clips that failed (at most 125); 2 with a one-line error and no output for a "
            "mistake in the command line."
        ),
    )
    p.add_argument("model", help="model bundle written by sklaudio.save_model")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="audio files, folders (searched for .wav/.flac/.ogg/.mp3, sorted by "
                        "path) or manifests (.csv, Common Voice .tsv)")
    p.add_argument("--out", "-o", default="-",
                   help="output file; - writes to standard output (default: -)")
    p.add_argument("--format", choices=["csv", "jsonl"], default=None,
                   help="output format (default: jsonl when --out ends in .jsonl or .json, "
                        "else csv)")
    p.add_argument("--groups", metavar="COLUMN", default=None,
                   help="manifest column naming each clip's speaker: adds one answer per "
                        "speaker from all their clips (speaker, speaker_prediction); "
                        "default: none")
    p.add_argument("--batch-size", type=int, default=32,
                   help="clips loaded and predicted together; memory holds one batch "
                        "(default: 32)")
    add_trusted_option(p)
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out file (default: refuse)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar on stderr (default: show it)")
    p.set_defaults(func=run)
    return p


class _Progress:
    """A one-line progress bar on stderr (a new line per update when not a terminal)."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()

    def __call__(self, done, total, failed):
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        line = (f"predict [{'#' * filled}{'.' * (width - filled)}] {done}/{total} clips"
                + (f", {failed} failed" if failed else ""))
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _columns(classes, with_groups):
    cols = ["input", "prediction"]
    cols += [f"proba_{c}" for c in classes or ()]
    cols += ["quality", "duration_s"]
    if with_groups:
        cols += ["speaker", "speaker_prediction"]
    return cols + ["error"]


def _flat(row, classes):
    out = {k: v for k, v in row.items() if k != "proba"}
    for c in classes or ():
        out[f"proba_{c}"] = None if row["proba"] is None else row["proba"][str(c)]
    return out


def _add_speaker_answers(rows, speakers, classes):
    """One answer per speaker from the mean probabilities (or predictions) of their clips."""
    import numpy as np

    from sklaudio.model_selection import speaker_mean

    ok = [i for i, r in enumerate(rows) if r["error"] is None]
    for r, s in zip(rows, speakers):
        r["speaker"], r["speaker_prediction"] = s, None
    if not ok:
        return
    groups = [speakers[i] for i in ok]
    if classes is not None and rows[ok[0]]["proba"] is not None:
        proba = np.array([[rows[i]["proba"][str(c)] for c in classes] for i in ok])
        answer = [classes[j] for j in speaker_mean(proba, groups).argmax(axis=1)]
    else:
        answer = [float(v) for v in speaker_mean([rows[i]["prediction"] for i in ok], groups)]
    for i, a in zip(ok, answer):
        rows[i]["speaker_prediction"] = a


def run(args):
    from sklaudio.deploy import load_bundle, predict_files

    if args.batch_size < 1:
        raise CLIError(f"--batch-size {args.batch_size}: give an integer >= 1")
    fmt = args.format or ("jsonl" if str(args.out).lower().endswith((".jsonl", ".json"))
                          else "csv")
    paths, speakers, manifests = collect_inputs(args.inputs, args.groups)
    out = check_output_file(args.out, inputs=[args.model, *paths, *manifests],
                            force=args.force)
    bundle = load_bundle(args.model, trusted=args.trusted)
    classes = bundle.metadata.get("classes")
    rows = predict_files(bundle.estimator, paths, metadata=bundle.metadata,
                         batch_size=args.batch_size, progress=_Progress(not args.quiet))
    if speakers is not None:  # per-speaker answers need every row first
        rows = list(rows)
        _add_speaker_answers(rows, speakers, classes)
    n_failed = 0
    stream = sys.stdout if out is None else open(out, "w", newline="", encoding="utf-8")
    try:
        writer = None
        if fmt == "csv":
            writer = csv.DictWriter(stream, fieldnames=_columns(classes, speakers is not None))
            writer.writeheader()
        for row in rows:
            n_failed += row["error"] is not None
            if writer is not None:
                writer.writerow(_flat(row, classes))
            else:
                stream.write(json.dumps(row) + "\n")
            stream.flush()
    except BrokenPipeError:  # `sklaudio predict ... | head`: the reader has what it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return min(n_failed, _MAX_STATUS)
    finally:
        if out is not None:
            stream.close()
    if n_failed:
        print(f"sklaudio predict: {n_failed} of {len(paths)} clips failed (see their 'error' "
              "field)", file=sys.stderr)
    return min(n_failed, _MAX_STATUS)

