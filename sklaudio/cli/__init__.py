"""The ``sklaudio`` command line.

Each command lives in its own module ``sklaudio/cli/_<command>.py`` that defines
``add_parser(subparsers)`` (registering the command, with ``func=run`` as default) and
``run(args) -> int``. A command reports a user's mistake by raising
:class:`~sklaudio.cli._common.CLIError` (or ``ValueError``/``OSError`` from the
library): :func:`main` prints it as one line and exits with status 2, never with a
traceback.
"""

import argparse
import importlib
import sys

from sklaudio.cli._common import CLIError

__all__ = ["main"]

# command modules, in the order ``sklaudio --help`` lists them
COMMANDS = ["_experiment", "_predict", "_serve", "_smooth", "_monitor"]


def build_parser():
    """The ``sklaudio`` argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="sklaudio", description="Machine learning on audio, the scikit-learn way.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sklaudio.cli.{name}").add_parser(sub)
    return parser


def main(argv=None):
    """Entry point of ``python -m sklaudio`` and of the ``sklaudio`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a usage or input error (one line on stderr), or what the
        command returns (for example the number of files that failed).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"sklaudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"sklaudio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sklaudio {args.command}: interrupted", file=sys.stderr)
        return 130
