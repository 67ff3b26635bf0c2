"""Text to Video: prompt -> frames with a text-to-video model (CogVideoX-5b / 2b / 1.5-5B)."""
from __future__ import annotations

from ._common import VIDEO_MODEL
from ._schema import Boolean, Combo, Custom, Float, Int, Node, Out, String


def generate(model, prompt, negative_prompt, width, height, frames, steps, cfg, seed, scheduler, dynamic_cfg,
             vae_tiling):
    from ..samplers.t2v import text_to_video

    opts = {"scheduler": scheduler, "dynamic_cfg": dynamic_cfg, "vae_tiling": vae_tiling}
    result = text_to_video(model, prompt, negative_prompt, width=width, height=height, num_frames=frames or None,
                           steps=steps or None, cfg=cfg or None, seed=seed, options=opts)
    return (result.frames, result.fps, "\n".join(result.report))


NODES = [Node(
    "MotionComicTextToVideo", "Text to Video (motioncomic)",
    "Generates a clip from text alone with a CogVideoX text-to-video model (same settings as Image to Video minus the "
    "image). For shots with no drawing yet; image-to-video models are refused with a pointer to Image to Video.",
    generate,
    inputs=[
        Custom("model", VIDEO_MODEL, "A text-to-video model from Load CogVideoX (CogVideoX-5b, CogVideoX-2b, "
               "CogVideoX1.5-5B), optionally through CogVideoX LoRA nodes."),
        String("prompt", "The shot in detailed English (who, what moves, camera, style). Longer than the model's "
               "budget (226/224 tokens) is cut and reported.", multiline=True),
        String("negative_prompt", "What to avoid, e.g. 'blurry, distorted face, jitter'.", multiline=True),
        Int("width", "Frame width; 0 = the model's (1.0: 720, 1.5: 1360). 1.0 makes only 720x480; 1.5 takes "
            "multiples of 16, long side <= 1.77 x short side.", default=0, min=0, max=2048, step=16),
        Int("height", "Frame height; 0 = the model's (480 / 768).", default=0, min=0, max=2048, step=16),
        Int("frames", "Frame count; 0 = model default. CogVideoX 1.0: 8N+1 up to 49; 1.5: 16N+1 up to 81. Invalid "
            "counts are refused with the nearest valid ones.", default=0, min=0, max=1024),
        Int("steps", "Denoising steps; 0 = model default (50). 25-50 is typical.", default=0, min=0, max=500),
        Float("cfg", "Guidance scale; 0 = model default (6). <= 1 disables guidance.", default=0.0, min=0.0,
              max=30.0, step=0.1),
        Int("seed", "Random seed; same seed + settings = same video.", default=0, min=0, max=0xFFFFFFFFFFFFFFFF),
        Combo("scheduler", ["auto", "DDIM", "DPM"], "auto = the model folder's scheduler (DDIM for single files). "
              "DPM pairs well with dynamic cfg.", default="auto", optional=True),
        Boolean("dynamic_cfg", "Raise guidance over the steps (official demo with DPM; keep off with DDIM).",
                default=False, optional=True),
        Combo("vae_tiling", ["auto", "on", "off"], "Decode in tiles: auto = for frames above 720x480 and as the "
              "retry after out-of-memory.", default="auto", optional=True),
    ],
    outputs=[
        Out("IMAGE", "frames", "The generated frames."),
        Out("FLOAT", "fps", "The model's frame rate."),
        Out("STRING", "report", "What was done: frame size, token counts (truncation), sampler settings."),
    ],
)]
