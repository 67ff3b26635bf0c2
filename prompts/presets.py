"""Action, camera and style presets for anime image-to-video prompts.

Actions come from the studio's demo set (touch head, wave, walk, point, hug, fight). Each preset
holds an English motion description with ``{subj}`` / ``{pos}`` placeholders (subject and
possessive pronoun) used by the rule-based fallback, and a short hint given to the LLM. Cameras
carry the Open-Sora ``camera motion:`` vocabulary so samplers can reuse it for the score suffix.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    hint: str  # what we ask the LLM to describe
    motion: str  # fallback sentence(s), with {subj} {Subj} {pos} placeholders


@dataclass(frozen=True)
class Camera:
    hint: str  # instruction for the LLM and the fallback sentence
    opensora: str  # Open-Sora "camera motion:" value


ACTIONS: dict[str, Action] = {
    "none": Action("", ""),
    "touch head": Action(
        "raises one hand and gently touches the top of the head, a little shy",
        "{Subj} slowly raises one hand and gently touches the top of {pos} head, fingers brushing "
        "through {pos} hair, then lowers the hand again with a slightly shy look.",
    ),
    "wave": Action(
        "waves one hand at the viewer in a friendly greeting",
        "{Subj} lifts one hand and waves it from side to side at the viewer in a friendly "
        "greeting, the wrist swinging in a steady rhythm.",
    ),
    "walk": Action(
        "walks forward a few steps with a natural gait",
        "{Subj} walks forward a few steps with a relaxed, natural gait, arms swinging lightly and "
        "shoulders rising and falling with each step.",
    ),
    "point": Action(
        "points forward with the index finger",
        "{Subj} raises an arm and points forward with the index finger, holding the gesture "
        "steadily for a moment.",
    ),
    "hug": Action(
        "opens the arms and hugs warmly",
        "{Subj} opens {pos} arms wide and wraps them in a warm hug, leaning in with {pos} head "
        "tilted gently.",
    ),
    "fight": Action(
        "takes a fighting stance and throws quick punches",
        "{Subj} takes a determined fighting stance and throws a few quick punches, {pos} body "
        "twisting with each strike.",
    ),
    "nod": Action(
        "nods gently",
        "{Subj} nods gently twice, {pos} head dipping softly while keeping eye contact.",
    ),
    "turn head": Action(
        "turns the head slowly to look at the viewer",
        "{Subj} slowly turns {pos} head to look toward the viewer, {pos} gaze settling calmly.",
    ),
    "idle": Action(
        "subtle idle motion: breathing, blinking, small shifts of weight",
        "{Subj} stays mostly in place with subtle idle motion: calm breathing, occasional blinks "
        "and a small shift of weight.",
    ),
}

CAMERAS: dict[str, Camera] = {
    "static": Camera("The camera stays static, the framing does not change.", "static"),
    "slow zoom in": Camera("The camera slowly zooms in toward the character.", "zoom in"),
    "slow zoom out": Camera("The camera slowly zooms out from the character.", "zoom out"),
    "pan left": Camera("The camera pans slowly to the left.", "pan left"),
    "pan right": Camera("The camera pans slowly to the right.", "pan right"),
    "tilt up": Camera("The camera tilts slowly upward.", "tilt up"),
    "tilt down": Camera("The camera tilts slowly downward.", "tilt down"),
    "orbit": Camera("The camera orbits slowly around the character.", "pan right"),
}

STYLES: dict[str, str] = {
    "anime": "anime style, clean line art, cel shading, vivid colors",
    "anime cinematic": "cinematic anime style, detailed backgrounds, soft film-like lighting",
    "manga": "black-and-white manga style, screentone shading, bold ink lines",
    "chibi": "cute chibi anime style, bright pastel colors, soft outlines",
    "game cg": "high-quality game CG illustration style, polished shading and rim light",
    "watercolor": "soft watercolor anime illustration style, gentle textures",
    "none": "",
}


def action(name: str) -> Action:
    """The preset for ``name`` (unknown names are an error listing the choices)."""
    from ..errors import MotionComicError

    try:
        return ACTIONS[name]
    except KeyError:
        raise MotionComicError(f"Unknown action {name!r}; choose one of {', '.join(ACTIONS)}") from None


def camera(name: str) -> Camera:
    from ..errors import MotionComicError

    try:
        return CAMERAS[name]
    except KeyError:
        raise MotionComicError(f"Unknown camera {name!r}; choose one of {', '.join(CAMERAS)}") from None


def style(name: str) -> str:
    from ..errors import MotionComicError

    try:
        return STYLES[name]
    except KeyError:
        raise MotionComicError(f"Unknown style {name!r}; choose one of {', '.join(STYLES)}") from None
