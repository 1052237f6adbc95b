"""Read data-set manifests into (paths, labels, groups).

Every reader returns a :class:`Manifest`: absolute file paths, a pandas DataFrame of
labels in the same row order, and the speaker of each row (for group-aware splits such
as :class:`~sklearn.model_selection.GroupKFold`) when the data set has speakers.
"""

import csv
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sklaudio.datasets._schemes import COMMON_VOICE_AGES
from sklaudio.exceptions import AudioLoadError, AudioWarning
from sklaudio.io._load import SUPPORTED_EXTENSIONS
from sklaudio.utils._docstring import Substitution, _entry

__all__ = [
    "AGE_BUCKETS",
    "Manifest",
    "read_common_voice",
    "read_common_voice_csv",
    "read_dataset",
    "read_folder",
    "read_librispeech",
    "read_manifest",
]

#: Common Voice's age buckets, youngest first (the order of the ordered Categorical);
#: the labels of ``AGE_SCHEMES["common_voice"]``.
AGE_BUCKETS = COMMON_VOICE_AGES

# Every spelling of an age bucket Common Voice has used -> sklaudio's bucket name. The
# releases' TSVs spell the forties "fourties" (and have done since the first release).
_AGE_SPELLINGS = {name: name for name in AGE_BUCKETS} | {"fourties": "forties"}

# Common Voice gender values across releases -> sklaudio's three categories. Newer
# releases (17+) use male_masculine / female_feminine and finer self-descriptions.
_GENDER_MAP = {
    "male": "male",
    "female": "female",
    "other": "other",
    "male_masculine": "male",
    "female_feminine": "female",
    "intersex": "other",
    "transgender": "other",
    "non-binary": "other",
    "do_not_wish_to_say": np.nan,
}
_GENDERS = ("female", "male", "other")

_PATH_COLUMNS = ("path", "filename", "file", "filepath", "file_path", "audio", "audio_path")
_GROUP_COLUMNS = ("speaker", "speaker_id", "client_id")
_ON_MISSING = ("raise", "drop")

# the readers' shared parameter entries
_DOCS = {
    "on_missing": _entry("""
on_missing : {"raise", "drop"}, default="raise"
    What to do when a listed audio file does not exist: raise an error naming the
    first few, or drop those rows with a warning.
"""),
    "dropna": _entry("""
dropna : bool or list of str, default=False
    False keeps rows whose age or gender is not given (their label is NaN).
    True drops rows missing age or gender; a list names the columns to check.
"""),
}


class Manifest(NamedTuple):
    """The files of a data set with their labels and speakers.

    A named tuple, so ``paths, labels, groups = read_dataset(...)`` works; its fields
    are the parameters below.

    Parameters
    ----------
    paths : list of str
        Absolute paths of the audio files, one per row.

    labels : pandas.DataFrame
        One row per file, in the order of ``paths`` (index ``0 .. n-1``).

    groups : ndarray of shape (n_files,) or None
        Speaker of each file (for group-aware cross-validation), or None when the data
        set has no speaker information.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklaudio.datasets import Manifest
    >>> m = Manifest(["/data/a.wav"], pd.DataFrame({"label": ["dog"]}), None)
    >>> paths, labels, groups = m
    >>> paths, list(labels["label"]), groups
    (['/data/a.wav'], ['dog'], None)
    """

    paths: list
    labels: pd.DataFrame
    groups: np.ndarray | None


# --------------------------------------------------------------------------- helpers


def _check_on_missing(on_missing):
    if on_missing not in _ON_MISSING:
        raise ValueError(
            f"on_missing={on_missing!r} is not valid; use 'raise' (default) or 'drop'."
        )


def _check_file(path, what):
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {str(path)!r}. Check the path.")
    if path.is_dir():
        raise IsADirectoryError(
            f"{what} {str(path)!r} is a folder; pass the file itself, or the folder to "
            "read_dataset, which finds its manifest."
        )
    return path


