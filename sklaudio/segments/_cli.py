"""The ``smooth`` command: read segments (JSON or CSV), write smoothed segments."""

import argparse
import sys

__all__ = ["add_subparser", "main"]

METHODS = ("gmm", "min-duration", "median", "viterbi")


def add_subparser(subparsers):
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
        "smooth", help="smooth detector segments (JSON or CSV in, same format out)",
        description="Read segments (JSON list of {startTime,endTime,segment} or "
        "{start,end,label}; CSV with start,end,label[,stream]) and write smoothed ones.",
    )
    p.add_argument("input", help="segments file (.json or .csv/.tsv/.segments)")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    p.add_argument("--format", choices=["json", "csv"], default=None,
                   help="output format (default: from the output extension, else the input's)")
    p.add_argument("--method", choices=METHODS, default="gmm")
    p.add_argument("--fit", default=None,
                   help="fit the GMM on this segments file, then smooth the input with it")
    p.add_argument("--min-samples", type=int, default=10, help="gmm: min_samples")
    p.add_argument("--duration-scale", choices=["linear", "log"], default="log")
    p.add_argument("--max-components", type=int, default=2)
    p.add_argument("--min-duration-on", type=float, default=0.0)
    p.add_argument("--min-duration-off", type=float, default=0.0)
    p.add_argument("--frame-duration", type=float, default=0.1)
    p.add_argument("--kernel-size", type=int, default=11)
    p.add_argument("--switch-penalty", type=float, default=0.5)
    p.set_defaults(func=run)
    return p


def _smoother(args):
    from sklaudio.segments import (
        GMMSegmentSmoother, MedianFilterSmoother, MinDurationSmoother, ViterbiSmoother,
    )

    if args.method == "gmm":
        return GMMSegmentSmoother(min_samples=args.min_samples,
                                  duration_scale=args.duration_scale,
                                  max_components=args.max_components)
    if args.method == "min-duration":
        return MinDurationSmoother(min_duration_on=args.min_duration_on,
                                   min_duration_off=args.min_duration_off)
    if args.method == "median":
        return MedianFilterSmoother(frame_duration=args.frame_duration,
                                    kernel_size=args.kernel_size)
    return ViterbiSmoother(switch_penalty=args.switch_penalty)


def run(args):
    """Execute a parsed ``smooth`` command; returns the exit status."""
    from sklaudio.segments import read_segments, write_segments

    segs = read_segments(args.input)
    smoother = _smoother(args)
    if args.fit is not None:
        smoother.fit(read_segments(args.fit))
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


def main(argv=None):
    """Run ``smooth`` as a standalone command line (``argv`` without the program name).

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after ``smooth``; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on bad input (with the message on stderr).
    """
    parser = argparse.ArgumentParser(prog="sklaudio")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subparser(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "smooth":
        argv = ["smooth"] + argv
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"sklaudio smooth: error: {exc}", file=sys.stderr)
        return 2
