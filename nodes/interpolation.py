"""Load Interpolator (optical flow, RIFE or SGM-VFI) and Interpolate (frames + fps in and out)."""
from __future__ import annotations

import logging

from ._common import CATEGORY, INTERPOLATOR, tip

log = logging.getLogger(__name__)

FLOW = "optical flow (no weights)"
DTYPES = ("auto", "fp32", "fp16", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")


def interpolator_choices() -> list[str]:
    """The flow method, then every RIFE / SGM-VFI file of the vfi folders (incl. the RIFE folder of
    ComfyUI-Frame-Interpolation when installed); GMFlow files are SGM-VFI helpers, not listed."""
    from .. import host
    from ..interpolation.files import EXTENSIONS, is_helper

    return [FLOW] + [f for f in host.list_files("vfi", EXTENSIONS) if not is_helper(f)]


class MotionComicLoadInterpolator:
    """Choose the frame interpolator: weight-free optical flow, RIFE 4.6+ or SGM-VFI from models/vfi/."""

    DESCRIPTION = ("Frame interpolator for Interpolate. 'optical flow (no weights)' works everywhere; RIFE 4.6+ "
                   "(flownet.pkl, or the rife47/rife49/rife417/rife426.pth files ComfyUI-Frame-Interpolation "
                   "downloaded, found in its ckpts/rife folder too) is the fast network; SGM-VFI "
                   "(ours-1-2-points.pkl with gmflow_sintel-0c07dcb3.pth beside it) handles large motion. No cupy. "
                   "See docs/interpolation.md.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (INTERPOLATOR,)
    RETURN_NAMES = ("interpolator",)
    OUTPUT_TOOLTIPS = ("The interpolator, for Interpolate.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": (interpolator_choices(), tip(
                    "optical flow (no weights) = OpenCV DIS flow both ways, warps chosen by agreement, falls back "
                    "to a blend where the flow is unsure; no download. Or a file from models/vfi/: RIFE 4.6+ "
                    "(flownet.pkl, rife47.pth ... rife426.pth; the version is read from the file) or SGM-VFI "
                    "(ours-1-2-points.pkl: global matching for large motion; ours-local.pkl: faster).",
                    default=FLOW)),
                "dtype": (list(DTYPES), tip(
                    "RIFE / SGM-VFI precision. auto = fp16 on a GPU, fp32 on CPU. bf16/fp16 halve memory on GPU; "
                    "on CPU they are slower. Ignored by optical flow.", default="auto")),
                "device": (list(DEVICES), tip(
                    "Where the interpolator runs. auto = ComfyUI's device. Optical flow warps and blends there "
                    "too; only its DIS flow step runs on the CPU.", default="auto")),
            }
        }

    def load(self, model, dtype="auto", device="auto"):
        from ..errors import MotionComicError

        if dtype not in DTYPES:
            raise MotionComicError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        if device not in DEVICES:
            raise MotionComicError(f"device must be one of {DEVICES}, got {device!r}")
        import torch

        from .. import host

        dev = host.torch_device() if device == "auto" else torch.device(device)
        if model == FLOW:
            from ..interpolation.flow import FlowInterpolator

            return (FlowInterpolator(device=dev),)
        from ..interpolation.files import load_interpolator_file

        path = host.find_model("vfi", model, "Put a RIFE 4.6+ file (flownet.pkl, rife49.pth) or ours-1-2-points.pkl "
                               "(SGM-VFI) in models/vfi/.")
        interp = load_interpolator_file(path, dtype=dtype, device=dev)
        log.info("interpolator: %s (%s, %s)", interp.name, dtype, dev)
        return (interp,)


class MotionComicInterpolate:
    """Raise the frame rate: (N-1)*multiplier+1 frames, originals unchanged, no blend across scene cuts."""

    DESCRIPTION = ("Makes in-between frames. Connect the sampler's (or Load Video's) fps; the fps output is the new "
                   "rate for Save Video. Original frames pass through unchanged; frames are never blended across a "
                   "scene cut (the in-betweens there repeat the nearest original).")
    CATEGORY = CATEGORY
    FUNCTION = "interpolate"
    RETURN_TYPES = ("IMAGE", "FLOAT")
    RETURN_NAMES = ("images", "fps")
    OUTPUT_TOOLTIPS = ("The frames with the in-betweens added.", "The new frame rate (connect to Save Video).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", tip("The clip's frames (at least 2, all the same size).")),
                "fps": ("FLOAT", tip("Frame rate of the input clip. Connect the sampler's or Load Video's fps output.",
                                     default=8.0, min=0.1, max=240.0, step=0.1)),
                "interpolator": (INTERPOLATOR, tip("From Load Interpolator.")),
                "multiplier": ("INT", tip("Frame-rate multiplier: 2 doubles it (8 -> 16 fps), 3 triples it. Gives "
                                          "(N-1)*multiplier+1 frames. Ignored when target_fps is set.",
                                          default=2, min=2, max=16, step=1)),
                "target_fps": ("FLOAT", tip("0 = use the multiplier. Otherwise the output frame rate, above the input "
                                            "fps (e.g. 8 -> 24, or 24 -> 60: non-integer ratios are resampled).",
                                            default=0.0, min=0.0, max=240.0, step=0.1)),
                "scene_cut_threshold": ("FLOAT", tip(
                    "Scene-cut detection (colour-histogram change between neighbours, 0..1). Across a detected cut "
                    "nothing is blended. 0 = off; 0.4 catches real cuts but not fast motion; lower = more cuts.",
                    default=0.4, min=0.0, max=1.0, step=0.01)),
            }
        }

    def interpolate(self, images, fps, interpolator, multiplier=2, target_fps=0.0, scene_cut_threshold=0.4):
        from ..errors import MotionComicError
        from ..interpolation.base import Interpolator
        from ..interpolation.clip import interpolate

        if not isinstance(interpolator, Interpolator):
            raise MotionComicError("interpolator must come from Load Interpolator")
        if not 0.0 <= float(scene_cut_threshold) <= 1.0:
            raise MotionComicError(f"scene_cut_threshold must be in 0..1 (0 = off), got {scene_cut_threshold}")
        thr = float(scene_cut_threshold)
        out = interpolate(images, int(multiplier), model=interpolator, fps=float(fps),
                          target_fps=float(target_fps) if target_fps else None,
                          cuts="auto" if thr > 0 else None, cut_threshold=thr)
        log.info("interpolated %d -> %d frames (%d synthesised, cuts at %s) with %s, %.3g -> %.3g fps",
                 images.shape[0], out.frames.shape[0], len(out.synthesized), out.cuts or "none",
                 interpolator.name, fps, out.fps)
        return (out.frames, float(out.fps))


NODE_CLASS_MAPPINGS = {
    "MotionComicLoadInterpolator": MotionComicLoadInterpolator,
    "MotionComicInterpolate": MotionComicInterpolate,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "MotionComicLoadInterpolator": "Load Interpolator (motioncomic)",
    "MotionComicInterpolate": "Interpolate Frames (motioncomic)",
}
