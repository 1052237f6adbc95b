"""What every command shares: one kind of user error, output paths that never
overwrite an input or a previous run, how INPUT arguments become audio files, and
the option that trusts more types in a model bundle."""

from pathlib import Path

__all__ = [
    "CLIError",
    "add_trusted_option",
    "check_output_dir",
    "check_output_file",
    "collect_inputs",
]

_MANIFEST_SUFFIXES = (".csv", ".tsv")


class CLIError(Exception):
    """A mistake in the command line or its inputs; printed as one line, exit code 2."""


def check_output_file(path, *, inputs=(), force=False, option="--out"):
    """Refuse an output file that is one of the inputs, or exists without ``force``.

    Parameters
    ----------
    path : str or path-like
        The output file; ``"-"`` means standard output and is always allowed.
    inputs : iterable of str or path-like, default=()
        Files the command reads; the output may never be one of them.
    force : bool, default=False
        Allow replacing an existing file that is not an input.
    option : str, default="--out"
        The option's name, for the message.

    Returns
    -------
    path : pathlib.Path or None
        The checked path, or None for standard output.
    """
    if str(path) == "-":
        return None
    out = Path(path)
    resolved = out.resolve()
    for name in inputs:
        if str(name) != "-" and Path(name).resolve() == resolved:
            raise CLIError(f"{option} {path} is also an input: choose another output file")
    if out.is_dir():
        raise CLIError(f"{option} {path} is a folder: give a file name")
    if out.exists() and not force:
        raise CLIError(f"{option} {path} exists: choose a new file or pass --force to replace it")
    if not out.parent.exists():
        raise CLIError(f"{option} {path}: its folder {out.parent} does not exist")
    return out


def check_output_dir(path, *, force=False, option="--out"):
    """Make sure ``path`` is a folder the command may write into, before any work.

    A new folder is created; an existing empty one is used; a non-empty one is
    refused unless ``force``. Writability is checked by creating and removing a file.

    Parameters
    ----------
    path : str or path-like
        The output folder.
    force : bool, default=False
        Write into a non-empty folder (files of the same name are replaced).
    option : str, default="--out"
        The option's name, for the message.

    Returns
    -------
    path : pathlib.Path
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CLIError(f"{option} {path} is a file: give a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise CLIError(f"{option} {path} is not empty: choose a new folder or pass --force")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".sklaudio-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CLIError(f"{option} {path} cannot be written: {exc.strerror or exc}") from exc
    return out


def add_trusted_option(parser):
    """Add ``--trusted TYPE ...``, the types a model bundle may hold beyond the default ones."""
    parser.add_argument(
        "--trusted", nargs="+", default=None, metavar="TYPE",
        help="further types to trust when loading the bundle (as named by the error that "
             "refused them; default: none beyond sklaudio, scikit-learn, imbalanced-learn, "
             "numpy and scipy)")


def collect_inputs(inputs, groups_column=None, *, missing="row"):
    """Expand INPUT arguments into (paths, speakers or None, manifests read).

    A folder gives its audio files (searched below it, sorted by path); a ``.csv`` or
    ``.tsv`` file is a manifest read by :func:`sklaudio.datasets.read_dataset`; any
    other argument is an audio file. ``missing="row"`` passes a file that does not
    exist on (it becomes an error row of the output); ``"error"`` refuses it.
    """
    from sklaudio.datasets import read_dataset
    from sklaudio.datasets._readers import _audio_files
    from sklaudio.io import SUPPORTED_EXTENSIONS

    paths, speakers, manifests = [], [], []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = _audio_files(p, {e.lower() for e in SUPPORTED_EXTENSIONS}, recursive=True)
            if not found:
                raise CLIError(f"the folder {item} holds no audio files "
                               "(.wav, .flac, .ogg, .mp3, ...)")
            paths += [str(f) for f in found]
            speakers += [None] * len(found)
        elif p.suffix.lower() in _MANIFEST_SUFFIXES and p.is_file():
            m = read_dataset(p)
            manifests.append(str(p))
            paths += list(m.paths)
            speakers += _manifest_speakers(m.labels, groups_column, item)
        elif missing == "error" and not p.is_file():
            raise CLIError(f"{item}: no such file or folder")
        else:
            paths.append(str(p))
            speakers.append(None)
    if not paths:
        raise CLIError(f"no audio found in {' '.join(map(str, inputs))}")
    if groups_column is None:
        return paths, None, manifests
    lacking = [paths[i] for i, s in enumerate(speakers) if s is None]
    if lacking:
        raise CLIError(f"--groups {groups_column} needs a manifest with that column for "
                       f"every input; {len(lacking)} input(s) have none "
                       f"(first: {lacking[0]})")
    return paths, speakers, manifests


def _manifest_speakers(labels, groups_column, item):
    if groups_column is None:
        return [None] * len(labels)
    if groups_column not in labels:
        raise CLIError(f"--groups {groups_column}: {item} has no such column; "
                       f"its columns are {list(labels.columns)}")
    return labels[groups_column].tolist()