def _read_table(path, *, sep=",", what="manifest"):
    """Read a CSV/TSV; integer columns with leading zeros (ids like 0001) stay strings."""
    # Common Voice sentences hold unbalanced quotes: TSVs are read without quoting
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    try:
        df = pd.read_csv(path, sep=sep, quoting=quoting)
        raw = pd.read_csv(path, sep=sep, quoting=quoting, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(
            f"The {what} {str(path)!r} is empty (not even a header line)."
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot parse the {what} {str(path)!r}: {exc}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    raw.columns = df.columns
    for col in df.columns:
        if df[col].dtype.kind in "iuf" and raw[col].str.match(r"^\s*[+-]?0\d").any():
            df[col] = raw[col].where(df[col].notna())
    if len(df) == 0:
        raise ValueError(
            f"The {what} {str(path)!r} has a header ({list(df.columns)}) but no rows."
        )
    return df


def _require_columns(df, columns, source, hint=""):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source!r} has no column {', '.join(map(repr, missing))}; the columns that "
            f"arrived are {list(df.columns)}.{(' ' + hint) if hint else ''}"
        )


def _no_empty_cells(values, source, what, fix):
    """``values`` as a Series of strings; empty or missing cells raise, naming their rows."""
    values = pd.Series(values).reset_index(drop=True)
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        rows = np.flatnonzero(empty.to_numpy())[:5].tolist()
        raise ValueError(
            f"{source!r}: {what} is empty in {int(empty.sum())} row(s) (data rows {rows}, "
            f"counting from 0). {fix}"
        )
    return values.astype(str)


def _resolve_paths(values, base, source, on_missing):
    """Absolute paths and a mask of the rows whose file exists (all True unless 'drop')."""
    values = _no_empty_cells(values, source, "the file path",
                             "Fill them in or remove those rows.")
    base = os.path.abspath(base)
    paths = [os.path.normpath(os.path.join(base, p.strip())) for p in values]
    exists = np.array([os.path.isfile(p) for p in paths], dtype=bool)  # writable
    if not exists.all():
        missing = [p for p, ok in zip(paths, exists) if not ok]
        first = ", ".join(repr(p) for p in missing[:3])
        if on_missing == "raise":
            raise AudioLoadError(
                f"{len(missing)} of the {len(paths)} files listed in {source!r} do not exist "
                f"(first: {first}). Relative paths were resolved against {base!r}: point "
                "root/clips_dir at the audio folder, or pass on_missing='drop' to skip "
                "them (with a warning)."
            )
        warnings.warn(
            f"Dropped {len(missing)} of the {len(paths)} rows of {source!r} whose file does "
            f"not exist (first: {first}).",
            AudioWarning,
            stacklevel=3,
        )
    return paths, exists


def _finish(paths, labels, groups, keep, source):
    """Apply the row mask, reset the index and build the Manifest."""
    keep = np.array(keep, dtype=bool)
    if not keep.any():
        raise ValueError(f"No rows of {source!r} are left (every row was dropped).")
    labels = labels.loc[keep].reset_index(drop=True)
    paths = [p for p, k in zip(paths, keep) if k]
    if groups is not None:
        groups = np.asarray(groups, dtype=object)[keep]
    return Manifest(paths, labels, groups)


def _check_groups(groups, source, column):
    groups = _no_empty_cells(groups, source, f"column {column!r} (the groups)",
                             "Fill them in, or pass group_col=None.")
    return groups.to_numpy(dtype=object)


def _clean_labels(values, mapping, what, source):
    """Strip and lower-case label strings and map them; empty -> NaN.

    Values that ``mapping`` does not know become NaN too, with one warning that names
    them and counts the rows, so that a new spelling in a later release costs those
    labels, not the whole table.
    """
    s = pd.Series(values, dtype=object).map(
        lambda v: v.strip().lower() if isinstance(v, str) else v
    )
    s = s.where(s.notna() & (s != ""), np.nan)
    unknown = s.notna() & ~s.isin(list(mapping))
    if unknown.any():
        names = sorted(set(s[unknown]))
        warnings.warn(
            f"{source!r}: {int(unknown.sum())} row(s) have {what} value(s) sklaudio does not "
            f"know ({names[:5]}); their {what} is left missing (NaN). Known values: "
            f"{sorted(mapping)}.",
            AudioWarning,
            stacklevel=4,
        )
    return s.map(mapping)


def _normalize_age(values, source):
    """Common Voice age buckets (every spelling) -> ordered Categorical; empty -> NaN."""
    s = _clean_labels(values, _AGE_SPELLINGS, "age", source)
    return pd.Categorical(s, categories=list(AGE_BUCKETS), ordered=True)


