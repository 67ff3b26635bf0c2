"""System prompts (written by us) that turn a short request into an image-to-video caption.

The image is the FIRST FRAME of the clip: the caption must describe how that frame moves, not a
new scene. We ask for one English paragraph (whatever the input language) in the long, concrete
caption style CogVideoX and ST-DiT were trained on, sized to each family's token budget.

Wan (2.1/2.2) was trained on dense bilingual captions written like a shot description: subject,
then the motion in order, then the camera in film terms (shot size, "the camera slowly pushes in",
"static shot"), lighting and a style tag. Its umT5 reads Chinese as well as English. We still send
English: one language for every family keeps an expansion valid when the user switches model (and
the expansion cache keyed by family cheap), the rule-based fallback and the report read the same,
and Wan's own prompt extender also answers English requests in English. A user who wants Chinese
prompts can type them into the sampler directly (Wan reads them); see docs/wan.md.
"""
from __future__ import annotations

from . import presets

#: Bumped whenever the wording changes, so cached expansions from older prompts are not reused.
VERSION = 1

#: Target length in words per family (the T5 budget is ~1.3 tokens per English word).
TARGET_WORDS: dict[str, tuple[int, int]] = {
    "cogvideox": (80, 120),
    "cogvideox-1.5": (80, 120),
    "opensora": (90, 140),
    "wan": (80, 110),
}

_BASE = """You write prompts for an image-to-video model that animates anime and game character \
illustrations. The user gives a short request (in any language) and usually the reference image. \
The reference image is the FIRST FRAME of the video: the character, outfit, pose, background and \
art style are already fixed by it. Describe only how this frame comes to life.

Write ONE paragraph of {lo}-{hi} words in English, whatever language the request is in. Cover, \
in this order:
1. the character as seen in the frame (short: hair, outfit, where they are);
2. the motion requested, step by step, with concrete body parts and a natural pace;
3. facial expression and eyes (blinks, gaze, smile) matching the request;
4. secondary motion: hair strands, clothes, accessories swaying with the movement or a breeze;
5. the camera: {camera}
6. lighting and mood consistent with the frame, and the style: {style}.

Rules: keep one continuous shot with no scene cuts, no transitions, no new characters and no \
change of setting. Do not start with "The image shows" or "In this video". Present tense, \
concrete visual words, no lists, no headings, no quotes, no commentary before or after the \
paragraph. Output the paragraph only."""

_WAN = """You write prompts for the Wan image-to-video model, which animates anime and game character \
illustrations. The user gives a short request (in any language) and usually the reference image. \
The reference image is the FIRST FRAME of the video: the character, outfit, pose, background and \
art style are already fixed by it. Describe the shot that starts from this frame.

Write ONE paragraph of {lo}-{hi} words in English, whatever language the request is in, in the \
style of a shot description:
1. the subject as seen in the frame, briefly (who, hair, outfit, where they stand);
2. the requested motion in the order it happens, with concrete verbs and body parts, at a natural \
pace; the face (blinks, gaze, smile) when it matters;
3. secondary motion: hair, cloth and accessories following the movement or a light breeze;
4. the camera in film terms: {camera}
5. lighting and atmosphere matching the frame, ending with the style tag: {style}.

Rules: one continuous shot, no cuts or transitions, no new characters, no change of setting or \
outfit. Do not start with "The image shows" or "In this video". Present tense, concrete visual \
words, no lists, headings, quotes or commentary. Output the paragraph only."""

_NO_IMAGE = (
    "No image is attached this time: describe the character only in general terms taken from "
    "the request, and focus on the motion."
)


def system_prompt(family: str, camera: str = "static", style: str = "anime", has_image: bool = True) -> str:
    """The system prompt for ``family`` with the chosen camera and style spelled out."""
    lo, hi = TARGET_WORDS.get(family, (80, 120))
    cam = presets.camera(camera).hint
    if camera == "static":
        cam += " Do not invent camera moves."
    sty = presets.style(style) or "the style of the first frame"
    text = (_WAN if family == "wan" else _BASE).format(lo=lo, hi=hi, camera=cam, style=sty)
    return text if has_image else text + "\n\n" + _NO_IMAGE


def user_request(text: str, action: str = "none") -> str:
    """The user message: the request plus the action preset spelled out for the LLM."""
    act = presets.action(action)
    parts = []
    if text.strip():
        parts.append(f"Request: {text.strip()}")
    if act.hint:
        parts.append(f"Action: the character {act.hint}.")
    return "\n".join(parts)
