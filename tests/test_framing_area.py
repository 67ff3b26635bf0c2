"""The ``area`` frame rule (Wan: a fixed pixel area, any aspect): the chosen frame is legal, fits
the area, and no legal frame of that area shows the letterboxed image larger."""
from __future__ import annotations

import math
import random

import pytest

from motioncomic.errors import MotionComicError
from motioncomic.loaders.video_model import FrameSpec
from motioncomic.samplers.framing import area_frame, area_of, choose_frame, plan_frame

WAN_5B = FrameSpec("area", multiple=32, areas={"720p": 704 * 1280, "480p": 480 * 832}, default_resolution="720p")
WAN_14B = FrameSpec("area", multiple=16, areas={"480p": 480 * 832, "720p": 720 * 1280}, default_resolution="480p")


def _shown(frame, source, max_aspect=4.0):
    ratio = max(1 / max_aspect, min(max_aspect, source[0] / source[1]))
    return min(frame[1], frame[0] / ratio) * min(frame[0], frame[1] * ratio)


@pytest.mark.parametrize("spec,source,frame", [
    (WAN_5B, (720, 1280), (704, 1280)), (WAN_5B, (1280, 720), (1280, 704)), (WAN_5B, (1000, 1000), (928, 928)),
    (WAN_14B, (720, 1280), (480, 832)), (WAN_14B, (1280, 720), (832, 480)), (WAN_14B, (944, 400), (960, 416))])
def test_official_sizes_and_character_images(spec, source, frame):
    assert choose_frame(spec, source) == frame


def test_resolution_names_and_short_sides():
    assert choose_frame(WAN_14B, (720, 1280), "720p") == (720, 1280)
    assert choose_frame(WAN_14B, (720, 1280), 720) == (720, 1280)  # 720 -> the "720p" area
    assert area_of(WAN_5B, 96) == round(96 * 96 * 16 / 9)
    with pytest.raises(MotionComicError, match="unknown; choose one of 720p, 480p"):
        choose_frame(WAN_5B, (10, 10), "1080p")
    with pytest.raises(MotionComicError, match="below the smallest frame side 32"):
        choose_frame(WAN_5B, (10, 10), 16)


def test_huge_short_sides_are_clamped_and_odd_digits_refused():
    from motioncomic.samplers.framing import MAX_SIDE

    assert area_of(WAN_5B, "9" * 5000) == area_of(WAN_5B, 10**9) == round(MAX_SIDE * MAX_SIDE * 16 / 9)
    assert area_of(WAN_5B, "000096") == area_of(WAN_5B, 96)
    for odd in ("\u00b2", "\u0661\u0662\u0663", "12x"):  # superscript two, Arabic-Indic digits: not numbers here
        with pytest.raises(MotionComicError, match="unknown; choose one of"):
            area_of(WAN_5B, odd)


def test_no_legal_frame_shows_more():
    rng = random.Random(3)
    for _ in range(40):
        source = (rng.randint(16, 3000), rng.randint(16, 3000))
        m = rng.choice((16, 32))
        area = rng.randint(m * m, 200_000)
        fh, fw = area_frame(area, m, source)
        assert fh % m == 0 and fw % m == 0 and fh * fw <= area
        best = max(_shown((a * m, b * m), source) for a in range(1, area // (m * m) + 1)
                   for b in range(1, area // (a * m * m) + 1))
        assert math.isclose(_shown((fh, fw), source), best, rel_tol=1e-9)


def test_extreme_aspects_are_clamped_and_letterboxed():
    frame = choose_frame(WAN_5B, (100, 4000))
    assert frame[1] / frame[0] <= 4.0 + 0.1
    plan = plan_frame((100, 4000), frame, "pad")
    assert plan.content.w == frame[1] and plan.content.h < frame[0]  # borders above and below


def _area_frame_list(area, multiple, source, max_aspect=4.0):
    """The first implementation of :func:`area_frame` (every candidate in a list), kept as the
    reference the constant-memory one must match exactly."""
    h, w = source
    ratio = max(1 / max_aspect, min(max_aspect, h / w))
    m = multiple

    def score(c):
        fh, fw = c
        shown = min(fw, fh / ratio) * min(fh, fw * ratio)
        return (-round(shown, 6), abs(math.log(fh / fw / ratio)), fh * fw)

    cands = []
    for a in range(1, area // (m * m) + 1):
        widest = area // (a * m * m)
        fitting = min(widest, max(1, round(a / ratio)))
        cands += [(a * m, widest * m), (a * m, fitting * m)]
    return min(cands, key=score)


def test_area_frame_matches_the_list_implementation():
    rng = random.Random(11)
    cases = [(704 * 1280, 32, (720, 1280), 4.0), (480 * 832, 16, (944, 400), 4.0)]
    for _ in range(200):
        m = rng.choice((8, 16, 32, 64))
        side = rng.choice((rng.randint(1, 64), rng.randint(16, 4000)))
        source = (side, rng.choice((side, rng.randint(1, 4000))))  # squares (ties) and any aspect
        cases.append((rng.randint(m * m, 300_000), m, source, rng.choice((4.0, 3.0, 2.5, 1.0))))
    for case in cases:
        assert area_frame(*case) == _area_frame_list(*case), case


@pytest.mark.parametrize("case,frame", [  # values of the list implementation, kept as regressions
    ((704 * 1280, 32, (720, 1280), 4.0), (704, 1280)), ((480 * 832, 16, (944, 400), 4.0), (960, 416)),
    ((480 * 832, 16, (1, 1000), 4.0), (320, 1248)),
    ((round(2048 * 2048 * 16 / 9), 16, (1080, 1920), 4.0), (2048, 3632)),
    ((round(2048 * 2048 * 16 / 9), 32, (3000, 1000), 3.0), (4704, 1568)), ((1000, 16, (7, 13), 4.0), (16, 32)),
    ((256, 16, (5, 5), 4.0), (16, 16)), ((12345, 8, (100, 37), 2.5), (168, 72))])
def test_area_frame_regressions(case, frame):
    assert area_frame(*case) == frame