def _normalize_gender(values, source):
    """Common Voice gender values -> Categorical of female/male/other; empty -> NaN."""
    s = _clean_labels(values, _GENDER_MAP, "gender", source)
    return pd.Categorical(s, categories=list(_GENDERS))


def _dropna_mask(labels, dropna, source):
    if dropna is False or dropna is None:
        return np.ones(len(labels), dtype=bool)
    cols = ["age", "gender"] if dropna is True else [dropna] if isinstance(dropna, str) \
        else list(dropna)
    _require_columns(labels, cols, source, "dropna names the label columns to check.")
    return np.array(labels[cols].notna().all(axis=1), dtype=bool)


# --------------------------------------------------------------------------- readers


def _read_cv_frame(df, source, *, path_col, base, dropna, on_missing, group_col):
    labels = df.drop(columns=[path_col]).reset_index(drop=True)
    labels["age"] = _normalize_age(labels["age"], source)
    labels["gender"] = _normalize_gender(labels["gender"], source)
    for col in ("up_votes", "down_votes", "duration"):
        if col in labels:
            labels[col] = pd.to_numeric(labels[col], errors="coerce")
    groups = None if group_col is None else _check_groups(labels[group_col], source, group_col)
    keep = _dropna_mask(labels, dropna, source)
    # only check the files of the rows that are kept
    paths = [None] * len(df)
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        raise ValueError(f"No rows of {source!r} are left after dropna={dropna!r}.")
    found, exists = _resolve_paths(df[path_col].iloc[kept], base, source, on_missing)
    for i, p in zip(kept, found):
        paths[i] = p
    keep[kept[~exists]] = False
    return _finish(paths, labels, groups, keep, source)


def _default_clips_dir(table_path):
    folder = Path(table_path).resolve().parent
    return folder / "clips" if (folder / "clips").is_dir() else folder


@Substitution(**_DOCS)
def read_common_voice(path_tsv, *, clips_dir=None, dropna=False, on_missing="raise"):
    """Read a Common Voice TSV (``train.tsv``, ``validated.tsv``, ...).

    Parameters
    ----------
    path_tsv : str or os.PathLike
        The TSV file, with at least the columns ``client_id, path, age, gender``
        (releases also have ``sentence, up_votes, down_votes, accents, ...``).

    clips_dir : str or os.PathLike or None, default=None
        Folder of the audio files named in ``path``. None uses the ``clips`` folder
        beside the TSV (Common Voice's layout), or the TSV's folder if there is none.

    {dropna}

    {on_missing}

    Returns
    -------
    manifest : Manifest
        ``paths`` (absolute), ``labels`` (every column but ``path``, with ``age`` an
        ordered Categorical over :data:`AGE_BUCKETS` and ``gender`` a Categorical of
        ``female``, ``male``, ``other``), ``groups`` (``client_id``: one id per speaker).

    Raises
    ------
    ValueError
        For missing columns or an empty table.
    AudioLoadError
        When listed files do not exist and ``on_missing="raise"``.

    Warns
    -----
    AudioWarning
        When age or gender values are not known (they become NaN, counted and named).

    See Also
    --------
    read_common_voice_csv : The older CSV layout.
    read_dataset : Read any supported data set.

    Notes
    -----
    Gender values of newer releases are mapped: ``male_masculine`` -> ``male``,
    ``female_feminine`` -> ``female``; ``intersex``, ``transgender`` and
    ``non-binary`` -> ``other``; ``do_not_wish_to_say`` and empty -> NaN. Age
    buckets are read in every spelling releases have used (their TSVs write
    ``fourties``, read as ``forties``). Values sklaudio does not know become NaN with
    one :class:`~sklaudio.exceptions.AudioWarning` naming them, never silently.

    Rows without labels are kept (NaN) unless ``dropna`` says otherwise: a task that
    needs a label leaves those rows out and says how many. Any of a release's tables
    can be read, ``invalidated.tsv`` included (clips that listeners rejected);
    :func:`read_dataset` on a release folder reads ``validated.tsv`` only.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.datasets import read_common_voice
    >>> folder = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(folder, "clips"))
    >>> for name in ("a.mp3", "b.mp3"):
    ...     open(os.path.join(folder, "clips", name), "wb").close()
    >>> with open(os.path.join(folder, "train.tsv"), "w") as f:
    ...     _ = f.write("client_id\\tpath\\tsentence\\tup_votes\\tdown_votes\\t"
    ...                 "age\\tgender\\taccents\\n"
    ...                 "c1\\ta.mp3\\tHello.\\t2\\t0\\tthirties\\tmale_masculine\\t\\n"
    ...                 "c2\\tb.mp3\\tHi.\\t3\\t1\\t\\t\\t\\n")
    >>> paths, labels, groups = read_common_voice(os.path.join(folder, "train.tsv"))
    >>> [os.path.basename(p) for p in paths], list(groups)
    (['a.mp3', 'b.mp3'], ['c1', 'c2'])
    >>> labels["age"].tolist(), labels["gender"].tolist()
    (['thirties', nan], ['male', nan])
    >>> len(read_common_voice(os.path.join(folder, "train.tsv"), dropna=True).paths)
    1
    """
    _check_on_missing(on_missing)
    path_tsv = _check_file(path_tsv, "Common Voice TSV")
    source = str(path_tsv)
    df = _read_table(path_tsv, sep="\t", what="Common Voice TSV")
    _require_columns(
        df, ["client_id", "path", "age", "gender"], source,
        "Is it a Common Voice clip table (train/dev/test/validated.tsv)? For other "
        "tables use read_manifest.",
    )
    base = _default_clips_dir(path_tsv) if clips_dir is None else Path(clips_dir)
    return _read_cv_frame(df, source, path_col="path", base=base, dropna=dropna,
                          on_missing=on_missing, group_col="client_id")


