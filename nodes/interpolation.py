"""Load Interpolator (optical flow, RIFE or SGM-VFI) and Interpolate (frames + fps in and out)."""
from __future__ import annotations

import logging

from ._common import INTERPOLATOR
from ._schema import Boolean, Combo, Custom, Float, Image, Int, Node, Out
from ._video import clip_in, video_out

log = logging.getLogger(__name__)

FLOW = "optical flow (no weights)"
#: DIS's ultrafast preset: measured -0.08 dB and 0.65-0.8x the time of FLOW on the shared clips (docs/interpolation.md).
FLOW_FAST = "optical flow, fast (no weights)"
DTYPES = ("auto", "fp32", "fp16", "bf16")
DEVICES = ("auto", "cpu", "cuda", "mps")  # = host.DEVICE_CHOICES (not imported: node files stay light)
RIFE_SCALES = ("auto", "0.25", "0.5", "1", "2", "4")  # = interpolation.rife.loader.SCALES
LOOPS = ("off", "open", "closed")  # = interpolation.loop.LOOPS


def interpolator_choices() -> list[str]:
    """The flow methods, then every RIFE / SGM-VFI file of the vfi folders (incl. the RIFE folder of
    ComfyUI-Frame-Interpolation when installed); GMFlow files are SGM-VFI helpers, not listed."""
    from .. import host
    from ..interpolation.files import EXTENSIONS, is_helper

    return [FLOW, FLOW_FAST] + [f for f in host.list_files("vfi", EXTENSIONS) if not is_helper(f)]


def load(model, dtype="auto", device="auto", rife_scale="auto", rife_ensemble=False):
    from ..errors import MotionComicError

    from .. import host

    if dtype not in DTYPES:
        raise MotionComicError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if rife_scale not in RIFE_SCALES:
        raise MotionComicError(f"rife_scale must be one of {RIFE_SCALES}, got {rife_scale!r}")
    dev = host.device_named(device)
    if model in (FLOW, FLOW_FAST):
        from ..interpolation.flow import FlowInterpolator

        return (FlowInterpolator(preset="ultrafast" if model == FLOW_FAST else "medium", device=dev),)
    from ..interpolation.files import load_interpolator_file

    path = host.find_model("vfi", model, "Put a RIFE 4.6+ file (flownet.pkl, rife49.pth) or ours-1-2-points.pkl "
                           "(SGM-VFI) in models/vfi/.")
    interp = load_interpolator_file(path, dtype=dtype, device=dev, rife_scale=rife_scale,
                                    rife_ensemble=bool(rife_ensemble))
    log.info("interpolator: %s (%s, %s)", interp.name, dtype, dev)
    return (interp,)


def interpolate(images, fps, interpolator, multiplier, target_fps, scene_cut_threshold, video,
                duplicate_threshold=0.0, loop="off"):
    """More frames at a proportionally higher rate: the duration, and any audio, stay as they were (a closed
    loop is one input frame shorter: its seam frame is left out)."""
    from ..errors import MotionComicError
    from ..interpolation.base import Interpolator
    from ..interpolation.clip import interpolate as interpolate_clip

    if not isinstance(interpolator, Interpolator):
        raise MotionComicError("interpolator must come from Load Interpolator")
    if not 0.0 <= float(scene_cut_threshold) <= 1.0:
        raise MotionComicError(f"scene_cut_threshold must be in 0..1 (0 = off), got {scene_cut_threshold}")
    thr = float(scene_cut_threshold)
    clip = clip_in(images, fps, video, "Interpolate")
    out = interpolate_clip(clip.frames, int(multiplier), model=interpolator, fps=clip.fps,
                           target_fps=float(target_fps) if target_fps else None,
                           cuts="auto" if thr > 0 else None, cut_threshold=thr,
                           duplicates=float(duplicate_threshold or 0.0), loop=loop or "off")
    log.info("interpolated %d -> %d frames (%d synthesised, cuts at %s) with %s, %.3g -> %.3g fps",
             clip.frames.shape[0], out.frames.shape[0], len(out.synthesized), out.cuts or "none",
             interpolator.name, clip.fps, out.fps)
    return (out.frames, float(out.fps), video_out(out.frames, out.fps, clip.audio))


