"""Load MimicMotion: an SVD-xt 1.1 diffusers folder (VAE, CLIP image encoder, scheduler, UNet
config) plus the MimicMotion UNet and PoseNet weights, in the layouts users have:

- official ``MimicMotion_1-1.pth`` / ``MimicMotion_1-0.pth`` (tencent/MimicMotion; ``MimicMotion_1.pth``
  for the first release): one ``torch.save`` dict with ``unet.*`` (diffusers UNet names) and
  ``pose_net.*``; read with ``torch.load(weights_only=True)``. The older single-file
  ``MimicMotion-fp16.safetensors`` of the ComfyUI wrapper has the same keys.
- ComfyUI-MimicMotionWrapper's ``MimicMotionMergedUnet_1-1-fp16.safetensors`` /
  ``..._1-0-fp16.safetensors`` (Kijai/MimicMotion_pruned): the UNet only, diffusers names without
  prefix; that wrapper ships the PoseNet separately as ``mimic_motion_pose_net.safetensors``
  (``conv_layers.*``, ``final_proj.*``, ``scale``; 413 KB, in its ``models/`` folder). Put that
  file beside the UNet in ``models/mimicmotion/``; it is found by its contents.

All of them live in ``models/mimicmotion/``; the SVD folder in ``models/diffusers/`` (default
``stable-video-diffusion-img2vid-xt-1-1``, the wrapper's name; its UNet weights are not needed).
Layouts are told apart by tensor names, never by file names. The UNet stays diffusers'
``UNetSpatioTemporalConditionModel``; PoseNet is :class:`~.posenet.PoseNet`.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .. import host
from ..errors import CheckpointError, ModelNotFoundError
from . import checkpoints, svd  # posenet (torch) is imported when a model loads

log = logging.getLogger(__name__)

HF_REPO = "tencent/MimicMotion"
WRAPPER = "kijai/ComfyUI-MimicMotionWrapper"
POSENET_FILE = "mimic_motion_pose_net.safetensors"
AUTO = "(auto)"
#: version -> (frames per tile, tile overlap): the official test configs (1.0: 16, 1.1: 72).
VERSIONS: dict[str, tuple[int, int]] = {"1.1": (72, 6), "1.0": (16, 6)}
SVD_PARTS = ("vae", "image_encoder", "feature_extractor", "scheduler")
_GET = (f"Get MimicMotion_1-1.pth from https://huggingface.co/{HF_REPO} (UNet + PoseNet in one file) into "
        "models/mimicmotion/.")


def model_choices() -> list[str]:
    return host.list_files("mimicmotion", checkpoints.CHECKPOINT_EXT)


def register_wrapper_folder(custom_nodes: Path) -> None:
    """Owner-side: search ComfyUI-MimicMotionWrapper's ``models/`` (where it ships
    ``mimic_motion_pose_net.safetensors``) for MimicMotion files, when that pack is installed beside ours."""
    folder = Path(custom_nodes) / "ComfyUI-MimicMotionWrapper" / "models"
    if (folder / POSENET_FILE).is_file():
        host.add_search_path("mimicmotion", folder)


def layout_of(shapes: dict) -> str:
    """``official`` (unet.* + pose_net.*), ``unet_prefixed`` (unet.* only), ``merged`` (UNet keys
    without prefix), ``posenet`` (PoseNet only) or ``unknown``."""
    from . import posenet

    keys = shapes.keys()
    has = lambda p: any(k.startswith(p) for k in keys)  # noqa: E731
    if has("unet.conv_in.") and has("pose_net.conv_layers."):
        return "official"
    if has("unet.conv_in."):
        return "unet_prefixed"
    if "conv_in.weight" in shapes and has("down_blocks.0.resnets.0.spatial_res_block."):
        return "merged"
    if set(posenet.KEYS) <= set(keys) or {f"pose_net.{k}" for k in posenet.KEYS} <= set(keys):
        return "posenet"
    return "unknown"


def find_posenet_file(exclude: Path) -> Path | None:
    """A PoseNet-only file in the mimicmotion folders (recognised by its tensor names)."""
    for name in model_choices():
        path = host.find_model("mimicmotion", name)
        if path.resolve() == exclude.resolve() or path.stat().st_size > 16_000_000:
            continue
        try:
            if layout_of(checkpoints.read_shapes(path)) == "posenet":
                return path
        except CheckpointError:
            continue
    return None


def _missing_posenet(path: Path, layout: str) -> ModelNotFoundError:
    held = ("the UNet only (ComfyUI-MimicMotionWrapper's merged layout)" if layout == "merged"
            else "unet.* tensors but no pose_net.* tensors")
    where = ", ".join(str(p) for p in host.search_paths("mimicmotion"))
    return ModelNotFoundError(
        f"{path.name} holds {held}: the PoseNet weights are missing. Put {POSENET_FILE} (from {WRAPPER}, folder "
        f"models/, 413 KB) into models/mimicmotion/ (looked in: {where}), or use the official MimicMotion_1-1.pth "
        f"from https://huggingface.co/{HF_REPO}, which holds both."
    )


def _load_unet(config: dict, path: Path, prefix: str, dtype):
    from accelerate import init_empty_weights
    from diffusers import UNetSpatioTemporalConditionModel

    with init_empty_weights():
        unet = UNetSpatioTemporalConditionModel.from_config(config)
    keep = (lambda k: k[len(prefix):] if k.startswith(prefix) else None) if prefix else (
        lambda k: None if k.startswith("pose_net.") else k)
    missing, unexpected = checkpoints.assign_tensors(unet, checkpoints.iter_tensors(path), dtype=dtype, key_map=keep)
    if missing or unexpected:
        raise CheckpointError(
            f"{path.name} does not match the SVD UNet of the folder's unet/config.json: missing "
            f"{', '.join(missing[:5]) or 'none'}; unexpected {', '.join(unexpected[:5]) or 'none'}. Use the "
            "SVD-xt 1.1 folder (stabilityai/stable-video-diffusion-img2vid-xt-1-1) with MimicMotion files."
        )
    return unet.eval()


def _load_posenet(path: Path, out_channels: int, dtype):
    import torch

    from . import posenet

    shapes = checkpoints.read_shapes(path)
    prefix = "pose_net." if any(k.startswith("pose_net.") for k in shapes) else ""
    with torch.device("meta"):
        net = posenet.PoseNet(out_channels)
    keep = lambda k: k[len(prefix):] if k.startswith(prefix) else None  # noqa: E731
    tensors = ((n, t) for n, t in checkpoints.iter_tensors(path) if n.startswith(prefix) or not prefix)
    missing, unexpected = checkpoints.assign_tensors(net, tensors, dtype=dtype, key_map=keep)
    if missing or (unexpected and not prefix):
        raise CheckpointError(
            f"{path.name}: the PoseNet weights do not match MimicMotion's PoseNet with {out_channels} output "
            f"channels (missing {', '.join(missing[:5]) or 'none'}; unexpected {', '.join(unexpected[:5]) or 'none'})."
        )
    return net.eval()


def plan_mimicmotion(model: str | os.PathLike, *, svd_folder: str = svd.DEFAULT_FOLDER, pose_net: str = AUTO,
                     version: str = "1.1", dtype: Any = "auto", device: Any = None, offload: str = "none") -> dict:
    """What :func:`load_mimicmotion` will load, without reading weights (every file found and its
    layout checked from the safetensors header, the frame rules from the config files): a dict of
    ``path``, ``layout``, ``pose_path``, ``folder``, ``unet_config``, ``dtype``, ``device``, ``rules``,
    ``info``."""
    import torch

    from ..errors import MotionComicError
    from .cogvideox import torch_dtype

    if version not in VERSIONS:
        raise MotionComicError(f"MimicMotion version {version!r} is unknown; use one of {', '.join(VERSIONS)}")
    if offload not in svd.OFFLOAD_MODES:
        raise MotionComicError(f"offload {offload!r} is unknown; use one of {', '.join(svd.OFFLOAD_MODES)}")
    device = torch.device(device) if device is not None else host.torch_device()
    path = host.find_model("mimicmotion", model, _GET, what="MimicMotion checkpoint")
    layout = layout_of(checkpoints.read_shapes(path))
    if layout in ("unknown", "posenet"):
        from .identify import describe_checkpoint

        raise CheckpointError(
            f"{path.name} is not a MimicMotion UNet checkpoint: it looks like "
            f"{'a PoseNet only' if layout == 'posenet' else describe_checkpoint(checkpoints.read_shapes(path))}. {_GET}"
        )
    if pose_net not in (None, "", AUTO):
        pose_path = host.find_model("mimicmotion", pose_net, f"{POSENET_FILE} comes with {WRAPPER} (models/).")
    elif layout == "official":
        pose_path = path
    else:
        pose_path = find_posenet_file(path)
        if pose_path is None:
            raise _missing_posenet(path, layout)
    folder = svd.resolve_folder(svd_folder)
    svd.check_folder(folder, SVD_PARTS + ("unet",), need_weights=("vae", "image_encoder"))
    config = svd.read_config(folder, "unet")
    tile, overlap = VERSIONS[version]
    return dict(path=path, layout=layout, pose_path=pose_path, folder=folder, unet_config=config, device=device,
                dtype=torch_dtype(dtype, "mimicmotion", device),
                rules=svd.frame_rules(config, svd.read_config(folder, "vae"), default_frames=tile, maximum=100_000),
                info={"path": str(path), "layout": layout, "pose_net": str(pose_path), "svd": str(folder),
                      "tile_frames": tile, "tile_overlap": overlap})


def mimicmotion_model(plan: dict, components: dict, version: str, offload: str):
    from .video_model import VideoModel

    return VideoModel(family="mimicmotion", variant=version, components=components, dtype=plan["dtype"],
                      device=plan["device"], offload=offload, name=plan["path"].name, text_tokens=0, fps=15.0,
                      info=dict(plan["info"]), **plan["rules"])


def load_mimicmotion(model: str | os.PathLike, *, svd_folder: str = svd.DEFAULT_FOLDER, pose_net: str = AUTO, version: str = "1.1",
                     dtype: Any = "auto", device: Any = None, offload: str = "none"):
    """Load MimicMotion into a ``VideoModel`` (family ``mimicmotion``).

    ``model``: a file in models/mimicmotion/ (any layout above). ``svd_folder``: the SVD-xt 1.1 folder
    in models/diffusers/. ``pose_net``: ``(auto)`` = from ``model`` if it holds one, else the PoseNet
    file in models/mimicmotion/; or a file name there. ``version``: 1.1 (72-frame tiles) or 1.0 (16).
    """
    plan = plan_mimicmotion(model, svd_folder=svd_folder, pose_net=pose_net, version=version, dtype=dtype,
                            device=device, offload=offload)
    dt, layout, path = plan["dtype"], plan["layout"], plan["path"]
    comps = svd.load_svd_parts(plan["folder"], SVD_PARTS, dt)
    comps["unet"] = _load_unet(plan["unet_config"], path, "unet." if layout in ("official", "unet_prefixed") else "", dt)
    comps["pose_net"] = _load_posenet(plan["pose_path"], plan["unet_config"]["block_out_channels"][0], dt)
    svd.place({k: comps[k] for k in ("unet", "pose_net", "vae", "image_encoder")}, offload, plan["device"])
    log.info("loaded MimicMotion %s from %s (%s layout, PoseNet from %s) with %s", version, path, layout,
             plan["pose_path"].name, plan["folder"])
    return mimicmotion_model(plan, comps, version, offload)
