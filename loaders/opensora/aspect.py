"""Open-Sora 1.2 aspect buckets (height, width) per resolution, and the frame rules of STDiT3.

The table is upstream's ``opensora/datasets/aspect.py`` ``ASPECT_RATIOS`` restricted to the six
video resolutions and the 17 ratios of ``ASPECT_RATIO_MAP`` (keys are H/W, e.g. "0.56" = 9:16 H:W
= a landscape 16:9 frame). Sizes are the exact integers upstream trained on.
"""
from __future__ import annotations

import math

from ...errors import MotionComicError
from ..video_model import FrameCounts, FrameSpec

#: H:W name of each ratio key (upstream's ASPECT_RATIO_MAP, inverted).
RATIO_NAMES: dict[str, str] = {
    "0.38": "3:8", "0.43": "9:21", "0.48": "12:25", "0.50": "1:2", "0.53": "9:17", "0.54": "27:50",
    "0.56": "9:16", "0.62": "5:8", "0.67": "2:3", "0.75": "3:4", "1.00": "1:1", "1.33": "4:3",
    "1.50": "3:2", "1.78": "16:9", "1.89": "17:9", "2.00": "2:1", "2.08": "50:27",
}

#: (height, width) by resolution and H/W ratio key.
BUCKETS: dict[str, dict[str, tuple[int, int]]] = {
    "144p": {"0.38": (117, 312), "0.43": (125, 291), "0.48": (133, 277), "0.50": (135, 270), "0.53": (139, 262), "0.54": (141, 260), "0.56": (144, 256), "0.62": (151, 241), "0.67": (156, 234), "0.75": (166, 221), "1.00": (192, 192), "1.33": (221, 165), "1.50": (235, 156), "1.78": (256, 144), "1.89": (263, 139), "2.00": (271, 135), "2.08": (277, 132)},
    "240p": {"0.38": (196, 522), "0.43": (210, 490), "0.48": (222, 462), "0.50": (226, 452), "0.53": (232, 438), "0.54": (236, 436), "0.56": (240, 426), "0.62": (252, 404), "0.67": (262, 393), "0.75": (276, 368), "1.00": (320, 320), "1.33": (370, 278), "1.50": (392, 262), "1.78": (426, 240), "1.89": (440, 232), "2.00": (452, 226), "2.08": (462, 222)},
    "360p": {"0.38": (294, 784), "0.43": (314, 732), "0.48": (332, 692), "0.50": (340, 680), "0.53": (350, 662), "0.54": (352, 652), "0.56": (360, 640), "0.62": (380, 608), "0.67": (392, 588), "0.75": (416, 554), "1.00": (480, 480), "1.33": (554, 416), "1.50": (588, 392), "1.78": (640, 360), "1.89": (660, 350), "2.00": (678, 340), "2.08": (692, 332)},
    "480p": {"0.38": (392, 1046), "0.43": (420, 980), "0.48": (444, 925), "0.50": (452, 904), "0.53": (466, 880), "0.54": (470, 870), "0.56": (480, 854), "0.62": (506, 810), "0.67": (522, 784), "0.75": (554, 738), "1.00": (640, 640), "1.33": (740, 555), "1.50": (784, 522), "1.78": (854, 480), "1.89": (880, 466), "2.00": (906, 454), "2.08": (924, 444)},
    "720p": {"0.38": (588, 1568), "0.43": (628, 1466), "0.48": (666, 1388), "0.50": (678, 1356), "0.53": (698, 1318), "0.54": (706, 1306), "0.56": (720, 1280), "0.62": (758, 1212), "0.67": (784, 1176), "0.75": (832, 1110), "1.00": (960, 960), "1.33": (1108, 832), "1.50": (1176, 784), "1.78": (1280, 720), "1.89": (1320, 698), "2.00": (1358, 680), "2.08": (1386, 666)},
    "1080p": {"0.38": (882, 2352), "0.43": (942, 2198), "0.48": (998, 2080), "0.50": (1018, 2036), "0.53": (1048, 1980), "0.54": (1058, 1958), "0.56": (1080, 1920), "0.62": (1138, 1820), "0.67": (1176, 1764), "0.75": (1248, 1664), "1.00": (1440, 1440), "1.33": (1662, 1246), "1.50": (1764, 1176), "1.78": (1920, 1080), "1.89": (1980, 1048), "2.00": (2036, 1018), "2.08": (2078, 998)},
}