@Substitution(**_DOCS)
def read_common_voice_csv(path_csv, *, clips_dir=None, dropna=False, on_missing="raise"):
    """Read the older Common Voice CSV layout (``cv-valid-train.csv`` and its siblings).

    Its columns are ``filename, text, up_votes, down_votes, age, gender, accent,
    duration``; ``filename`` is relative to the CSV's folder
    (``cv-valid-train/sample-000000.mp3``). It has no speaker ids, so ``groups`` is None.

    Parameters
    ----------
    path_csv : str or os.PathLike
        The CSV file.

    clips_dir : str or os.PathLike or None, default=None
        Folder the ``filename`` values are relative to; None uses the CSV's folder.

    {dropna}

    {on_missing}

    Returns
    -------
    manifest : Manifest
        ``labels`` holds every column but ``filename``, with ``age`` and ``gender``
        normalized as in :func:`read_common_voice`; ``groups`` is None.

    See Also
    --------
    read_common_voice : The TSV layout of current releases.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.datasets import read_common_voice_csv
    >>> folder = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(folder, "cv-valid-dev"))
    >>> open(os.path.join(folder, "cv-valid-dev", "sample-000000.mp3"), "wb").close()
    >>> with open(os.path.join(folder, "cv-valid-dev.csv"), "w") as f:
    ...     _ = f.write("filename,text,up_votes,down_votes,age,gender,accent,duration\\n"
    ...                 "cv-valid-dev/sample-000000.mp3,\\"be careful, he said\\",1,0,"
    ...                 "twenties,female,us,\\n")
    >>> m = read_common_voice_csv(os.path.join(folder, "cv-valid-dev.csv"))
    >>> m.labels[["text", "age", "gender"]].values.tolist(), m.groups
    ([['be careful, he said', 'twenties', 'female']], None)
    """
    _check_on_missing(on_missing)
    path_csv = _check_file(path_csv, "Common Voice CSV")
    source = str(path_csv)
    df = _read_table(path_csv, what="Common Voice CSV")
    _require_columns(
        df, ["filename", "age", "gender"], source,
        "Is it the older Common Voice layout (cv-valid-train.csv)? For the TSV layout "
        "use read_common_voice, for other tables read_manifest.",
    )
    base = Path(path_csv).resolve().parent if clips_dir is None else Path(clips_dir)
    return _read_cv_frame(df, source, path_col="filename", base=base, dropna=dropna,
                          on_missing=on_missing, group_col=None)


