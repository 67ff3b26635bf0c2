"""The flagship motion-comic graphs, defined once as API prompts plus a layout.

``python tests/flagship_graphs.py`` (re)writes ``workflows/<name>.json`` (UI, drag-and-drop, with
notes explaining the settings) and ``workflows/api/<name>.json`` (API format, for ``submit`` and
batch production). ``tests/test_flagship_workflows.py`` checks the committed files equal this
source, so the two formats cannot drift.

Model and input names are the defaults a user gets from the official downloads; the real-ComfyUI
suite writes tiny models under the same names (``tests/tiny_*.py``) and runs the API files
unmodified.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHARACTER = "game_character_fullbody.png"
NEGATIVE = "blurry, distorted face, deformed hands, extra limbs, flicker, jitter, scene change, text, watermark"


def _node(class_type: str, title: str, **inputs) -> dict:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}}


def _tail(first: int, frames_src: list, fps_src: list, reference: list, prefix: str, multiplier: int) -> dict:
    """Face restore from the reference image -> interpolate -> save (shared by every chain)."""
    a, b, c, d, e = (str(first + i) for i in range(5))
    return {
        a: _node("MotionComicLoadFaceModels", "Load Face Models", detector="auto", swapper="inswapper_128.onnx",
                 recogniser="buffalo_l/w600k_r50.onnx", enhancer="GFPGANv1.4.onnx", mask_model="none",
                 device="auto"),
        b: _node("MotionComicFaceRestore", "Face Restore (from the input image)", images=frames_src,
                 face_models=[a, 0], swap_strength=0.8, enhance_strength=0.6, codeformer_fidelity=0.7,
                 mask_blur=0.3, mask_padding=0, threshold=0.5, faces="largest", tracking=True, detect_every=5,
                 smoothing=2.0, crop_scale=0.0, debug_output=False, reference_image=reference, fps=fps_src),
        c: _node("MotionComicLoadInterpolator", "Load Interpolator", model="optical flow (no weights)",
                 dtype="auto", device="auto", rife_scale="auto", rife_ensemble=False),
        d: _node("MotionComicInterpolate", "Interpolate", images=[b, 0], fps=fps_src, interpolator=[c, 0],
                 multiplier=multiplier, target_fps=0.0, scene_cut_threshold=0.4, duplicate_threshold=0.0, loop="off"),
        e: _node("MotionComicSaveVideo", "Save Video", images=[d, 0], fps=[d, 1], filename_prefix=prefix,
                 format="mp4", crf=19, quality=90, save_output=True),
    }


def _expand(model_ref: list, family: str, text: str) -> dict:
    return _node("MotionComicExpandPrompt", "Expand Prompt (LLM, falls back to rules)", text=text, family=family,
                 action="wave", camera="static", style="anime", backend="openai",
                 base_url="http://127.0.0.1:11434/v1", model="qwen2.5:7b", api_key_env="", timeout=30.0,
                 llm_seed=0, temperature=0.1, image=["1", 0], video_model=model_ref, send_image=False,
                 device="auto", dtype="auto")


def cogvideox_anime() -> dict:
    api = {
        "1": _node("LoadImage", "Character image", image=CHARACTER),
        "2": _node("MotionComicLoadCogVideoX", "Load CogVideoX", model="CogVideoX-5b-I2V",
                   vae="(from model folder)", t5="(from model folder)", dtype="bf16", offload="model"),
        "3": _expand(["2", 0], "cogvideox", "她挥手微笑"),
        "4": _node("MotionComicImageToVideo", "Image to Video (letterboxed)", model=["2", 0], image=["1", 0],
                   prompt=["3", 0], negative_prompt=NEGATIVE, frames=49, steps=50, cfg=6.0, seed=42,
                   framing="pad", border_color="#000000", resolution=0, resize_back=False, scheduler="auto",
                   dynamic_cfg=False, vae_tiling="auto"),
    }
    api |= _tail(5, ["4", 0], ["4", 1], ["1", 0], "motioncomic/cogvideox_anime", 3)
    return api


def opensora_anime() -> dict:
    api = {
        "1": _node("LoadImage", "Character image", image=CHARACTER),
        "2": _node("MotionComicLoadSTDiT", "Load ST-DiT", model="OpenSora-STDiT-v3/model.safetensors",
                   vae="OpenSora-VAE-v1.2/model.safetensors", t5="t5xxl_fp16.safetensors", dtype="auto", t5_dtype="fp32", device="auto", offload="model"),
        "3": _expand(["2", 0], "opensora", "她挥手微笑"),
        "4": _node("MotionComicOpenSoraOptions", "Open-Sora Options", resolution="480p", cond_frames="first",
                   aesthetic_score=6.5, motion_score=0.0, camera_motion="static", fps=24.0, clean_caption=True),
        "5": _node("MotionComicImageToVideo", "Image to Video (letterboxed)", model=["2", 0], image=["1", 0],
                   prompt=["3", 0], negative_prompt="", frames=51, steps=30, cfg=7.0, seed=42, framing="pad",
                   border_color="#000000", resolution=0, resize_back=False, scheduler="auto", dynamic_cfg=False,
                   vae_tiling="auto", options=["4", 0]),
    }
    api |= _tail(6, ["5", 0], ["5", 1], ["1", 0], "motioncomic/opensora_anime", 2)
    return api


T2V_MODEL = "CogVideoX-5b"


def cogvideox_t2v() -> dict:
    api = {
        "1": _node("MotionComicLoadCogVideoX", "Load CogVideoX (text-to-video)", model=T2V_MODEL,
                   vae="(from model folder)", t5="(from model folder)", dtype="bf16", offload="model"),
        "2": _node("MotionComicExpandPrompt", "Expand Prompt (LLM, falls back to rules)",
                   text="银发骑士在夕阳下举起长剑", family="cogvideox", action="none", camera="slow zoom in",
                   style="anime", backend="openai", base_url="http://127.0.0.1:11434/v1", model="qwen2.5:7b",
                   api_key_env="", timeout=30.0, llm_seed=0, temperature=0.1, video_model=["1", 0],
                   send_image=False, device="auto", dtype="auto"),
        "3": _node("MotionComicTextToVideo", "Text to Video", model=["1", 0], prompt=["2", 0],
                   negative_prompt=NEGATIVE, width=0, height=0, frames=49, steps=50, cfg=6.0, seed=42,
                   scheduler="auto", dynamic_cfg=False, vae_tiling="auto"),
        "4": _node("MotionComicLoadInterpolator", "Load Interpolator", model="optical flow (no weights)",
                   dtype="auto", device="auto", rife_scale="auto", rife_ensemble=False),
        "5": _node("MotionComicInterpolate", "Interpolate", images=["3", 0], fps=["3", 1], interpolator=["4", 0],
                   multiplier=3, target_fps=0.0, scene_cut_threshold=0.4, duplicate_threshold=0.0, loop="off"),
        "6": _node("MotionComicSaveVideo", "Save Video", images=["5", 0], fps=["5", 1],
                   filename_prefix="motioncomic/cogvideox_t2v", format="mp4", crf=19, quality=90, save_output=True),
    }
    return api


#: Wan's own negative prompt (the official one is Chinese; Wan reads both), plus the character-specific terms.
WAN_NEGATIVE = ("色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
                "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
                "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走. " + NEGATIVE)


def wan_anime() -> dict:
    api = {
        "1": _node("LoadImage", "Character image", image=CHARACTER),
        "2": _node("MotionComicLoadWan", "Load Wan (2.2 TI2V-5B)", model="wan2.2_ti2v_5B_fp16.safetensors",
                   model_2="(none)", vae="wan2.2_vae.safetensors", text_encoder="umt5_xxl_fp16.safetensors",
                   dtype="bf16", offload="model"),
        "3": _expand(["2", 0], "wan", "她挥手微笑"),
        "4": _node("MotionComicImageToVideo", "Image to Video (letterboxed)", model=["2", 0], image=["1", 0],
                   prompt=["3", 0], negative_prompt=WAN_NEGATIVE, frames=49, steps=30, cfg=5.0, seed=42,
                   framing="pad", border_color="#000000", resolution=480, resize_back=False, scheduler="auto",
                   dynamic_cfg=False, vae_tiling="auto"),
    }
    api |= _tail(5, ["4", 0], ["4", 1], ["1", 0], "motioncomic/wan_anime", 2)
    return api


def post_only() -> dict:
    api = {
        "1": _node("LoadImage", "Reference image (the character as drawn)", image="motioncomic_face_reference.png"),
        "2": _node("MotionComicLoadVideo", "Clip to finish", video="motioncomic_face_clip.mp4", frame_load_cap=0,
                   skip_first_frames=0, select_every_nth=1),
    }
    api |= _tail(3, ["2", 0], ["2", 1], ["1", 0], "motioncomic/finished", 3)
    return api


WAN22_PRESET = "Wan 2.2 TI2V 5B (1280x704, x32)"


def wan22_letterbox() -> dict:
    """Core ComfyUI's Wan 2.2 TI2V-5B image-to-video (as its template) between our letterbox nodes."""
    return {
        "1": _node("LoadImage", "Character image", image=CHARACTER),
        "2": _node("MotionComicLetterboxImage", "Letterbox Image (fit into the Wan frame)", image=["1", 0],
                   preset=WAN22_PRESET, width=0, height=0, framing="pad", border_color="#000000"),
        "3": _node("UNETLoader", "Load Diffusion Model", unet_name="wan2.2_ti2v_5B_fp16.safetensors",
                   weight_dtype="default"),
        "4": _node("ModelSamplingSD3", "ModelSamplingSD3", model=["3", 0], shift=8.0),
        "5": _node("CLIPLoader", "Load CLIP", clip_name="umt5_xxl_fp8_e4m3fn_scaled.safetensors", type="wan",
                   device="default"),
        "6": _node("CLIPTextEncode", "Positive prompt", clip=["5", 0],
                   text="The anime girl waves at the camera and smiles, her hair and dress sway gently in the "
                        "wind, static camera, soft lighting."),
        "7": _node("CLIPTextEncode", "Negative prompt", clip=["5", 0], text=NEGATIVE),
        "8": _node("VAELoader", "Load VAE", vae_name="wan2.2_vae.safetensors"),
        "9": _node("Wan22ImageToVideoLatent", "Wan22ImageToVideoLatent (width/height from the letterbox)",
                   vae=["8", 0], width=["2", 1], height=["2", 2], length=121, batch_size=1, start_image=["2", 0]),
        "10": _node("KSampler", "KSampler", model=["4", 0], seed=42, steps=20, cfg=5.0, sampler_name="uni_pc",
                    scheduler="simple", positive=["6", 0], negative=["7", 0], latent_image=["9", 0], denoise=1.0),
        "11": _node("VAEDecode", "VAE Decode", samples=["10", 0], vae=["8", 0]),
        "12": _node("MotionComicCropToCharacter", "Crop to Character (borders off every frame)", images=["11", 0],
                    plan=["2", 3], resize_back=False, even_size=True),
        "13": _node("CreateVideo", "Create Video", images=["12", 0], fps=24.0),
        "14": _node("SaveVideo", "Save Video", video=["13", 0], filename_prefix="motioncomic/wan22_letterbox",
                    format="auto", codec="auto"),
    }


