"""Who is speaking: speaker verification and identification.

Windows from long recordings (:func:`make_windows`), same/different-speaker pairs and
trial lists (:func:`make_pairs`, :func:`make_trials`), an i-vector front end
(:class:`IVectorExtractor`), a verifier with enrolment and
identification (:class:`SpeakerVerifier`), metrics and a figure.
"""

from sklaudio.speakers._ivector import IVectorExtractor
from sklaudio.speakers._metrics import (
    det_curve,
    equal_error_rate,
    min_dcf,
    threshold_at_precision,
    verification_report,
)
from sklaudio.speakers._pairs import make_pairs, make_trials
from sklaudio.speakers._plot import plot_verification
from sklaudio.speakers._scorer import make_verification_scorer
from sklaudio.speakers._verifier import SpeakerVerifier
from sklaudio.speakers._windows import make_windows

__all__ = [
    "IVectorExtractor",
    "SpeakerVerifier",
    "det_curve",
    "equal_error_rate",
    "make_pairs",
    "make_trials",
    "make_verification_scorer",
    "make_windows",
    "min_dcf",
    "plot_verification",
    "threshold_at_precision",
    "verification_report",
]