def _read_speakers_txt(path):
    """LibriSpeech's SPEAKERS.TXT -> DataFrame(speaker, gender, subset, minutes, name)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith(";"):
                continue
            # maxsplit: reader names may contain '|' (speaker 60 is "|CBW|Simon")
            parts = [p.strip() for p in line.split("|", 4)]
            if len(parts) < 4 or parts[1].upper() not in ("F", "M"):
                raise ValueError(
                    f"{str(path)!r} line {lineno} is not 'ID | SEX | SUBSET | MINUTES | "
                    f"NAME' with SEX F or M: {line.strip()!r}"
                )
            rows.append((parts[0], "female" if parts[1].upper() == "F" else "male",
                         parts[2], float(parts[3]), parts[4] if len(parts) > 4 else ""))
    if not rows:
        raise ValueError(f"{str(path)!r} lists no speakers.")
    return pd.DataFrame(rows, columns=["speaker", "gender", "subset", "minutes", "name"])


def _librispeech_ids(paths, source):
    """speaker and chapter from LibriSpeech file names ``speaker-chapter-utt.flac``."""
    speakers, chapters = [], []
    for p in paths:
        parts = Path(p).stem.split("-")
        if len(parts) != 3 or not all(x.isdigit() for x in parts):
            raise ValueError(
                f"{p!r} in {source!r} is not named like LibriSpeech "
                "('speaker-chapter-utterance.flac'), so its speaker is unknown. Give "
                "manifest.csv a 'speaker' column, or use read_manifest."
            )
        speakers.append(parts[0])
        chapters.append(parts[1])
    return speakers, chapters


def _librispeech_files(root, manifest_csv, source, on_missing):
    """Paths, labels with a ``speaker`` column, and which files exist: from
    ``manifest.csv`` when there is one, else every ``*.flac`` under ``root``."""
    if manifest_csv.is_file():
        df = _read_table(manifest_csv)
        _require_columns(df, ["path"], source)
        paths, exists = _resolve_paths(df["path"], root, source, on_missing)
        labels = df.drop(columns=["path"]).reset_index(drop=True)
        if "speaker" in labels:
            labels["speaker"] = _check_groups(labels["speaker"], source, "speaker")
        else:
            labels.insert(0, "speaker", _librispeech_ids(paths, source)[0])
        return paths, labels, exists
    paths = sorted(str(p.resolve()) for p in root.rglob("*") if p.suffix.lower() == ".flac")
    if not paths:
        raise ValueError(
            f"{str(root)!r} has SPEAKERS.TXT but neither manifest.csv nor *.flac files."
        )
    spk, chap = _librispeech_ids(paths, source)
    return paths, pd.DataFrame({"speaker": spk, "chapter": chap}), np.ones(len(paths), bool)


def _speakers_gender(labels, genders, source):
    """Each row's gender from SPEAKERS.TXT (``genders``: speaker -> gender), warning
    about speakers it lacks and about a manifest that says otherwise."""
    gender = labels["speaker"].map(genders)
    unknown = sorted(set(labels["speaker"][gender.isna()]))
    problems = [f"{len(unknown)} speaker(s) of {source!r} are not in SPEAKERS.TXT (first: "
                f"{unknown[:5]}); their gender is NaN."] if unknown else []
    if "gender" in labels:
        given = labels["gender"].astype(str).str.strip().str.lower()
        given = given.replace({"f": "female", "m": "male"})
        differ = sorted(set(labels["speaker"][gender.notna() & (given != gender)]))
        if differ:
            problems.append(f"{source!r} gives another gender than SPEAKERS.TXT for "
                            f"{len(differ)} speaker(s) (first: {differ[:5]}); using "
                            "SPEAKERS.TXT.")
    for message in problems:
        warnings.warn(message, AudioWarning, stacklevel=3)
    return pd.Categorical(gender, categories=["female", "male"])


@Substitution(on_missing=_DOCS["on_missing"])
def read_librispeech(root, *, on_missing="raise"):
    """Read a LibriSpeech folder: its audio files and the speakers' gender.

    Genders come from LibriSpeech's ``SPEAKERS.TXT`` (``F``/``M`` -> ``female``/``male``).
    The files are those listed in ``root/manifest.csv`` (column ``path``, other columns
    kept as labels) when it exists, else every ``*.flac`` under ``root``, whose speaker
    is the first part of the LibriSpeech name ``speaker-chapter-utterance.flac``.

    Parameters
    ----------
    root : str or os.PathLike
        Folder holding ``SPEAKERS.TXT``.

    {on_missing}
        Only the files listed in ``manifest.csv`` are checked.

    Returns
    -------
    manifest : Manifest
        ``labels`` has ``speaker`` (str), ``gender`` (Categorical female/male),
        ``subset`` and, for a globbed folder, ``chapter``, plus the other columns of
        ``manifest.csv``; ``groups`` is the speaker id.

    Raises
    ------
    ValueError
        When ``SPEAKERS.TXT`` is missing or malformed, or no audio is found.

    See Also
    --------
    read_dataset : Read any supported data set.

    Notes
    -----
    When ``manifest.csv`` also has a ``gender`` column, ``SPEAKERS.TXT`` wins and a
    warning lists disagreeing speakers. Speakers missing from ``SPEAKERS.TXT`` get a
    NaN gender, with a warning.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklaudio.datasets import read_librispeech
    >>> root = tempfile.mkdtemp()
    >>> with open(os.path.join(root, "SPEAKERS.TXT"), "w") as f:
    ...     _ = f.write(";ID |SEX| SUBSET |MINUTES| NAME\\n"
    ...                 "19 | F | train-clean-100 | 25.19 | Kara\\n"
    ...                 "26 | M | train-clean-100 | 25.08 | Denny\\n")
    >>> os.makedirs(os.path.join(root, "26", "495"))
    >>> sf.write(os.path.join(root, "26", "495", "26-495-0000.flac"), np.zeros(160), 16000)
    >>> m = read_librispeech(root)
    >>> m.labels[["speaker", "chapter", "gender"]].values.tolist(), list(m.groups)
    ([['26', '495', 'male']], ['26'])
    """
    _check_on_missing(on_missing)
    root = Path(os.fspath(root))
    if not root.is_dir():
        raise NotADirectoryError(
            f"read_librispeech expects the LibriSpeech folder; {str(root)!r} is not a folder."
        )
    speakers_txt = root / "SPEAKERS.TXT"
    if not speakers_txt.is_file():
        raise ValueError(
            f"{str(root)!r} has no SPEAKERS.TXT, so it is not a LibriSpeech folder. For a "
            "folder per class use read_folder, for a CSV read_manifest."
        )
    speakers = _read_speakers_txt(speakers_txt).drop_duplicates("speaker")
    manifest_csv = root / "manifest.csv"
    source = str(manifest_csv if manifest_csv.is_file() else root)
    paths, labels, exists = _librispeech_files(root, manifest_csv, source, on_missing)
    table = speakers.set_index("speaker")
    labels["gender"] = _speakers_gender(labels, table["gender"], source)
    labels["subset"] = labels["speaker"].map(table["subset"])
    groups = labels["speaker"].to_numpy(dtype=object)
    return _finish(paths, labels, groups, exists, source)


@Substitution(on_missing=_DOCS["on_missing"])
def read_manifest(path_csv, *, path_col="path", label_cols=None, group_col=None, root=None,
                  on_missing="raise"):
    """Read a generic CSV manifest: one row per audio file.

    Parameters
    ----------
    path_csv : str or os.PathLike
        The CSV file.

    path_col : str, default="path"
        Column with the file paths (absolute, or relative to ``root``).

    label_cols : list of str or None, default=None
        Columns kept as labels; None keeps every column but ``path_col``.

    group_col : str or None, default=None
        Column whose values are the groups (e.g. the speaker); None gives no groups.

    root : str or os.PathLike or None, default=None
        Folder relative paths are resolved against; None uses the CSV's folder.

    {on_missing}

    Returns
    -------
    manifest : Manifest
        Absolute ``paths``, ``labels`` (the chosen columns, in file order), ``groups``
        (as strings) or None.

    Raises
    ------
    ValueError
        For missing columns (named, with the columns that arrived), an empty table,
        empty paths or groups.
    AudioLoadError
        When listed files do not exist and ``on_missing="raise"``.

    See Also
    --------
    read_dataset : Pick the right reader for a file or folder.

    Notes
    -----
    Integer-looking ids with leading zeros (speaker ``0001``) are kept as strings.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.datasets import read_manifest
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("a.wav", "b.wav"):
    ...     open(os.path.join(folder, name), "wb").close()
    >>> with open(os.path.join(folder, "list.csv"), "w") as f:
    ...     _ = f.write("path,speaker,age\\na.wav,0007,31\\nb.wav,0012,8\\n")
    >>> m = read_manifest(os.path.join(folder, "list.csv"), group_col="speaker")
    >>> m.labels.values.tolist(), list(m.groups)
    ([['0007', 31], ['0012', 8]], ['0007', '0012'])
    """
    _check_on_missing(on_missing)
    path_csv = _check_file(path_csv, "manifest")
    source = str(path_csv)
    df = _read_table(path_csv)
    _require_columns(df, [path_col], source, "Pass path_col= to name the column of file paths.")
    if label_cols is None:
        label_cols = [c for c in df.columns if c != path_col]
    else:
        label_cols = [label_cols] if isinstance(label_cols, str) else list(label_cols)
        _require_columns(df, label_cols, source, "Check label_cols.")
    groups = None
    if group_col is not None:
        _require_columns(df, [group_col], source, "Check group_col, or pass group_col=None.")
        groups = _check_groups(df[group_col], source, group_col)
        if group_col in label_cols:
            df[group_col] = groups  # same strings in labels and groups
    base = Path(path_csv).resolve().parent if root is None else Path(root)
    paths, exists = _resolve_paths(df[path_col], base, source, on_missing)
    labels = df[label_cols].reset_index(drop=True)
    return _finish(paths, labels, groups, exists, source)


def read_folder(root, *, extensions=SUPPORTED_EXTENSIONS):
    """Read a folder-per-class tree: ``root/<label>/**/<file>``.

    Parameters
    ----------
    root : str or os.PathLike
        Folder whose sub-folders are the classes.

    extensions : tuple of str, default=SUPPORTED_EXTENSIONS
        Audio file extensions (case-insensitive); the default is every extension
        :func:`~sklaudio.io.load_audio` reads. Other files are ignored.

    Returns
    -------
    manifest : Manifest
        ``paths`` sorted by class then relative path, ``labels`` with one column
        ``label`` (the sub-folder name), ``groups`` None.

    Raises
    ------
    ValueError
        When there are no audio files in sub-folders, or audio files lie directly in
        ``root`` (they would have no class).

    See Also
    --------
    read_dataset : Pick the right reader for a file or folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.datasets import read_folder
    >>> root = tempfile.mkdtemp()
    >>> for label, name in [("dog", "1.wav"), ("dog", "2.WAV"), ("rain", "x.ogg")]:
    ...     os.makedirs(os.path.join(root, label), exist_ok=True)
    ...     open(os.path.join(root, label, name), "wb").close()
    >>> m = read_folder(root)
    >>> [os.path.basename(p) for p in m.paths], m.labels["label"].tolist()
    (['1.wav', '2.WAV', 'x.ogg'], ['dog', 'dog', 'rain'])
    """
    root = Path(os.fspath(root))
    if not root.is_dir():
        raise NotADirectoryError(f"read_folder expects a folder; {str(root)!r} is not one.")
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    loose = [p.name for p in _audio_files(root, exts)]
    if loose:
        raise ValueError(
            f"{str(root)!r} has audio files directly inside it ({loose[:3]}), which belong to "
            "no class. read_folder expects one sub-folder per class; move them into "
            "class folders, or list them in a CSV and use read_manifest."
        )
    paths, labels = [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = _audio_files(sub, exts, recursive=True)
        paths += [str(p.resolve()) for p in files]
        labels += [sub.name] * len(files)
    if not paths:
        raise ValueError(
            f"No audio files ({', '.join(sorted(exts))}) found in the sub-folders of "
            f"{str(root)!r}. Check the folder, or the extensions= argument."
        )
    return Manifest(paths, pd.DataFrame({"label": labels}), None)


def _audio_files(folder, exts, *, recursive=False):
    """The audio files of ``folder`` (hidden ones aside), sorted by their relative path."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = [p for p in found
             if p.is_file() and p.suffix.lower() in exts and not p.name.startswith(".")]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def _read_flat_folder(root, extensions=SUPPORTED_EXTENSIONS):
    """A folder of audio files without class folders: unlabelled, ``name`` column only."""
    files = _audio_files(root, {e.lower() for e in extensions})
    return Manifest([str(p.resolve()) for p in files],
                    pd.DataFrame({"name": [p.name for p in files]}), None)


