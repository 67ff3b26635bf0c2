"""MimicMotion pose-to-video engine on diffusers components.

The character of ``reference`` performs the motion of ``poses`` (rendered pose images). Steps:

1. frame: one letterbox :class:`~.framing.FramePlan` for the reference image *and* every pose
   frame (poses given at the reference's size are letterboxed with the same plan, tile by tile;
   poses already at the plan's frame are used as they are) - the character is neither stretched
   nor cut;
2. sequence: ``[reference pose, poses[::sample_stride]...]`` (upstream feeds the reference pose
   first and drops its frame afterwards);
3. denoise: upstream's progressive latent fusion - overlapping tiles of ``tile_frames`` that all
   contain frame 0, each predicted without pose (unconditional) and with pose (PoseNet output
   added to ``conv_in``'s output through a forward hook), fused with triangular weights;
4. decode in chunks straight into the output (cropped to the content box), then fill the frames
   that ``sample_stride`` skipped with our interpolator, so the clip keeps the driving frame rate.

With the same components, seed and settings the generated frames equal those of upstream's
``MimicMotionPipeline`` (tests/test_mimicmotion.py). Memory: pose images stay where they are and
only one tile at a time is framed and moved to the device; decoded frames go into the one
output tensor, so working memory does not grow with the clip length.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import host
from ..errors import MotionComicError
from ..loaders.posenet import add_pose_to_conv_in
from . import framing as fr
from . import svd
from .options import build_options

log = logging.getLogger(__name__)

FILLS = ("flow", "crossfade", "none")


@dataclass
class MimicOptions:
    """The official test config (configs/test.yaml): 25 steps, guidance 2.0 (min = max), tiles of
    72 frames for 1.1 (16 for 1.0) overlapping by 6, no augmentation noise, every other driving
    frame (``sample_stride`` 2), fps conditioning 7 (the UNet sees 6), motion bucket 127; decode 8
    frames at a time. ``fill``: how skipped frames come back (``flow`` interpolator, ``crossfade``,
    or ``none`` = output at driving fps / stride for a later Interpolate node)."""

    steps: int = 25
    cfg: float = 2.0
    min_cfg: float = 2.0
    tile_frames: int = 0  # 0 = the loaded version's
    tile_overlap: int = -1  # -1 = the loaded version's
    sample_stride: int = 2
    fill: str = "flow"
    fps: int = 7
    motion_bucket_id: int = 127
    noise_aug_strength: float = 0.0
    decode_chunk: int = 8
    callback: Callable[[int, int], None] | None = None  # after each tile of each step (done, total)

    @classmethod
    def from_options(cls, model, steps=None, cfg=None, options: dict | None = None) -> "MimicOptions":
        opts = build_options(cls, "MimicMotion", steps, cfg, options)
        if "cfg" in (options or {}) or cfg is not None:
            opts.min_cfg = opts.min_cfg if "min_cfg" in (options or {}) else opts.cfg
        if opts.tile_frames <= 0:
            opts.tile_frames = int(model.info.get("tile_frames", 72))
        if opts.tile_overlap < 0:
            opts.tile_overlap = int(model.info.get("tile_overlap", 6))
        if opts.tile_frames < 2 or not 0 <= opts.tile_overlap < opts.tile_frames - 1:
            raise MotionComicError(
                f"tiles of {opts.tile_frames} frames overlapping by {opts.tile_overlap} are impossible: a tile needs "
                f"at least 2 frames and the overlap must be 0..{max(0, opts.tile_frames - 2)} (official: 72 and 6)")
        if opts.sample_stride < 1:
            raise MotionComicError(f"sample stride {opts.sample_stride} must be 1 (every frame) or more (official 2)")
        if opts.fill not in FILLS:
            raise MotionComicError(f"fill {opts.fill!r} is unknown; use one of {', '.join(FILLS)}")
        svd.check_conditioning(opts.fps, opts.motion_bucket_id, opts.noise_aug_strength, opts.decode_chunk)
        return opts


@dataclass
class PoseVideo:
    """``frames`` [N,h,w,3] float32 0..1 (the content box of the plan), ``fps``, the ``plan`` and
    what was done (``report``)."""

    frames: Any
    fps: float
    plan: fr.FramePlan
    report: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- tiles
def tile_indices(length: int, tile: int, overlap: int) -> list[list[int]]:
    """Upstream's tiles over a sequence whose frame 0 is the reference: every tile is frame 0
    plus ``tile - 1`` consecutive frames, successive tiles ``tile - overlap`` apart, and a last
    tile flush with the end. A sequence shorter than a tile is one tile."""
    if length <= tile:
        return [list(range(length))]
    out = [[0, *range(i + 1, min(i + tile, length))] for i in range(0, length - tile + 1, tile - overlap)]
    if out[-1][-1] < length - 1:
        out.append([0, *range(length - tile + 1, length)])
    return out


def tile_weights(tile: int, device=None):
    """Triangular fusion weights ``[tile]``: ``min(w, 2 - w)`` with ``w = (i + 0.5) * 2 / tile``."""
    import torch

    w = (torch.arange(tile, device=device) + 0.5) * 2.0 / tile
    return torch.minimum(w, 2 - w)


# --------------------------------------------------------------------------- framing
def plan_for(model, reference_size: tuple[int, int], resolution: int | None = None) -> fr.FramePlan:
    """The letterbox plan of a reference image of ``reference_size`` (h, w) for ``model``
    (short side ``resolution``, default 576; long side up to 1024 x resolution/576)."""
    return fr.plan_frame(reference_size, fr.choose_frame(model.frame, reference_size, resolution), "pad")


def check_poses(poses, plan: fr.FramePlan) -> str:
    """``"framed"`` (poses at the plan's frame) or ``"source"`` (at the reference's size, to be
    letterboxed like it); any other size raises with the sizes that would work."""
    import torch

    if not isinstance(poses, torch.Tensor) or poses.ndim != 4 or poses.shape[-1] != 3:
        raise MotionComicError(f"pose images must be a tensor [N,H,W,3], got {getattr(poses, 'shape', type(poses))}")
    if poses.shape[0] < 1:
        raise MotionComicError("no pose images: give at least one driving pose frame")
    size = tuple(poses.shape[1:3])
    if size == tuple(plan.frame):
        return "framed"
    if size == tuple(plan.source):
        return "source"
    (fh, fw), (sh, sw) = plan.frame, plan.source
    raise MotionComicError(
        f"pose images are {size[1]}x{size[0]} but the reference image is {sw}x{sh} and its letterboxed frame "
        f"{fw}x{fh}: render the poses at one of these sizes (Retarget Poses renders them at the reference's "
        "size), or pass the plan they were rendered for."
    )


class _PoseFrames:
    """The sequence ``[reference pose, poses[::stride]]`` framed per index on request, in -1..1
    ``[n,3,H,W]`` (only the tile asked for is ever materialised)."""

    def __init__(self, reference_pose, poses, plan: fr.FramePlan, stride: int):
        self.ref, self.poses, self.plan, self.stride = reference_pose, poses, plan, stride
        self.length = 1 + -(-poses.shape[0] // stride)

    def __getitem__(self, idx: list[int]):
        import torch

        frames = torch.cat([(self.ref if i == 0 else self.poses[(i - 1) * self.stride])[None] for i in idx])
        if tuple(frames.shape[1:3]) != tuple(self.plan.frame):
            frames = fr.apply_plan(frames.float(), self.plan, (0.0, 0.0, 0.0))
        return frames.movedim(-1, 1).float() * 2.0 - 1.0


# --------------------------------------------------------------------------- denoise
def denoise(model, seq: _PoseFrames, emb, img_lat, ids, opts: MimicOptions, generator):
    """Upstream's denoising loop over tiles. ``emb``/``img_lat``/``ids`` hold [uncond, cond] when
    guidance is on. Returns latents ``[1,L,4,h,w]``."""
    import torch

    unet = model.components["unet"]
    length, dev = seq.length, model.device
    tile = min(opts.tile_frames, length)
    indices = tile_indices(length, tile, opts.tile_overlap)
    cfg_on = opts.cfg > 1.0
    scheduler = svd.make_scheduler(model)
    scheduler.set_timesteps(opts.steps, device=dev)
    h, w = img_lat.shape[-2:]
    latents = svd.initial_noise((1, tile, unet.config.in_channels // 2, h, w), generator, emb.dtype, scheduler)
    latents = latents.repeat(1, length // tile + 1, 1, 1, 1)[:, :length].to(dev)
    guidance = svd.frame_guidance(opts.min_cfg, opts.cfg, length, latents.dtype, dev)
    weight = tile_weights(tile, dev)[:, None, None, None]
    total = len(scheduler.timesteps) * len(indices)
    progress = host.Progress(total, "MimicMotion")
    emb, img_lat, ids = emb.to(dev), img_lat.to(dev), ids.to(dev)
    with model.on_device("unet") as net, model.on_device("pose_net") as pose_net, torch.no_grad():
        p_dtype = next(pose_net.parameters()).dtype
        for t in scheduler.timesteps:
            inp = torch.cat([latents] * 2) if cfg_on else latents
            inp = scheduler.scale_model_input(inp, t)
            pred = torch.zeros((inp.shape[0], length, *latents.shape[2:]), dtype=latents.dtype, device=dev)
            count = latents.new_zeros((length,))
            for idx in indices:
                pose_lat = pose_net(seq[idx].to(dev, p_dtype))
                for b in range(inp.shape[0]):  # 0 = unconditional (no pose) when guidance is on
                    x = torch.cat([inp[b : b + 1, idx], img_lat[b : b + 1].expand(1, len(idx), -1, -1, -1)], dim=2)
                    with add_pose_to_conv_in(net, pose_lat if b == inp.shape[0] - 1 else None):
                        out = net(x, t, encoder_hidden_states=emb[b : b + 1], added_time_ids=ids[b : b + 1],
                                  return_dict=False)[0]
                    pred[b : b + 1, idx] += out * weight
                count[idx] += weight[:, 0, 0, 0]
                if opts.callback is not None:
                    opts.callback(progress.n + 1, total)
                progress.step()
            pred.div_(count[:, None, None, None])
            if cfg_on:
                uncond, cond = pred.chunk(2)
                pred = uncond + guidance * (cond - uncond)
            latents = scheduler.step(pred, t, latents, generator=generator, return_dict=False)[0]
    return latents, len(indices)


# --------------------------------------------------------------------------- entry
def pose_to_video(model, reference, poses, *, reference_pose=None, plan: fr.FramePlan | None = None,
                  resolution: int | None = None, fps: float = 30.0, seed: int = 42, steps: int | None = None,
                  cfg: float | None = None, fill_color=(0.0, 0.0, 0.0), options: dict | None = None) -> PoseVideo:
    """Animate ``reference`` ([1,H,W,C] float 0..1) with the driving ``poses`` ([N,h,w,3] 0..1
    pose renderings at the reference's size or at ``plan.frame``), ``fps`` the driving frame rate.

    ``reference_pose`` [1,h,w,3] (or [h,w,3]): the pose rendered from the reference image (upstream
    conditions frame 0 on it); None uses the first driving pose and says so. ``plan`` None = the
    letterbox plan of the reference for ``resolution``. Returns :class:`PoseVideo` with N frames at
    ``fps`` (``fill="none"``: ceil(N/stride) frames at fps/stride).
    """
    import torch

    from .i2v import prepare_image

    if model.family != "mimicmotion":
        raise MotionComicError(f"Pose to Video needs a MimicMotion model, got a {model.family} model: "
                               "load it with Load MimicMotion")
    report: list[str] = []
    opts = MimicOptions.from_options(model, steps, cfg, options)
    image = prepare_image(reference, fill_color, report)
    plan = plan or plan_for(model, tuple(image.shape[1:3]), resolution)
    if tuple(image.shape[1:3]) != tuple(plan.source):
        raise MotionComicError(f"the plan is for a {plan.source[1]}x{plan.source[0]} image but the reference is "
                               f"{image.shape[2]}x{image.shape[1]}: make the plan from this reference")
    check_poses(poses, plan)
    if reference_pose is None:
        reference_pose = poses[0]
        report.append("no reference pose given: the first driving pose stands in for the reference's own pose")
    reference_pose = reference_pose[0] if reference_pose.ndim == 4 else reference_pose
    check_poses(reference_pose[None], plan)
    n = poses.shape[0]
    if n > model.frame_counts.maximum:
        raise MotionComicError(f"{n} pose frames is more than {model.name} takes in one run "
                               f"({model.frame_counts.maximum}); split the driving video")
    if hasattr(model, "ensure_loaded"):
        model.ensure_loaded()  # every check above ran before the weights are read
    framed = fr.apply_plan(image, plan, fill_color)
    report.append("framing " + plan.describe())
    seq = _PoseFrames(reference_pose, poses, plan, opts.sample_stride)

    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    cfg_on = opts.cfg > 1.0
    emb = svd.image_embeddings(model, framed)
    img_lat = svd.image_latent(model, framed, opts.noise_aug_strength, generator, upcast=False).to(emb.dtype)
    ids = svd.added_time_ids(model, opts.fps, opts.motion_bucket_id, opts.noise_aug_strength, emb.dtype)
    if cfg_on:
        emb, img_lat, ids = (torch.cat([torch.zeros_like(emb), emb]), torch.cat([torch.zeros_like(img_lat), img_lat]),
                             ids.repeat(2, 1))
    latents, tiles = denoise(model, seq, emb, img_lat, ids, opts, generator)

    stride = opts.sample_stride if opts.fill != "none" else 1
    out_n = n if opts.fill != "none" else seq.length - 1
    box = plan.content
    out = torch.empty((out_n, box.h, box.w, 3), dtype=torch.float32)
    for i, frames in svd.decode_chunks(model, latents, opts.decode_chunk):
        for j in range(frames.shape[0]):
            k = i + j - 1  # generated frame k of the driving sequence (frame 0 is the reference)
            if k >= 0:
                out[k * stride] = frames[j, box.y : box.y + box.h, box.x : box.x + box.w]
    generated = seq.length - 1
    if stride > 1:
        _fill_skipped(out, generated, stride, opts.fill, report)
    out_fps = float(fps) if opts.fill != "none" else float(fps) / opts.sample_stride
    report.append(
        f"MimicMotion {model.variant}: {generated} of {n} driving frames generated (stride {opts.sample_stride}), "
        f"{tiles} tiles of {min(opts.tile_frames, seq.length)} (overlap {opts.tile_overlap}), {opts.steps} steps, "
        f"guidance {opts.min_cfg}->{opts.cfg}, seed {seed}; {out_n} frames at {out_fps:g} fps")
    return PoseVideo(out, out_fps, plan, report)


def _fill_skipped(out, generated: int, stride: int, method: str, report: list[str]) -> None:
    """Generated frames sit at ``out[0::stride]``; write the in-between frames in place with the
    interpolator (streaming, one pair at a time) and hold the last frame past the last pair."""
    from ..interpolation.clip import get_interpolator, iter_interpolate

    last = (generated - 1) * stride
    if generated >= 2:
        originals = (out[k * stride : k * stride + 1] for k in range(generated))
        for j, frame in enumerate(iter_interpolate(originals, get_interpolator(method), stride, total=generated)):
            if j % stride:
                out[j] = frame[0]
    out[last + 1 :] = out[last]
    held = out.shape[0] - 1 - last
    report.append(f"skipped frames filled by the {method} interpolator ({(generated - 1) * (stride - 1)} made"
                  + (f", last {held} held)" if held else ")"))


def check_options(model, *_args) -> None:
    """The I2V entry refuses MimicMotion before its weights are read (:func:`sample` says why)."""
    sample(model, None)


def sample(model, image, prompt: str = "", negative_prompt: str = "", **_kw):
    """The I2V entry cannot drive MimicMotion: it needs poses."""
    raise MotionComicError("MimicMotion animates from poses: connect the model to Pose to Video (with the "
                           "reference image and pose images), not to Image to Video")
