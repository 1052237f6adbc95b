"""``sklaudio smooth``: read a detector's segments (JSON, CSV or RTTM), write smoothed ones.

Every argument is checked before any work: the input must be a readable text file, the
output may never be an input and is refused when it exists unless ``--force``.
"""

from pathlib import Path

from sklaudio.cli._common import CLIError, check_output_file

__all__ = ["add_parser", "run"]

METHODS = ("gmm", "min-duration", "median", "viterbi")


def add_parser(subparsers):
    """Register ``smooth`` on an argparse ``subparsers`` object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``smooth`` parser; its ``func`` default runs the command.
    """
    p = subparsers.add_parser(
        "smooth", help="smooth a detector's segments (JSON, CSV or RTTM in; JSON or CSV out)",
        description="Read segments (JSON list of {startTime,endTime,segment} or "
        "{start,end,label}; CSV with start,end,label[,stream]; RTTM speaker turns, read as "
        "speech/non-speech) and write smoothed ones.",
    )
    p.add_argument("input", help="segments file: .json, .csv/.tsv/.segments or .rttm")
    p.add_argument("-o", "--output", default="-",
                   help="output file; never one of the inputs (default: - for standard output)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output file (default: refuse)")
    p.add_argument("--format", choices=["json", "csv"], default=None,
                   help="output format (default: from the output's extension, else the "
                   "input's; CSV for RTTM input)")
    p.add_argument("--uem", default=None,
                   help="RTTM input: .uem file of the annotated span per recording "
                   "(default: none, from 0 to the last turn)")
    p.add_argument("--method", choices=METHODS, default="gmm",
                   help="smoother (default: gmm)")
    p.add_argument("--fit", default=None, metavar="FILE",
                   help="gmm: learn the duration models from this segments file, then smooth "
                   "the input with them (default: learn from the input)")
    p.add_argument("--strategy", choices=["hsmm", "threshold", "original"], default="hsmm",
                   help="gmm: whole-stream decoding, per-class thresholds, or the original "
                   "algorithm (default: hsmm)")
    p.add_argument("--min-samples", type=int, default=10,
                   help="gmm: model a class only with more segments than this (default: 10)")
    p.add_argument("--max-components", type=int, default=2,
                   help="gmm: most mixture components compared (default: 2)")
    p.add_argument("--min-duration-on", type=float, default=0.0,
                   help="min-duration: remove positive regions shorter than this, in "
                   "seconds (default: 0.0)")
    p.add_argument("--min-duration-off", type=float, default=0.0,
                   help="min-duration: fill gaps between positive regions shorter than "
                   "this, in seconds (default: 0.0)")
    p.add_argument("--positive", default=None,
                   help="min-duration: the active label (default: the last of the two "
                   "sorted labels)")
    p.add_argument("--frame-duration", type=float, default=0.1,
                   help="median: frame length in seconds (default: 0.1)")
    p.add_argument("--kernel-size", type=int, default=11,
                   help="median: odd number of frames in the window (default: 11)")
    p.add_argument("--switch-penalty", type=float, default=0.5,
                   help="viterbi: cost of a label change in seconds (default: 0.5)")
    p.set_defaults(func=run)
    return p


def _smoother(args):
    from sklaudio.segments import (
        GMMSegmentSmoother,
        MedianFilterSmoother,
        MinDurationSmoother,
        ViterbiSmoother,
    )

    if args.method == "gmm":
        sm = GMMSegmentSmoother(strategy=args.strategy, min_samples=args.min_samples,
                                max_components=args.max_components)
    elif args.method == "min-duration":
        sm = MinDurationSmoother(min_duration_on=args.min_duration_on,
                                 min_duration_off=args.min_duration_off,
                                 positive=args.positive)
    elif args.method == "median":
        if args.kernel_size % 2 == 0:
            raise CLIError(f"--kernel-size must be odd; got {args.kernel_size}")
        sm = MedianFilterSmoother(frame_duration=args.frame_duration,
                                  kernel_size=args.kernel_size)
    else:
        sm = ViterbiSmoother(switch_penalty=args.switch_penalty)
    try:
        sm._validate_params()
    except ValueError as exc:  # name the option, not the Python parameter
        option = "--" + str(exc).split("'")[1].replace("_", "-") if "'" in str(exc) else ""
        raise CLIError(f"{option}: {exc}" if option else str(exc)) from exc
    return sm


def _check_text_file(path, option):
    """The file exists and is text (not audio or another binary format)."""
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{option} {path} does not exist")
    if p.is_dir():
        raise CLIError(f"{option} {path} is a folder: give a segments file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise CLIError(f"{option} {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        if b"\0" in head:
            raise UnicodeDecodeError("utf-8", head, head.index(b"\0"), head.index(b"\0") + 1,
                                     "NUL byte")
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and len(head) == 65536:
            return  # a multi-byte character cut at the end of the sample
        raise CLIError(
            f"{option} {path} is not a text segments file (binary data at byte {exc.start}): "
            "give a JSON, CSV or RTTM file") from exc


def _read(path, option, uem=None):
    from sklaudio.segments import read_rttm, read_segments

    try:
        if str(path).lower().endswith(".rttm"):
            return read_rttm(path, uem=uem)
        return read_segments(path)
    except (ValueError, TypeError, KeyError) as exc:
        msg = str(exc)
        raise CLIError(msg if str(path) in msg else f"{option} {path}: {msg}") from exc


def run(args):
    """Execute a parsed ``smooth`` command.

    Parameters
    ----------
    args : argparse.Namespace
        From the ``smooth`` parser.

    Returns
    -------
    status : int
        0 on success (errors raise :class:`~sklaudio.cli._common.CLIError`).
    """
    from sklaudio.segments import write_segments

    _check_text_file(args.input, "input")
    if args.fit is not None:
        _check_text_file(args.fit, "--fit")
    if args.uem is not None:
        _check_text_file(args.uem, "--uem")
    inputs = [x for x in (args.input, args.fit, args.uem) if x is not None]
    check_output_file(args.output, inputs=inputs, force=args.force, option="-o/--output")
    smoother = _smoother(args)
    segs = _read(args.input, "input", uem=args.uem)
    if args.fit is not None:
        smoother.fit(_read(args.fit, "--fit", uem=args.uem))
        out = smoother.transform(segs)
    else:
        out = smoother.fit_transform(segs)
    fmt = args.format
    if fmt is None:
        out_json = str(args.output).lower().endswith(".json") or (
            args.output == "-" and str(args.input).lower().endswith(".json"))
        fmt = "json" if out_json else "csv"
    write_segments(out, args.output, format=fmt)
    return 0
