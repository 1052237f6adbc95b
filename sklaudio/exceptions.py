"""Exceptions and warnings raised by sklaudio."""

__all__ = ["AudioLoadError", "AudioQualityWarning", "AudioWarning", "ParameterError"]


class ParameterError(ValueError):
    """A parameter value or an audio clip that sklaudio cannot work with.

    A subclass of :class:`ValueError`, so ``except ValueError`` still catches it
    (librosa's own ``ParameterError`` is not a ``ValueError``: sklaudio translates it).
    """


class AudioLoadError(ValueError, OSError):
    """An audio file that is missing, unreadable, corrupt or of an unsupported format.

    Inherits from :class:`ValueError` and :class:`OSError`, so code that expects either
    keeps working. The message always names the file.
    """


class AudioWarning(UserWarning):
    """Something about the audio that the user should know, but that is not an error."""


class AudioQualityWarning(AudioWarning):
    """Clips that carry no usable speech (too short, silent, or without a voiced frame).

    Raised once per call by every clip-level feature extractor, naming the clips; see
    :func:`sklaudio.features.assess_quality`. Work on other sounds than speech (where
    "no voice" is expected) may silence it alone::

        warnings.filterwarnings("ignore", category=AudioQualityWarning)
    """