RESOLUTIONS: tuple[str, ...] = tuple(BUCKETS)
DEFAULT_RESOLUTION = "480p"
#: The VAE works on 8x8 pixel blocks: the generated frame is the bucket floored to a multiple of 8.
VAE_SPATIAL = 8
#: 17 pixel frames -> 5 latent frames (temporal VAE chunks); 51 = 2 s, 102 = 4 s at 24 fps.
FRAME_COUNTS = FrameCounts(step=17, offset=0, minimum=17, maximum=408, default=51)
TEXT_TOKENS = 300
FPS = 24.0


def frame_spec() -> FrameSpec:
    """The bucket FrameSpec of STDiT3: per resolution, the 17 buckets as the VAE generates them
    (floored to multiples of 8; two 144p/240p buckets coincide), nearest aspect wins."""
    buckets = {r: tuple(dict.fromkeys(vae_frame(s) for s in BUCKETS[r].values())) for r in RESOLUTIONS}
    return FrameSpec(kind="buckets", buckets=buckets, default_resolution=DEFAULT_RESOLUTION)


def nominal_size(frame: tuple[int, int], resolution: str | None = None) -> tuple[int, int]:
    """The upstream bucket (height, width) behind a generated ``frame``, used for the model's
    ``height``/``width`` inputs (position-embedding scale, timestep shift) exactly as upstream.
    A frame that is no bucket of any resolution is its own nominal size."""
    order = ([resolution] if resolution in BUCKETS else []) + [r for r in RESOLUTIONS if r != resolution]
    target = math.log(frame[0] / frame[1])
    for r in order:
        hits = [s for s in BUCKETS[r].values() if vae_frame(s) == tuple(frame)]
        if hits:
            return min(hits, key=lambda s: abs(math.log(s[0] / s[1]) - target))
    return tuple(frame)


def nearest_ratio(height: int, width: int) -> str:
    """The ratio key whose H/W is nearest the image's (in log space, so 2:1 and 1:2 weigh alike)."""
    target = math.log(height / width)
    return min(BUCKETS["144p"], key=lambda k: abs(math.log(BUCKETS["144p"][k][0] / BUCKETS["144p"][k][1]) - target))


def check_image_size(height: int, width: int) -> None:
    """Refuse images smaller than the smallest bucket of their aspect (144p) in both sides."""
    key = nearest_ratio(height, width)
    bh, bw = BUCKETS["144p"][key]
    if height < bh and width < bw:
        raise MotionComicError(
            f"the image is {width}x{height} pixels, smaller than the smallest Open-Sora bucket for its "
            f"aspect ({RATIO_NAMES[key]} H:W at 144p is {bw}x{bh}). Upscale it to at least {bw}x{bh} "
            "(e.g. with an upscale node) before image-to-video."
        )


def vae_frame(bucket: tuple[int, int]) -> tuple[int, int]:
    """The pixel frame the VAE really produces for a bucket: both sides floored to multiples of 8."""
    return bucket[0] // VAE_SPATIAL * VAE_SPATIAL, bucket[1] // VAE_SPATIAL * VAE_SPATIAL


def latent_frames(num_frames: int) -> int:
    """Latent frames for ``num_frames`` pixel frames (17-frame chunks -> 5, remainder padded to 4)."""
    full, rest = divmod(int(num_frames), 17)
    return full * 5 + -(-rest // 4)
