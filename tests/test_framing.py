"""Letterbox planning: content inside the frame, aspect kept, crop(pad(x)) == x."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from motioncomic.errors import MotionComicError
from motioncomic.loaders.video_model import FrameSpec
from motioncomic.samplers import framing

sizes = st.integers(min_value=1, max_value=8192)
COG10 = FrameSpec("fixed", sizes=((480, 720),))
COG15 = FrameSpec("aspect_range", short=768, long_max=1360, multiple=16)


@settings(max_examples=2000, deadline=None)
@given(h=sizes, w=sizes, fh=st.integers(16, 2048), fw=st.integers(16, 2048))
def test_letterbox_content_inside_frame_and_aspect_kept(h, w, fh, fw):
    plan = framing.plan_letterbox((h, w), (fh, fw))
    c = plan.content
    assert 0 <= c.y and 0 <= c.x and c.y + c.h <= fh and c.x + c.w <= fw
    assert c.h >= 1 and c.w >= 1
    assert c.h == fh or c.w == fw  # one side fills the frame
    # the free side is the exact proportional size rounded (or clamped to 1); when the free side
    # rounds up to fill the frame too, either side may be the limiting one
    width_limited = c.w == fw and (abs(c.h - h * fw / w) <= 1 or c.h == 1)
    height_limited = c.h == fh and (abs(c.w - w * fh / h) <= 1 or c.w == 1)
    assert width_limited or height_limited
    # centred: borders differ by at most one pixel
    assert abs((fh - c.h - c.y) - c.y) <= 1 and abs((fw - c.w - c.x) - c.x) <= 1


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 64), w=st.integers(1, 64), fh=st.integers(16, 96), fw=st.integers(16, 96))
def test_crop_of_pad_is_identity(h, w, fh, fw):
    plan = framing.plan_letterbox((h, w), (fh, fw))
    content = torch.rand(2, *plan.scaled, 3)
    framed = framing.pad_to_frame(content, plan, fill=(0.0, 0.0, 0.0))
    assert torch.equal(framing.crop_to_content(framed, plan), content)
    # everything outside the content box is border
    mask = torch.ones(fh, fw, dtype=torch.bool)
    c = plan.content
    mask[c.y : c.y + c.h, c.x : c.x + c.w] = False
    assert torch.all(framed[:, mask] == 0)


@settings(max_examples=500, deadline=None)
@given(h=sizes, w=sizes, fh=st.integers(16, 2048), fw=st.integers(16, 2048))
def test_cover_window_inside_scaled(h, w, fh, fw):
    plan = framing.plan_cover((h, w), (fh, fw))
    win, (sh, sw) = plan.window, plan.scaled
    assert sh >= fh and sw >= fw
    assert win.y + win.h <= sh and win.x + win.w <= sw and (win.h, win.w) == (fh, fw)


def test_tall_character_is_not_stretched(characters):
    from PIL import Image
    import numpy as np

    img = np.array(Image.open(characters / "game_character_fullbody.png").convert("RGB"))
    image = torch.from_numpy(img).float().div(255)[None]
    plan = framing.plan_frame(image.shape[1:3], (480, 720), "pad")
    framed = framing.apply_plan(image, plan)
    assert framed.shape == (1, 480, 720, 3)
    # 400x944 -> 203x480 content, centred, black left and right
    assert (plan.content.h, plan.content.w) == (480, 203)
    assert framed[0, :, : plan.content.x].abs().max() == 0
    back = framing.crop_to_content(framed, plan, resize_back=True)
    assert back.shape == image.shape
    assert (back - image).abs().mean() < 0.05


def test_fill_colour():
    plan = framing.plan_letterbox((10, 10), (10, 30))
    out = framing.apply_plan(torch.zeros(1, 10, 10, 3), plan, fill=(1.0, 0.5, 0.25))
    assert out[0, 0, 0].tolist() == [1.0, 0.5, 0.25]


def test_choose_frame_rules():
    assert framing.choose_frame(COG10, (944, 400)) == (480, 720)
    assert framing.choose_frame(COG15, (1000, 1000)) == (768, 768)
    assert framing.choose_frame(COG15, (720, 1280)) == (768, 1360)  # 16:9 capped at 1360
    assert framing.choose_frame(COG15, (944, 400)) == (1360, 768)  # portrait follows the image
    assert framing.choose_frame(COG15, (600, 800)) == (768, 1024)
    h, w = framing.choose_frame(COG15, (600, 800), resolution=480)
    assert (h, w) == (480, 640)
    with pytest.raises(MotionComicError, match="multiple of 16"):
        framing.choose_frame(COG15, (600, 800), resolution=500)
    buckets = FrameSpec("buckets", buckets={"480p": ((480, 854), (640, 640), (854, 480))},
                        default_resolution="480p")
    assert framing.choose_frame(buckets, (944, 400)) == (854, 480)
    with pytest.raises(MotionComicError, match="480p"):
        framing.choose_frame(buckets, (1, 1), resolution="9000p")


def test_bad_mode_and_empty_size():
    with pytest.raises(MotionComicError, match="pad, crop, stretch"):
        framing.plan_frame((10, 10), (10, 10), "squash")
    with pytest.raises(MotionComicError, match="at least 1"):
        framing.plan_letterbox((0, 10), (10, 10))
