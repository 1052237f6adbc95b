"""What every command shares: one kind of user error, and output paths that never
overwrite an input or a previous run."""

from pathlib import Path

__all__ = ["CLIError", "check_output_dir", "check_output_file"]


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