def core_video() -> dict:
    """Core LoadVideo -> our Face Restore and Interpolate on the VIDEO type -> core SaveVideo (sound kept)."""
    tail = _tail(3, None, None, ["1", 0], "", 3)
    restore, interp = tail["4"], tail["6"]
    del restore["inputs"]["images"], interp["inputs"]["images"], interp["inputs"]["fps"]
    restore["inputs"] |= {"video": ["2", 0], "fps": 8.0}  # a VIDEO brings its own rate
    interp["inputs"] |= {"fps": 8.0, "video": ["4", 2]}
    return {
        "1": _node("LoadImage", "Reference image (the character as drawn)", image="motioncomic_face_reference.png"),
        "2": _node("LoadVideo", "Clip with sound (core Load Video)", file="motioncomic_face_clip_sound.mp4"),
        "3": tail["3"], "4": restore, "5": tail["5"], "6": interp,
        "7": _node("SaveVideo", "Save Video (core, keeps the sound)", video=["6", 2],
                   filename_prefix="motioncomic/finished_video", format="auto", codec="auto"),
    }


NOTE_TAIL = (
    "### Face restore, then interpolate\n\n"
    "**Face Restore** finds the face in the *input image* and in every frame, swaps the drawn identity back "
    "(`swap_strength` 0.6-1.0), enhances it (`enhance_strength` 0.5-0.8; CodeFormer `fidelity` higher = closer "
    "to the input) and pastes it through a soft mask. `detector = auto` tries the anime detectors when "
    "insightface's find nothing. `tracking` detects every `detect_every` frames and smooths the boxes.\n\n"
    "**Interpolate** raises the frame rate: optical flow needs no weights; an SGM-VFI `.pkl` in "
    "`models/vfi/` handles large motion better. Frames are never blended across a scene cut."
)


