"""StreamedClip through the audio contract, and the per-block finite check."""

import numpy as np
import pytest

from sklaudio.utils import ClipArray, check_clips
from sklaudio.utils._stream import StreamedClip, checked_blocks


def test_check_clips_passes_streamed_clips_through():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(1000).astype(np.float32)
    clip = StreamedClip.from_array(y, 16000, name="long.wav")
    clips, is_matrix = check_clips([np.zeros(5), clip], caller="MyStep")
    assert not is_matrix
    assert clips[1] is clip
    X = ClipArray([clip, np.zeros(5)], sr=16000)
    np.testing.assert_array_equal(X.lengths, [1000, 5])
    assert "1 streamed" in repr(X)


def test_check_clips_streamed_too_short_names_the_clip():
    clip = StreamedClip.from_array(np.zeros(10, np.float32), 16000, name="short.wav")
    with pytest.raises(ValueError, match=r"clip 1 \(short.wav\) has 10 samples; MyStep needs"):
        check_clips([np.zeros(50), clip], caller="MyStep", min_samples=20)


def test_check_clips_streamed_integer_refused():
    clip = StreamedClip.from_array(np.zeros(10, np.int16), 16000)
    with pytest.raises(TypeError, match="clip 0 is streamed with dtype int16"):
        check_clips([clip], caller="MyStep")


@pytest.mark.parametrize("block", [1, 7, 100, 1000])
@pytest.mark.parametrize("bad", [0, 56, 999])
def test_checked_blocks_names_absolute_sample(block, bad):
    y = np.zeros(1000, np.float32)
    y[bad] = np.inf
    y[bad + 1 :][:3] = np.nan  # only the first bad sample is reported
    clip = StreamedClip.from_array(y, 100, name="x.wav")
    with pytest.raises(ValueError, match=rf"infinity \(inf\): clip 'x.wav' at sample {bad} "
                                         rf"\({bad / 100:.2f} s\), given to MyStep"):
        list(checked_blocks(clip, "MyStep", block_size=block))


def test_checked_blocks_gives_the_clip():
    y = np.arange(25, dtype=np.float32)
    clip = StreamedClip.from_array(y, 100)
    blocks = list(checked_blocks(clip, "MyStep", block_size=7))
    assert [len(b) for b in blocks] == [7, 7, 7, 4]
    np.testing.assert_array_equal(np.concatenate(blocks), y)