NODES = [
    Node(
        "MotionComicLoadInterpolator", "Load Interpolator (motioncomic)",
        "Frame interpolator for Interpolate. 'optical flow (no weights)' works everywhere; RIFE 4.6+ (flownet.pkl, "
        "or the rife47/rife49/rife417/rife426.pth files ComfyUI-Frame-Interpolation downloaded, found in its "
        "ckpts/rife folder too) is the fast network; SGM-VFI (ours-1-2-points.pkl with gmflow_sintel-0c07dcb3.pth "
        "beside it) handles large motion. No cupy. See docs/interpolation.md.",
        load,
        inputs=[
            Combo("model", interpolator_choices,
                  "optical flow (no weights) = OpenCV DIS flow both ways, warps chosen by agreement, falls back to a "
                  "blend where the flow is unsure; no download. The fast one uses DIS's ultrafast preset: ~0.7x the "
                  "time for ~0.1 dB less, for long high-resolution clips. Or a file from models/vfi/: RIFE 4.6+ "
                  "(flownet.pkl, rife47.pth ... rife426.pth; the version is read from the file) or SGM-VFI "
                  "(ours-1-2-points.pkl: global matching for large motion; ours-local.pkl: faster).", default=FLOW),
            Combo("dtype", list(DTYPES), "RIFE / SGM-VFI precision. auto = fp16 on a GPU, fp32 on CPU. bf16/fp16 "
                  "halve memory on GPU; on CPU they are slower. Ignored by optical flow.", default="auto"),
            Combo("device", list(DEVICES), "Where the interpolator runs. auto = ComfyUI's device. Optical flow warps "
                  "and blends there too; only its DIS flow step runs on the CPU.", default="auto"),
            Combo("rife_scale", list(RIFE_SCALES), "RIFE only: the resolution its flow works at (upstream's "
                  "--scale). auto = 1, and 0.5 above 1440p (as Practical-RIFE advises for 4K: faster and better on "
                  "large motion there); 2 can help small frames with fine motion.", default="auto", optional=True),
            Boolean("rife_ensemble", "RIFE only: also run each step on the swapped pair and average (about 2x the "
                    "time, slightly smoother). RIFE 4.6-4.20 and 4.24 have it; other versions refuse it.",
                    default=False, optional=True),
        ],
        outputs=[Out(INTERPOLATOR, "interpolator", "The interpolator, for Interpolate.")],
    ),
    Node(
        "MotionComicInterpolate", "Interpolate Frames (motioncomic)",
        "Makes in-between frames. Connect the sampler's (or Load Video's) fps; the fps output is the new rate for "
        "Save Video. Original frames pass through unchanged; frames are never blended across a scene cut (the "
        "in-betweens there repeat the nearest original).",
        interpolate,
        inputs=[
            Image("images", "The clip's frames (at least 2, all the same size), or connect 'video' instead.",
                  optional=True),
            Float("fps", "Frame rate of 'images'. Connect the sampler's or Load Video's fps output. A connected "
                  "video uses its own rate.", default=8.0, min=0.1, max=240.0, step=0.1),
            Custom("interpolator", INTERPOLATOR, "From Load Interpolator."),
            Int("multiplier", "Frame-rate multiplier: 2 doubles it (8 -> 16 fps), 3 triples it. Gives "
                "(N-1)*multiplier+1 frames. Ignored when target_fps is set.", default=2, min=2, max=16, step=1),
            Float("target_fps", "0 = use the multiplier. Otherwise the output frame rate, above the input fps (e.g. "
                  "8 -> 24, or 24 -> 60: non-integer ratios are resampled).", default=0.0, min=0.0, max=240.0,
                  step=0.1),
            Float("scene_cut_threshold", "Scene-cut detection (colour-histogram change between neighbours, 0..1). "
                  "Across a detected cut nothing is blended. 0 = off; 0.4 catches real cuts but not fast motion; "
                  "lower = more cuts.", default=0.4, min=0.0, max=1.0, step=0.01),
            Custom("video", "VIDEO", "The clip as a core VIDEO (e.g. from core Load Video) instead of 'images' + "
                   "'fps'; its audio is carried to the video output unchanged (the duration does not change).",
                   optional=True),
            Float("duplicate_threshold", "Repeated frames (anime drawn on twos, clips converted by repeating "
                  "frames): 0 = off. Otherwise a frame that differs from the last distinct one by less than this "
                  "(mean 8-bit levels of a thumbnail; 1.0 finds repeats, real motion measured 1.2 and up) is "
                  "replaced by an in-between at its true time, so the motion plays evenly instead of in steps. A "
                  "drawing held longer than 4 frames is a pause and keeps its timing.",
                  default=0.0, min=0.0, max=32.0, step=0.1, optional=True),
            Combo("loop", list(LOOPS), "For clips that loop (idle animations). off = a clip with a start and an end. "
                  "open = the last frame leads back to the first: the seam gets in-betweens too, so the loop plays "
                  "without a jump (N*multiplier frames). closed = the last frame repeats the first (a clip made to "
                  "loop, e.g. Open-Sora's loop conditioning): it is the seam and is left out, so no frame shows twice "
                  "((N-1)*multiplier frames).", default="off", optional=True),
        ],
        outputs=[
            Out("IMAGE", "images", "The frames with the in-betweens added."),
            Out("FLOAT", "fps", "The new frame rate (connect to Save Video)."),
            Out("VIDEO", "video", "The interpolated clip as a core VIDEO at the new rate, with the input's audio "
                "(for core Save Video / Create Video)."),
        ],
    ),
]