def pose_retarget() -> dict:
    """Dance clip -> DWPose -> retarget onto the character -> pose video (for MimicMotion or a pose ControlNet)."""
    return {
        "1": _node("LoadImage", "Character image", image="motioncomic_pose_reference.png"),
        "2": _node("MotionComicLoadVideo", "Dance clip", video="motioncomic_dance.mp4", frame_load_cap=0,
                   skip_first_frames=0, select_every_nth=1),
        "3": _node("MotionComicLoadDWPose", "Load DWPose", detector="yolox_l.onnx", pose_model="dw-ll_ucoco_384.onnx",
                   device="auto"),
        "4": _node("MotionComicExtractPoses", "Extract Poses", dwpose=["3", 0], images=["2", 0], mode="track",
                   detect_every=8, fps=["2", 1], style="mimicmotion"),
        "5": _node("MotionComicRetargetPoses", "Retarget Poses (character proportions)", dwpose=["3", 0],
                   reference_image=["1", 0], poses=["4", 0], method="skeleton", smoothing=True,
                   fill_missing="reference", style="mimicmotion"),
        "6": _node("PreviewImage", "Character's own pose", images=["5", 2]),
        "7": _node("MotionComicSaveVideo", "Save pose video", images=["5", 1], fps=["2", 1],
                   filename_prefix="motioncomic/pose_retarget", format="mp4", crf=19, quality=90, save_output=True),
    }


