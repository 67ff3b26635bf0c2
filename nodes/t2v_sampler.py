"""Text to Video: prompt -> frames with a text-to-video model (CogVideoX-5b / 2b / 1.5-5B)."""
from __future__ import annotations

from ._common import CATEGORY, VIDEO_MODEL, tip


class MotionComicTextToVideo:
    DESCRIPTION = ("Generates a clip from text alone with a CogVideoX text-to-video model (same settings as Image to "
                   "Video minus the image). For shots with no drawing yet; image-to-video models are refused with "
                   "a pointer to Image to Video.")
    CATEGORY = CATEGORY
    FUNCTION = "generate"
    RETURN_TYPES = ("IMAGE", "FLOAT", "STRING")
    RETURN_NAMES = ("frames", "fps", "report")
    OUTPUT_TOOLTIPS = ("The generated frames.", "The model's frame rate.",
                       "What was done: frame size, token counts (truncation), sampler settings.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": (VIDEO_MODEL, tip("A text-to-video model from Load CogVideoX (CogVideoX-5b, CogVideoX-2b, "
                                           "CogVideoX1.5-5B), optionally through CogVideoX LoRA nodes.")),
                "prompt": ("STRING", tip("The shot in detailed English (who, what moves, camera, style). Longer "
                                         "than the model's budget (226/224 tokens) is cut and reported.",
                                         multiline=True, default="")),
                "negative_prompt": ("STRING", tip("What to avoid, e.g. 'blurry, distorted face, jitter'.",
                                                  multiline=True, default="")),
                "width": ("INT", tip("Frame width; 0 = the model's (1.0: 720, 1.5: 1360). 1.0 makes only 720x480; "
                                     "1.5 takes multiples of 16, long side <= 1.77 x short side.",
                                     default=0, min=0, max=2048, step=16)),
                "height": ("INT", tip("Frame height; 0 = the model's (480 / 768).", default=0, min=0, max=2048,
                                      step=16)),
                "frames": ("INT", tip("Frame count; 0 = model default. CogVideoX 1.0: 8N+1 up to 49; 1.5: 16N+1 up "
                                      "to 81. Invalid counts are refused with the nearest valid ones.",
                                      default=0, min=0, max=1024)),
                "steps": ("INT", tip("Denoising steps; 0 = model default (50). 25-50 is typical.",
                                     default=0, min=0, max=500)),
                "cfg": ("FLOAT", tip("Guidance scale; 0 = model default (6). <= 1 disables guidance.",
                                     default=0.0, min=0.0, max=30.0, step=0.1)),
                "seed": ("INT", tip("Random seed; same seed + settings = same video.", default=0, min=0,
                                    max=0xFFFFFFFFFFFFFFFF)),
            },
            "optional": {
                "scheduler": (["auto", "DDIM", "DPM"], tip("auto = the model folder's scheduler (DDIM for single "
                                                           "files). DPM pairs well with dynamic cfg.",
                                                           default="auto")),
                "dynamic_cfg": ("BOOLEAN", tip("Raise guidance over the steps (official demo with DPM; keep off "
                                               "with DDIM).", default=False)),
                "vae_tiling": (["auto", "on", "off"], tip("Decode in tiles: auto = for frames above 720x480 and as "
                                                          "the retry after out-of-memory.", default="auto")),
            },
        }

    def generate(self, model, prompt, negative_prompt, width, height, frames, steps, cfg, seed, scheduler="auto",
                 dynamic_cfg=False, vae_tiling="auto"):
        from ..samplers.t2v import text_to_video

        opts = {"scheduler": scheduler, "dynamic_cfg": dynamic_cfg, "vae_tiling": vae_tiling}
        result = text_to_video(model, prompt, negative_prompt, width=width, height=height, num_frames=frames or None,
                               steps=steps or None, cfg=cfg or None, seed=seed, options=opts)
        return (result.frames, result.fps, "\n".join(result.report))


NODE_CLASS_MAPPINGS = {"MotionComicTextToVideo": MotionComicTextToVideo}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicTextToVideo": "Text to Video (motioncomic)"}
