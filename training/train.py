"""``train_lora``: CogVideoX image-to-video LoRA training on a prepared dataset.

dataset (``training/dataset.py``) -> frames letterboxed into the model frame exactly as inference
does (aspect buckets = the inference frame of each clip's aspect) -> captions and latents cached
to disk (``cache.py``) -> PEFT LoRA on the attention projections -> the official objective
(``objective.py``) with AdamW, warmup, clipping, bf16 weights with float32 LoRA weights and
gradient checkpointing on GPUs -> checkpoints with exact resume (``checkpoint.py``), a validation
clip every N steps, a progress bar with the loss, cancel (Ctrl-C / ComfyUI interrupt) saving a
usable checkpoint of the last completed step.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import host
from ..errors import MotionComicError
from . import checkpoint as ckpt
from .cache import CachedClip, build_cache, load_batch
from .config import TrainConfig
from .objective import i2v_loss

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """``lora``: the final ``pytorch_lora_weights.safetensors``; ``losses`` one per step run."""

    lora: Path
    steps: int
    losses: list[float]
    checkpoint: Path
    validation: list[Path] = field(default_factory=list)
    num_frames: int = 0


def pick_frames(model, records, wanted: int = 0) -> tuple[int, list, list[str]]:
    """(frame count, usable records, why others were dropped) under the model's frame rule."""
    counts = model.frame_counts
    if wanted:
        counts.check(wanted, model.name or model.variant)
        n = wanted
    else:
        shortest = min(r.frames for r in records)
        legal = [c for c in counts.valid_counts() if c <= shortest]
        if not legal:
            raise MotionComicError(
                f"the dataset's clips are {shortest} frames long; {model.name or model.variant} needs at least "
                f"{counts.valid_counts()[0]}. Prepare the dataset with longer clips (--frames).")
        n = legal[-1]
    keep = [r for r in records if r.frames >= n]
    dropped = [f"{r.id}: {r.frames} frames < {n}" for r in records if r.frames < n]
    if not keep:
        raise MotionComicError(f"no clip has {n} frames; dropped: {'; '.join(dropped[:5])}. Use --frames "
                               f"{max(c for c in counts.valid_counts() if c <= max(r.frames for r in records))} or longer clips.")
    return n, keep, dropped


def check_inputs(model, records, config: TrainConfig, state: dict | None = None) -> tuple[int, list, list[str]]:
    """Everything the model's description decides, checked before its weights are read: the task,
    the base of a resumed run, the frame count (:func:`pick_frames`) and every clip's training frame
    under ``--resolution``. Returns what :func:`pick_frames` returns."""
    from .cache import clip_frames

    label = model.name or model.variant
    if model.task != "i2v":
        raise MotionComicError(f"{label} is a text-to-video model; train-lora trains image-to-video LoRAs "
                               "(CogVideoX-5b-I2V, CogVideoX1.5-5B-I2V).")
    if state is not None and state.get("variant", model.variant) != model.variant:
        raise MotionComicError(f"the run to resume was trained on CogVideoX {state['variant']}, and {label} is "
                               f"{model.variant}: resume with the same --model, or use --force to start over.")
    num_frames, records, dropped = pick_frames(model, records, config.frames)
    try:
        for rec in records:
            clip_frames(model, rec, config.resolution)
    except MotionComicError as exc:
        if not config.resolution:
            raise
        raise MotionComicError(f"--resolution {config.resolution} does not suit {label}: {exc}") from None
    return num_frames, records, dropped