def pose_dance() -> dict:
    """Character image + dance clip -> poses -> retarget -> MimicMotion -> face restore -> interpolate -> save."""
    api = {k: v for k, v in pose_retarget().items() if k in ("1", "2", "3", "4", "5")}
    api |= {
        "6": _node("MotionComicLoadMimicMotion", "Load MimicMotion", model="MimicMotion_1-1.pth",
                   svd_folder="stable-video-diffusion-img2vid-xt-1-1", pose_net="(auto)", version="1.1",
                   dtype="auto", offload="model"),
        "7": _node("MotionComicPoseToVideo", "Pose to Video (letterboxed)", model=["6", 0], reference_image=["1", 0],
                   pose_images=["5", 1], driving_fps=["2", 1], seed=42, steps=25, cfg=2.0, resolution=576,
                   sample_stride=2, fill="flow", tile_frames=0, tile_overlap=6, noise_aug_strength=0.0,
                   reference_pose=["5", 2]),
    }
    api |= _tail(8, ["7", 0], ["7", 1], ["1", 0], "motioncomic/pose_dance", 2)
    return api


def _layout_generate(extra_options: bool) -> tuple[dict, list]:
    col = [40, 400, 800, 1240, 1640]
    layout = {"1": (col[0], 420, 320, 360), "2": (col[0], 140, 320, 220), "3": (col[1], 140, 360, 560)}
    if extra_options:
        layout |= {"4": (col[2], 960, 400, 260), "5": (col[2], 140, 400, 620)}
        tail_first = 6
    else:
        layout |= {"4": (col[2], 140, 400, 620)}
        tail_first = 5
    ids = [str(tail_first + i) for i in range(5)]
    layout |= {ids[0]: (col[3], 140, 360, 220), ids[1]: (col[3], 400, 360, 560),
               ids[2]: (col[4], 140, 340, 130), ids[3]: (col[4], 310, 340, 200), ids[4]: (col[4], 550, 360, 420)}
    return layout, col


