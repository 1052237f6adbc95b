"""Audio-level preprocessing: noise reduction and trimming."""

from sklaudio.preprocessing._denoise import Denoiser
from sklaudio.preprocessing._trim import Trimmer, frame_db

__all__ = ["Denoiser", "Trimmer", "frame_db"]
