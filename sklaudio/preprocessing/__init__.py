"""Audio-level preprocessing, audio in -> audio out: noise reduction and trimming.

``YeoJohnsonTransformer`` moved to :mod:`sklaudio.tabular`; its old name here still
works, with a FutureWarning.
"""

from sklaudio.preprocessing._denoise import Denoiser
from sklaudio.preprocessing._plot import plot_before_after
from sklaudio.preprocessing._trim import Trimmer, frame_db
from sklaudio.utils._moved import moved_names

__all__ = ["Denoiser", "Trimmer", "frame_db", "plot_before_after"]

# names that moved to sklaudio.tabular (issue 11)
__getattr__ = moved_names(__name__, {"YeoJohnsonTransformer": "sklaudio.tabular"})