def graphs() -> dict[str, tuple[dict, dict, list, str]]:
    """name -> (api prompt, layout, notes, info)."""
    layout_c, col = _layout_generate(False)
    layout_o, _ = _layout_generate(True)
    note_c = (
        "## CogVideoX anime image-to-video\n\n"
        "1. **Load CogVideoX**: the diffusers folder of THUDM/CogVideoX-5b-I2V in `models/CogVideo/CogVideoX-5b-I2V/` "
        "(or CogVideoX1.5-5B-I2V). `offload = model` fits 24 GB; `sequential` fits ~5 GB, slower.\n"
        "2. **Expand Prompt** turns a few words (any language) into the long English caption the model was "
        "trained on. It uses an OpenAI-compatible server (Ollama by default); if none answers it falls back to "
        "our rule-based caption and says so in `status`.\n"
        "3. **Image to Video** fits the character inside the 720x480 frame with black borders and crops them "
        "off every frame: never stretched. 49 frames at 8 fps, 50 steps, cfg 6. `framing = stretch` to compare."
    )
    note_o = (
        "## Open-Sora ST-DiT anime image-to-video\n\n"
        "1. **Load ST-DiT**: `models/opensora/OpenSora-STDiT-v3/` (or your custom-sized anime STDiT3), the VAE "
        "`models/opensora/OpenSora-VAE-v1.2/`, T5-XXL from `models/text_encoders/`.\n"
        "2. **Open-Sora Options**: resolution bucket (the nearest aspect bucket is chosen and letterboxed), "
        "aesthetic / motion / camera scores appended to the caption as the model was trained.\n"
        "3. **Image to Video**: 51 frames (2 s at 24 fps), 30 steps, cfg 7 (upstream defaults)."
    )
    note_w = (
        "## Wan 2.2 TI2V-5B anime image-to-video\n\n"
        "1. **Load Wan**: ComfyUI's `wan2.2_ti2v_5B_fp16.safetensors` (models/diffusion_models/), "
        "`wan2.2_vae.safetensors` (models/vae/), `umt5_xxl_fp16.safetensors` (models/text_encoders/), or the "
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers folder in models/diffusers/. For I2V-A14B set `model` / `model_2` to the "
        "high- and low-noise experts and use `wan_2.1_vae.safetensors`.\n"
        "2. **Expand Prompt** writes the English shot description Wan knows, measured with its umT5 tokenizer "
        "(512 tokens).\n"
        "3. **Image to Video**: `resolution` 480 = the 480x832 pixel area in the aspect nearest the character "
        "(720 or 0 = the model's 704x1280), letterboxed and cropped back; 49 frames = 2 s at 24 fps, 30 steps, "
        "cfg 5. More frames: any 4N+1 (121 = 5 s)."
    )
    note_v = (
        "## Finish a clip with its soundtrack (core video nodes)\n\n"
        "Core **Load Video** gives a VIDEO (frames, frame rate and audio). Face Restore and Interpolate take it on "
        "their `video` input and hand a VIDEO on: the sound is carried unchanged, interpolation triples the frame "
        "rate and keeps the duration. Core **Save Video** writes the mp4 with the sound."
    )
    note_p = (
        "## Finish an existing clip\n\n"
        "Load a clip from ComfyUI's `input/` folder and the character image it should look like. Face Restore "
        "brings the drawn face back in every frame; Interpolate triples the frame rate."
    )
    note_t = (
        "## CogVideoX text-to-video (a shot with no drawing yet)\n\n"
        "1. **Load CogVideoX**: the diffusers folder of THUDM/CogVideoX-5b (or CogVideoX-2b, CogVideoX1.5-5B) in "
        "`models/CogVideo/CogVideoX-5b/`. Add **CogVideoX LoRA** nodes after it for your studio's style.\n"
        "2. **Expand Prompt** turns a few words (any language) into the long English caption the model knows.\n"
        "3. **Text to Video**: width/height 0 = the model's frame (720x480; 1.5: 1360x768, or any multiple of 16 "
        "with the long side at most 1.77x the short). 49 frames at 8 fps, 50 steps, cfg 6.\n"
        "4. **Interpolate** to 24 fps, **Save Video**."
    )
    t2v_layout = {"1": (40, 140, 320, 220), "2": (400, 140, 360, 560), "3": (800, 140, 400, 520),
                  "4": (1240, 140, 340, 130), "5": (1240, 310, 340, 200), "6": (1240, 550, 360, 420)}
    post_layout = {"1": (40, 420, 320, 360), "2": (40, 140, 320, 220),
                   "3": (400, 140, 360, 220), "4": (400, 400, 360, 560), "5": (800, 140, 340, 130),
                   "6": (800, 310, 340, 200), "7": (800, 550, 360, 420)}
    note_core_wan = (
        "## Wan 2.2 TI2V-5B (core ComfyUI) with our letterbox\n\n"
        "Core `Wan22ImageToVideoLatent` resizes the start image to its width/height with a centre crop, so a "
        "portrait or a wide banner loses its edges. **Letterbox Image** picks the legal Wan 2.2 frame (multiples "
        "of 32, about 1280x704 pixels) nearest the image's aspect, pads the character into it and hands "
        "width/height to the core node. **Crop to Character** cuts the borders off every decoded frame: the clip "
        "has the image's aspect.\n\n"
        "Models (Comfy-Org/Wan_2.2_ComfyUI_Repackaged): `diffusion_models/wan2.2_ti2v_5B_fp16.safetensors`, "
        "`text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors`, `vae/wan2.2_vae.safetensors`. "
        "Other models: choose their preset (Wan 14B, HunyuanVideo, LTX-Video) and wire width/height the same way."
    )
    wan_layout = {"1": (40, 140, 320, 360), "2": (400, 140, 340, 260), "3": (40, 540, 320, 110),
                  "4": (400, 560, 320, 80), "5": (780, 140, 340, 130), "6": (780, 310, 400, 200),
                  "7": (780, 550, 400, 200), "8": (1220, 140, 320, 80), "9": (1220, 260, 340, 200),
                  "10": (1600, 140, 320, 320), "11": (1600, 500, 240, 60), "12": (1960, 140, 320, 110),
                  "13": (1960, 300, 280, 80), "14": (1960, 420, 360, 420)}
    note_pose = (
        "## Dance poses on the character's own body\n\n"
        "1. **Load DWPose**: `yolox_l.onnx` and `dw-ll_ucoco_384.onnx` from huggingface.co/yzd-v/DWPose in "
        "`models/dwpose/` (comfyui_controlnet_aux's `ckpts/yzd-v/DWPose/` is searched too).\n"
        "2. **Extract Poses** runs the detector every 8 frames and tracks in between; frames without the dancer "
        "keep the previous pose.\n"
        "3. **Retarget Poses** keeps the character's bone lengths (a chibi stays a chibi) and the dancer's "
        "angles, timing, zoom and travel. `method = global` is MimicMotion's own fit, for comparison.\n\n"
        "The pose video is drawn as MimicMotion was trained (`style = dwpose` for OpenPose/DWPose ControlNets)."
    )
    pose_layout = {"1": (40, 420, 320, 360), "2": (40, 140, 320, 220), "3": (400, 140, 360, 130),
                   "4": (400, 310, 360, 220), "5": (800, 140, 380, 260), "6": (800, 440, 300, 320),
                   "7": (1220, 140, 360, 420)}
    note_dance = (
        "## The character dances like the clip\n\n"
        "1. **Load DWPose / Extract Poses / Retarget Poses**: the dancer's poses on the character's own "
        "proportions (see the pose graph).\n"
        "2. **Load MimicMotion**: `MimicMotion_1-1.pth` (tencent/MimicMotion) in `models/mimicmotion/` and the "
        "`stable-video-diffusion-img2vid-xt-1-1` diffusers folder in `models/diffusers/`.\n"
        "3. **Pose to Video**: character and poses letterboxed with one plan (short side 576), every other pose "
        "sampled and the rest filled by optical flow, so the clip keeps the dance's frame rate; 25 steps, cfg 2.\n"
        "4. **Face Restore** from the character image, **Interpolate** x2, **Save Video**."
    )
    dance_layout = dict(pose_layout)
    dance_layout.pop("6"), dance_layout.pop("7")
    dance_layout |= {"6": (1220, 140, 360, 260), "7": (1220, 440, 380, 520), "8": (1640, 140, 360, 220),
                     "9": (1640, 400, 360, 560), "10": (2040, 140, 340, 130), "11": (2040, 310, 340, 200),
                     "12": (2040, 550, 360, 420)}
    return {
        "motioncomic_pose_dance": (pose_dance(), dance_layout, [(40, 820, 720, 320, note_dance)],
                                   "Pose-driven animation: a dance clip's poses retargeted onto the character, "
                                   "MimicMotion, face restore, interpolation, mp4."),
        "motioncomic_cogvideox_anime": (cogvideox_anime(), layout_c, [(col[0], 820, 720, 300, note_c),
                                                                     (col[3], 1000, 700, 300, NOTE_TAIL)],
                                        "CogVideoX anime image-to-video: expand prompt, letterboxed sampling, "
                                        "face restore, interpolation to 24 fps, mp4."),
        "motioncomic_opensora_anime": (opensora_anime(), layout_o, [(col[0], 860, 720, 300, note_o),
                                                                   (col[3], 1000, 700, 300, NOTE_TAIL)],
                                       "Open-Sora ST-DiT anime image-to-video: expand prompt, bucketed "
                                       "letterbox, face restore, interpolation, mp4."),
        "motioncomic_cogvideox_t2v": (cogvideox_t2v(), t2v_layout, [(40, 420, 320, 420, note_t)],
                                      "CogVideoX text-to-video: expand a short prompt, generate, interpolate to "
                                      "24 fps, mp4."),
        "motioncomic_wan_anime": (wan_anime(), layout_c, [(col[0], 820, 720, 300, note_w),
                                                         (col[3], 1000, 700, 300, NOTE_TAIL)],
                                  "Wan 2.2 TI2V-5B anime image-to-video: expand prompt, letterbox in the 480p area "
                                  "nearest the character's aspect, face restore, interpolation to 48 fps, mp4."),
        "motioncomic_wan22_letterbox": (wan22_letterbox(), wan_layout, [(40, 760, 700, 330, note_core_wan)],
                                        "Core Wan 2.2 TI2V-5B image-to-video with our letterbox around it: the "
                                        "character keeps its proportions in any aspect."),
        "motioncomic_finish_clip": (post_only(), post_layout, [(1180, 140, 520, 260, note_p),
                                                               (1180, 440, 520, 300, NOTE_TAIL)],
                                    "Restore the face and interpolate an existing clip."),
        "motioncomic_pose_retarget": (pose_retarget(), pose_layout, [(1220, 600, 520, 300, note_pose)],
                                      "Extract a dance clip's poses and retarget them onto the character's "
                                      "proportions: pose video for MimicMotion or a pose ControlNet."),
        "motioncomic_finish_video": (core_video(), post_layout | {"7": (800, 550, 360, 360)},
                                     [(1180, 140, 520, 260, note_v), (1180, 440, 520, 300, NOTE_TAIL)],
                                     "Core Load Video -> face restore -> interpolate -> core Save Video, with "
                                     "the clip's sound."),
    }


