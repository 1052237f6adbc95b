"""Who is speaking: speaker verification and identification."""

from sklaudio.speakers._metrics import det_curve, equal_error_rate, min_dcf, verification_report
from sklaudio.speakers._verifier import SpeakerVerifier
from sklaudio.speakers._windows import make_windows

__all__ = [
    "SpeakerVerifier",
    "det_curve",
    "equal_error_rate",
    "make_windows",
    "min_dcf",
    "verification_report",
]
