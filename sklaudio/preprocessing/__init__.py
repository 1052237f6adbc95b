"""Audio-level preprocessing (noise reduction, trimming) and a fast Yeo-Johnson transform."""

from sklaudio.preprocessing._denoise import Denoiser
from sklaudio.preprocessing._plot import plot_before_after
from sklaudio.preprocessing._power import YeoJohnsonTransformer
from sklaudio.preprocessing._trim import Trimmer, frame_db

__all__ = ["Denoiser", "Trimmer", "YeoJohnsonTransformer", "frame_db", "plot_before_after"]