def batch_order(clips: list[CachedClip], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of one epoch: clips shuffled within their bucket, chunked, batches shuffled.
    A function of (seed, epoch) only, so a resumed run sees the same order."""
    import torch

    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, c in enumerate(clips):
        buckets.setdefault(c.frame, []).append(i)
    batches = []
    for key in sorted(buckets):
        idx = buckets[key]
        idx = [idx[j] for j in torch.randperm(len(idx), generator=g).tolist()]
        batches += [idx[k:k + batch_size] for k in range(0, len(idx), batch_size)]
    return [batches[j] for j in torch.randperm(len(batches), generator=g).tolist()]


def _inject_lora(transformer, config: TrainConfig):
    import torch
    from peft import LoraConfig

    transformer.requires_grad_(False)
    torch.manual_seed(config.seed)  # PEFT initialises lora_A from the global generator
    try:
        transformer.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.alpha, init_lora_weights=True,
                                           target_modules=list(config.targets)))
    except ValueError as e:
        names = sorted({n.rsplit(".", 1)[-1] for n, m in transformer.named_modules() if isinstance(m, torch.nn.Linear)})
        raise MotionComicError(f"--targets {','.join(config.targets)} matches no layer of this transformer ({e}). "
                               f"Linear layers are named e.g. {', '.join(names[:12])}.") from None
    params = [p for n, p in transformer.named_parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()  # LoRA weights train in float32 on bf16 base weights
    return params


def train_lora(dataset: str | Path, model_name: str | Path, out: str | Path, config: TrainConfig | None = None, *,
               device=None, resume: bool = False, force: bool = False,
               on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Train an I2V LoRA for ``model_name`` on ``dataset``; write ``OUT/pytorch_lora_weights.safetensors``.

    ``model_name``: a name inside the model folders, or a ``Path`` (taken as given; the CLI passes
    one for an absolute path the user typed).
    Existing checkpoints in ``out`` need ``resume`` (continue exactly) or ``force`` (start over).
    The model is only described (``defer=True``) until :func:`check_inputs` and a checkpoint to resume
    have passed, and ``force`` deletes the old run only then: bad input costs neither minutes of
    reading weights nor the previous run.
    ``on_step(step)`` is called at the start of each step (tests, UIs). Raises the cancel
    exception after saving a checkpoint of the completed steps when cancelled.
    """
    import torch

    from ..loaders.registry import load_video_model
    from ..samplers.cogvideox import make_scheduler
    from .dataset import read_manifest

    config = (config or TrainConfig()).check()
    try:
        import peft  # noqa: F401
    except ImportError:
        raise MotionComicError("train-lora needs the peft package: pip install peft (or pip install "
                               "'motioncomic[training]'). The LoRA node itself does not need it.") from None
    out = Path(out)
    existing = [] if force else ckpt.list_checkpoints(out)
    if existing and not resume:
        raise MotionComicError(f"{out} already holds checkpoints (latest {existing[-1].name}); pass --resume to "
                               "continue that run exactly, or --force to start over.")
    state = ckpt.read_state(existing[-1]) if existing else None
    if state is not None:
        changed = config.same_run(state["config"])
        if changed:
            raise MotionComicError(f"--resume with other settings than the run in {out}: {', '.join(changed)} "
                                   "differ. Use the same settings, or --force to start over.")
    records = read_manifest(dataset)
    device = torch.device(device) if device is not None else host.torch_device()
    # described only (config files, tokenizer): a wrong model, --frames or --resolution is reported
    # before minutes of reading weights
    model = load_video_model(model_name, family="cogvideox", dtype=config.dtype, device=device, offload="model",
                             defer=True)
    num_frames, records, dropped = check_inputs(model, records, config, state)
    for why in dropped:
        log.warning("skipping clip %s", why)
    if force:  # only now: a refused run loses nothing
        for p in (out / "checkpoints", out / "validation", out / ckpt.LORA_FILE):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    model.ensure_loaded()
    out.mkdir(parents=True, exist_ok=True)
    clips = build_cache(model, dataset, records, num_frames, out / "cache", resolution=config.resolution,
                        seed=config.seed, device=device)

    tr, vae = model.components["transformer"], model.components["vae"]
    params = _inject_lora(tr, config)
    vae.requires_grad_(False)
    host.place([tr, vae], device)  # both stay on the device for the run; the T5 stays offloaded
    ckpting = config.gradient_checkpointing == "on" or (config.gradient_checkpointing == "auto" and device.type != "cpu")
    if ckpting:
        tr.enable_gradient_checkpointing()
    opt = torch.optim.AdamW(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay, eps=config.eps)
    sched = make_scheduler(model, "DDIM")
    gen = torch.Generator().manual_seed(config.seed)
    start, losses = 0, []
    if state is not None:
        ckpt.load(existing[-1], state, tr, opt, gen)
        start, losses = int(state["step"]), list(state["losses"])
        log.info("resuming %s at step %d", existing[-1], start)
    per_epoch = len(batch_order(clips, config.batch_size, config.seed, 0))
    saved = existing[-1] if existing and start else None
    validation: list[Path] = []
    progress = host.Progress(config.steps, "train-lora")
    progress.update_absolute(start)

    def save(step: int, gen_state) -> Path:
        return ckpt.save(out, step, tr, opt, gen_state, losses, config, model.variant)

    for step in range(start, config.steps):
        snapshot = gen.get_state()
        try:
            if on_step is not None:
                on_step(step)
            ids = batch_order(clips, config.batch_size, config.seed, step // per_epoch)[step % per_epoch]
            batch = load_batch([clips[i] for i in ids], device, model.dtype)
            for group in opt.param_groups:
                group["lr"] = config.lr_at(step)
            tr.train()
            loss = i2v_loss(model, tr, vae, sched, batch, gen, noise_mean=config.image_noise_mean,
                            noise_std=config.image_noise_std)
            host.check_cancel()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            opt.step()
            opt.zero_grad(set_to_none=True)
        except host.cancel_exceptions():
            opt.zero_grad(set_to_none=True)
            saved = save(step, snapshot)  # the interrupted step is redone on resume, same draws
            log.warning("cancelled at step %d; resume with --resume from %s", step, saved)
            raise
        losses.append(float(loss.detach()))
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.steps:
            saved = save(done, gen.get_state())
        if config.validate_every and done % config.validate_every == 0:
            validation.append(_validate(model, tr, vae, records[0], dataset, num_frames, config, out, done, device))
        recent = losses[-20:]
        progress.desc = f"train-lora loss {sum(recent) / len(recent):.4f}"
        try:
            progress.update_absolute(done)
        except host.cancel_exceptions():
            if saved is None or saved.name != f"step-{done:06d}":
                saved = save(done, gen.get_state())
            log.warning("cancelled after step %d; resume with --resume from %s", done, saved)
            raise
    if saved is None:  # resumed a finished run
        saved = existing[-1]
    final = out / ckpt.LORA_FILE
    shutil.copyfile(saved / ckpt.LORA_FILE, final)
    log.info("LoRA written to %s (%d steps, last loss %.4f)", final, config.steps, losses[-1] if losses else float("nan"))
    return TrainResult(final, config.steps, losses, saved, validation, num_frames)


def _validate(model, tr, vae, record, dataset, num_frames: int, config: TrainConfig, out: Path, step: int,
              device) -> Path:
    """Sample the first clip's first frame + caption with the LoRA as it is now; write an mp4."""
    import torch

    from ..media.images import load_image
    from ..media.video import write_video
    from ..samplers.i2v import image_to_video

    vm = dataclasses.replace(model, components={**model.components, "transformer": tr}, loras=())
    image = torch.from_numpy(load_image(record.image_path(dataset)))
    tr.eval()
    try:
        res = image_to_video(vm, image, record.caption or "a character moves", num_frames=num_frames,
                             steps=config.validation_steps, seed=config.seed, resolution=config.resolution or None)
    finally:
        host.place([tr, vae], device)  # model offload moved them back to the offload device
    path = out / "validation" / f"step-{step:06d}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(res.frames, path, res.fps, progress=False)
    log.info("validation clip %s", path)
    return path