def _has_class_folders(root):
    return any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())


def _sniff_columns(path, sep):
    with open(path, encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\r\n")
    return [c.strip().strip('"') for c in header.split(sep)]


def _read_generic_csv(path, on_missing):
    columns = _sniff_columns(path, ",")
    path_col = next((c for c in _PATH_COLUMNS if c in columns), None)
    if path_col is None:
        raise ValueError(
            f"{str(path)!r} has no column of file paths (looked for {list(_PATH_COLUMNS)}); "
            f"its columns are {columns}. Use read_manifest(..., path_col=...)."
        )
    group_col = next((c for c in _GROUP_COLUMNS if c in columns), None)
    return read_manifest(path, path_col=path_col, group_col=group_col, on_missing=on_missing)


@Substitution(on_missing=_DOCS["on_missing"])
def read_dataset(path, *, on_missing="raise"):
    """Read any supported data set from a file or a folder, picking the reader.

    ================================================  ===============================
    ``path`` is                                       read with
    ================================================  ===============================
    a ``.tsv`` file                                   :func:`read_common_voice`
    a ``.csv`` with ``filename, age, gender``         :func:`read_common_voice_csv`
    any other ``.csv``                                :func:`read_manifest` [1]
    a folder with ``SPEAKERS.TXT``                    :func:`read_librispeech`
    a folder with ``manifest.csv``                    that CSV, as above
    a folder with ``validated.tsv``                   :func:`read_common_voice` [3]
    a folder of audio files, no sub-folders           unlabelled [2]
    any other folder                                  :func:`read_folder`
    ================================================  ===============================

    [1] the path column is the first of ``path, filename, file, filepath, file_path,
    audio, audio_path``; the groups are the first of ``speaker, speaker_id,
    client_id`` (None when there is none).
    [2] ``labels`` has only a ``name`` column (the file name), ``groups`` is None:
    for data whose annotations live elsewhere (RTTM, segment files).
    [3] ``validated.tsv`` only: the clips of ``invalidated.tsv`` were rejected by
    Common Voice's listeners (wrong sentence, noise, no speech) and would teach a model
    noise. Read ``invalidated.tsv`` itself with :func:`read_common_voice` to use them.

    Parameters
    ----------
    path : str or os.PathLike
        The manifest file or data-set folder.

    {on_missing}
        Only manifests list files; a folder's files exist.

    Returns
    -------
    manifest : Manifest
        Paths, labels and groups, as the chosen reader returns them.

    See Also
    --------
    read_manifest, read_common_voice, read_librispeech, read_folder

    Examples
    --------
    >>> import os, tempfile
    >>> from sklaudio.datasets import read_dataset
    >>> root = tempfile.mkdtemp()
    >>> for name in ("0_jack_0.wav", "1_jack_0.wav"):
    ...     open(os.path.join(root, name), "wb").close()
    >>> with open(os.path.join(root, "manifest.csv"), "w") as f:
    ...     _ = f.write("path,digit,speaker\\n0_jack_0.wav,0,jack\\n1_jack_0.wav,1,jack\\n")
    >>> m = read_dataset(root)
    >>> m.labels["digit"].tolist(), list(m.groups)
    ([0, 1], ['jack', 'jack'])
    """
    _check_on_missing(on_missing)
    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(
            f"read_dataset: {str(p)!r} does not exist. Pass a data-set folder or a "
            "manifest file (.csv or Common Voice .tsv)."
        )
    if p.is_dir():
        if (p / "SPEAKERS.TXT").is_file():
            return read_librispeech(p, on_missing=on_missing)
        if (p / "manifest.csv").is_file():
            return read_dataset(p / "manifest.csv", on_missing=on_missing)
        if (p / "validated.tsv").is_file():
            return read_common_voice(p / "validated.tsv", on_missing=on_missing)
        if not _has_class_folders(p):
            flat = _read_flat_folder(p)
            if flat.paths:
                return flat
        return read_folder(p)
    suffix = p.suffix.lower()
    if suffix == ".tsv":
        return read_common_voice(p, on_missing=on_missing)
    if suffix == ".csv":
        columns = _sniff_columns(p, ",")
        if {"filename", "age", "gender"} <= set(columns) and "path" not in columns:
            return read_common_voice_csv(p, on_missing=on_missing)
        return _read_generic_csv(p, on_missing)
    raise ValueError(
        f"read_dataset does not know how to read {str(p)!r}: pass a folder, a .csv "
        "manifest or a Common Voice .tsv."
    )