def render(name: str) -> tuple[str, str]:
    """(UI json text, API json text) for one flagship graph."""
    from ui_workflow import build_ui

    api, layout, notes, info = graphs()[name]
    ui = build_ui(api, layout, notes=notes, info=info)
    return json.dumps(ui, indent=2, ensure_ascii=False) + "\n", json.dumps(api, indent=2, ensure_ascii=False) + "\n"


THUMBS = {  # name -> (title, character image, model frame rule)
    "motioncomic_cogvideox_anime": ("CogVideoX anime image-to-video", CHARACTER, "cogvideox"),
    "motioncomic_opensora_anime": ("ST-DiT anime image-to-video", CHARACTER, "opensora"),
    "motioncomic_wan_anime": ("Wan 2.2 TI2V-5B anime image-to-video", CHARACTER, "wan"),
    "motioncomic_finish_clip": ("Face restore + interpolation", "fairy_girl.png", None),
    "motioncomic_cogvideox_t2v": ("CogVideoX text-to-video", None, "cogvideox"),
    "motioncomic_wan22_letterbox": ("Wan 2.2 5B (core) letterboxed", CHARACTER, "wan22"),
    "motioncomic_pose_retarget": ("Dance poses on the character", CHARACTER, None),
    "motioncomic_pose_dance": ("MimicMotion: the character dances", CHARACTER, None),
    "motioncomic_finish_video": ("Core video with sound: restore + interpolate", "fairy_girl.png", None),
}


