"""``sklaudio smooth``: smooth detector segments (the implementation lives in
:mod:`sklaudio.segments._cli`)."""

from sklaudio.segments._cli import add_subparser as add_parser
from sklaudio.segments._cli import run

__all__ = ["add_parser", "run"]
