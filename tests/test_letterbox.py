"""Letterbox for any model: legal frames per core model preset, pad -> crop round trip, bad input."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from motioncomic.errors import MotionComicError
from motioncomic.samplers import letterbox as lb
from motioncomic.samplers.framing import plan_letterbox

WAN5B = lb.preset("Wan 2.2 TI2V 5B (1280x704, x32)")
AREA_PRESETS = [p for p in lb.PRESETS.values() if p.spec is None]


@settings(max_examples=120, deadline=None)
@given(h=st.integers(16, 6000), w=st.integers(16, 6000), i=st.integers(0, len(AREA_PRESETS) - 1))
def test_auto_frame_is_legal_and_keeps_the_aspect(h, w, i):
    p = AREA_PRESETS[i]
    fh, fw = lb.choose_preset_frame(p, (h, w))
    assert fh % p.multiple == 0 and fw % p.multiple == 0
    assert min(fh, fw) >= p.minimum and fh * fw <= p.area
    assert max(fh, fw) <= lb.MAX_ASPECT * min(fh, fw)
    c = plan_letterbox((h, w), (fh, fw)).content
    # the content box is the source aspect within one pixel of rounding
    assert abs(c.w - c.h * w / h) <= 1 or abs(c.h - c.w * h / w) <= 1


@settings(max_examples=80, deadline=None)
@given(h=st.integers(16, 3000), w=st.integers(16, 3000))
def test_auto_frame_gives_the_character_the_most_pixels(h, w):
    """Exhaustive check on a small preset: no legal frame holds a bigger letterboxed character."""
    p = lb.ModelPreset("small", (192, 320), 16, 16, "test")
    chosen = lb.choose_preset_frame(p, (h, w))
    best = 0
    for fh in range(16, p.area // 16 + 1, 16):
        for fw in range(16, p.area // fh + 1, 16):
            if max(fh, fw) <= lb.MAX_ASPECT * min(fh, fw):
                c = plan_letterbox((h, w), (fh, fw)).content
                best = max(best, c.h * c.w)
    c = plan_letterbox((h, w), chosen).content
    assert c.h * c.w == best


def test_native_frames_for_their_own_aspect():
    assert lb.choose_preset_frame(WAN5B, (720, 1280)) == (704, 1280)
    assert lb.choose_preset_frame(WAN5B, (1280, 720)) == (1280, 704)
    assert lb.choose_preset_frame(lb.preset("Wan 2.1/2.2 14B 480p (832x480, x16)"), (480, 832)) == (480, 832)
    assert lb.choose_preset_frame(lb.preset("CogVideoX 1.0 (720x480 only)"), (1024, 768)) == (480, 720)


@pytest.mark.parametrize("source", [(1024, 768), (1080, 2520)], ids=["3:4 portrait", "21:9 banner"])
def test_letterbox_then_crop_gives_back_the_source_aspect(source):
    h, w = source
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    img = torch.stack([yy, xx, (yy + xx) / 2], -1)[None]  # smooth, so resizing back is near lossless
    framed, plan = lb.letterbox_images(img, WAN5B, fill=(0.0, 0.0, 0.0))
    fh, fw = plan.frame
    assert framed.shape == (1, fh, fw, 3) and fh % 32 == 0 and fw % 32 == 0
    clip = framed.expand(5, -1, -1, -1)  # stands in for the model's frames at the plan's frame
    out = lb.crop_clip(clip, plan)
    assert out.shape[0] == 5
    oh, ow = out.shape[1:3]
    assert abs(ow - oh * w / h) <= 1 or abs(oh - ow * h / w) <= 1
    back = lb.crop_clip(clip, plan, resize_back=True)
    assert back.shape[1:3] == (h, w)
    assert (back - img).abs().max() < 0.02  # the character, not the border


def test_resizing_back_a_clip_that_would_not_fit_is_refused(monkeypatch):
    import motioncomic.media.video as mv

    framed, plan = lb.letterbox_images(torch.rand(1, 4000, 3000, 3), WAN5B, fill=(0.0, 0.0, 0.0))
    clip = framed.expand(200, -1, -1, -1)
    monkeypatch.setattr(mv, "available_memory", lambda: 8 * 2**30)  # 200 x 4000x3000 float32 = 27 GiB
    with pytest.raises(MotionComicError, match="resized back has about 200 frames of 3000x4000.*resize_back off"):
        lb.crop_clip(clip, plan, resize_back=True)
    assert lb.crop_clip(clip, plan).shape[0] == 200  # at the model's resolution: no new memory needed


def test_rgba_and_batches_are_framed_alike():
    rgba = torch.rand(3, 40, 30, 4)
    framed, plan = lb.letterbox_images(rgba, lb.preset("custom"), width=64, height=64, fill=(1.0, 0.0, 0.0))
    assert framed.shape == (3, 64, 64, 3)
    assert torch.allclose(framed[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))  # border colour
    assert plan.frame == (64, 64) and plan.source == (40, 30)


def test_given_frame_is_used_when_legal():
    assert lb.choose_preset_frame(WAN5B, (100, 100), 640, 384) == (384, 640)


@pytest.mark.parametrize("width,height,expect", [
    (0, 0, "target frame 0x0 is empty"),
    (832, 0, "target frame 832x0 is empty"),
])
def test_custom_frame_zero_is_refused(width, height, expect):
    with pytest.raises(MotionComicError, match=expect):
        lb.choose_preset_frame(lb.preset("custom"), (100, 100), width, height)


def test_frame_not_a_multiple_names_the_model_and_nearest_values():
    with pytest.raises(MotionComicError) as e:
        lb.choose_preset_frame(WAN5B, (100, 100), 1000, 704)
    msg = str(e.value)
    assert "width 1000" in msg and "Wan 2.2 TI2V 5B" in msg and "multiple of 32" in msg
    assert "992 or 1024" in msg
    with pytest.raises(MotionComicError, match="height 40.*nearest valid: 64"):
        lb.choose_preset_frame(lb.preset("LTX-Video (768x512, x32)"), (100, 100), 768, 40)
    with pytest.raises(MotionComicError, match="only generates 720x480"):
        lb.choose_preset_frame(lb.preset("CogVideoX 1.0 (720x480 only)"), (100, 100), 832, 480)


def test_unknown_preset_lists_the_choices():
    with pytest.raises(MotionComicError, match="Wan 2.2 TI2V 5B"):
        lb.preset("Wan 9")


def test_plan_on_a_clip_of_another_size_says_both_sizes():
    _, plan = lb.letterbox_images(torch.rand(1, 1024, 768, 3), WAN5B)
    fh, fw = plan.frame
    with pytest.raises(MotionComicError) as e:
        lb.crop_clip(torch.rand(2, 480, 832, 3), plan)
    assert "832x480" in str(e.value) and f"{fw}x{fh}" in str(e.value)
    with pytest.raises(MotionComicError, match="non-empty"):
        lb.crop_clip(torch.rand(0, fh, fw, 3), plan)


# --------------------------------------------------------------------------- the two nodes
def test_nodes_round_trip_a_portrait_and_report_the_frame():
    from motioncomic.nodes.letterbox import MotionComicCropToCharacter, MotionComicLetterboxImage

    img = torch.rand(1, 1024, 768, 3)
    before = img.clone()
    framed, width, height, plan = MotionComicLetterboxImage().letterbox(img, WAN5B.name, 0, 0, "pad", "#00ff00")
    assert torch.equal(img, before)  # inputs are never changed in place
    assert framed.shape == (1, height, width, 3) and (width, height) == (800, 1088)
    assert torch.allclose(framed[0, 0, 0], torch.tensor([0.0, 1.0, 0.0]))  # the border colour
    (out,) = MotionComicCropToCharacter().crop(framed.expand(3, -1, -1, -1), plan, False, False)
    assert out.shape == (3, plan.content.h, plan.content.w, 3) and plan.content.h % 2 == 1
    (even,) = MotionComicCropToCharacter().crop(framed, plan, False, True)
    assert even.shape == (1, plan.content.h - 1, plan.content.w, 3)  # 1067 -> 1066 rows for H.264
    assert torch.equal(even[0], out[0, :-1])
    (back,) = MotionComicCropToCharacter().crop(framed, plan, True, False)
    assert back.shape == (1, 1024, 768, 3)


def test_node_inputs_have_tooltips_and_the_preset_list():
    from motioncomic.nodes.letterbox import MotionComicCropToCharacter, MotionComicLetterboxImage

    for cls in (MotionComicLetterboxImage, MotionComicCropToCharacter):
        for spec in cls.INPUT_TYPES()["required"].values():
            assert spec[1]["tooltip"]
    presets = MotionComicLetterboxImage.INPUT_TYPES()["required"]["preset"][0]
    assert presets[-1] == "custom" and WAN5B.name in presets
    assert MotionComicLetterboxImage.RETURN_TYPES == ("IMAGE", "INT", "INT", "MOTIONCOMIC_FRAME_PLAN")