def thumbnail(name: str, characters: Path):
    """A template-browser thumbnail: the character letterboxed into the frame the model uses."""
    import numpy as np
    import torch
    from PIL import Image, ImageDraw, ImageFont

    from motioncomic.loaders.opensora.aspect import frame_spec
    from motioncomic.loaders.video_model import FrameSpec
    from motioncomic.samplers.framing import apply_plan, choose_frame, plan_frame

    title, character, rule = THUMBS[name]
    src = Image.open(characters / character).convert("RGB") if character else Image.new("RGB", (720, 480), (60, 60, 72))
    image = torch.from_numpy(np.asarray(src, dtype=np.float32).copy() / 255.0)[None]
    size = tuple(image.shape[1:3])
    from motioncomic.loaders.wan_config import rules_for

    spec = {"cogvideox": FrameSpec("fixed", sizes=((480, 720),)), "opensora": frame_spec(),
            "wan": rules_for("ti2v-5b", 16, 2)["frame"]}.get(rule)
    if rule == "wan22":
        from motioncomic.samplers.letterbox import choose_preset_frame, preset

        frame = choose_preset_frame(preset(WAN22_PRESET), size)
    else:
        frame = choose_frame(spec, size, "480p") if spec else size
    framed = apply_plan(image, plan_frame(size, frame, "pad"))
    card = Image.new("RGB", (512, 320), (28, 28, 36))
    shot = Image.fromarray((framed[0].numpy() * 255).round().astype("uint8"))
    shot.thumbnail((480, 256))
    left = (512 - shot.width) // 2
    card.paste(shot, (left, 14))
    draw = ImageDraw.Draw(card)
    draw.rectangle([left - 1, 13, left + shot.width, 14 + shot.height], outline=(200, 200, 210))
    draw.text((16, 284), f"motioncomic: {title}", fill=(235, 235, 240), font=ImageFont.load_default(size=18))
    return card


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import conftest  # noqa: F401  (imports the pack as ``motioncomic``)

    for name in graphs():
        ui, api = render(name)
        (ROOT / "workflows" / f"{name}.json").write_text(ui, encoding="utf-8")
        (ROOT / "workflows" / "api" / f"{name}.json").write_text(api, encoding="utf-8")
        thumbnail(name, ROOT / "tests" / "data" / "characters").save(
            ROOT / "workflows" / f"{name}.jpg", quality=85)
        print("wrote", name)


if __name__ == "__main__":
    main()
