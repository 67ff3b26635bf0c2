"""Hand-written part of the node help pages (``tests/node_docs.py`` renders them).

For every node: typical values, the user-facing errors the node or the layer below raises and what
to do about them, and links to the area doc. Keep messages short (the start of the real message is
enough to recognise it) and link to the area doc's troubleshooting table rather than copying it.
"""
from __future__ import annotations

#: (node, input) -> where a file-dependent combo gets its entries.
FILE_SOURCES: dict[tuple[str, str], str] = {
    ("MotionComicLoadCogVideoX", "model"): "CogVideoX (I2V and T2V) diffusers folders in `models/CogVideo/` and "
    "`models/diffusers/`, single-file transformers in `models/diffusion_models/`",
    ("MotionComicLoadCogVideoX", "vae"): "files in `models/vae/`",
    ("MotionComicLoadCogVideoX", "t5"): "`*t5*.safetensors` files and T5 folders in `models/text_encoders/`",
    ("MotionComicLoadWan", "model"): "Wan diffusers folders in `models/diffusers/` and `.safetensors` files in "
    "`models/diffusion_models/`",
    ("MotionComicLoadWan", "model_2"): "`.safetensors` files in `models/diffusion_models/`",
    ("MotionComicLoadWan", "vae"): "`.safetensors` files in `models/vae/`",
    ("MotionComicLoadWan", "text_encoder"): "`*umt5*.safetensors` files and transformers folders in "
    "`models/text_encoders/`",
    ("MotionComicLoadSTDiT", "model"): "checkpoints in `models/opensora/` and `models/diffusion_models/`, "
    "and folders there holding a shard index or `ema.pt`",
    ("MotionComicLoadSTDiT", "vae"): "files in `models/vae/` and `models/opensora/`",
    ("MotionComicLoadSTDiT", "t5"): "`*t5*.safetensors` files and T5 folders in `models/text_encoders/`",
    ("MotionComicLoadFaceModels", "detector"): "ONNX detectors and OpenCV cascade `.xml` files in "
    "`models/facedetection/`, detector ONNX files (scrfd, det_, yolo …) in `models/insightface/`",
    ("MotionComicLoadFaceModels", "swapper"): "ONNX files in `models/insightface/`",
    ("MotionComicLoadFaceModels", "recogniser"): "ONNX files in `models/insightface/`",
    ("MotionComicLoadFaceModels", "enhancer"): "enhancer ONNX files in `models/facerestore_models/`",
    ("MotionComicLoadFaceModels", "mask_model"): "occlusion / face-parsing ONNX files in "
    "`models/facerestore_models/` and `models/facedetection/`",
    ("MotionComicLoadInterpolator", "model"): "RIFE and SGM-VFI `.pkl`/`.pth`/`.safetensors` files in "
    "`models/vfi/` and in ComfyUI-Frame-Interpolation's `ckpts/rife/` when that pack is installed (GMFlow "
    "helper files are not listed)",
    ("MotionComicLoadMimicMotion", "model"): "checkpoints in `models/mimicmotion/` (and ComfyUI-MimicMotionWrapper's "
    "`models/` when that pack is installed)",
    ("MotionComicLoadMimicMotion", "svd_folder"): "folders in `models/diffusers/` whose `model_index.json` is a "
    "StableVideoDiffusionPipeline",
    ("MotionComicLoadMimicMotion", "pose_net"): "(auto) plus the checkpoints in `models/mimicmotion/`",
    ("MotionComicLoadSVD", "model"): "folders in `models/diffusers/` whose `model_index.json` is a "
    "StableVideoDiffusionPipeline",
    ("MotionComicLoadVideo", "video"): "video files in ComfyUI's `input/` folder (sub-folders too)",
    ("MotionComicCogVideoXLoRA", "lora"): "`.safetensors` (and `.pt/.pth/.bin`) files in `models/loras/`, and in "
    "`models/CogVideo/loras/` listed as `CogVideo/loras/<file>`",
    ("MotionComicLoadDWPose", "detector"): "ONNX files in `models/dwpose/` and comfyui_controlnet_aux's "
    "`ckpts/yzd-v/DWPose/` (yolox files first)",
    ("MotionComicLoadDWPose", "pose_model"): "ONNX files in `models/dwpose/` and comfyui_controlnet_aux's "
    "`ckpts/yzd-v/DWPose/` (non-yolox files first)",
}

#: A hand-written page in docs/nodes/ whose sections (other than Inputs/Outputs) are folded in.
FOLD: dict[str, str] = {
    "MotionComicLoadVideo": "docs/nodes/load_video.md",
    "MotionComicSaveVideo": "docs/nodes/save_video.md",
}

#: node -> typical values (list of lines), errors ((message, what it means / fix), ...), area docs.
NOTES: dict[str, dict] = {
    "MotionComicExpandPrompt": {
        "typical": [
            "`backend` openai with a local Ollama (`base_url` http://127.0.0.1:11434/v1, `model` qwen2.5:7b); "
            "`rules` when no LLM is available.",
            "`temperature` 0.1, `timeout` 30 s (raise it while the server loads a model).",
            "Connect `video_model` so the real tokenizer counts the budget: CogVideoX 226 tokens, 1.5: 224, "
            "ST-DiT 300.",
            "`send_image` on only with a vision model (qwen2.5vl:7b).",
        ],
        "errors": [
            ("status `fallback: rule-based expansion, because … failed after … s: …`", "the LLM did not answer; the "
             "rule-based caption was used and the node runs again on the next queue. The reason follows:"),
            ("… `connection refused by 127.0.0.1:11434 (is the server running?)`", "start the server "
             "(`ollama serve`) or fix `base_url`, or use backend `rules`"),
            ("… `timed out`", "the model is loading or too slow: raise `timeout` or use a smaller model"),
            ("… `HTTP 404: …`", "`model` must be a name the server knows (`ollama list`)"),
            ("… `HTTP 400: …` with `send_image` on", "the model is text-only: turn `send_image` off"),
            ("`api_key_env takes the NAME of an environment variable …`", "you typed the key itself: delete it, "
             "set the key in ComfyUI's environment and put only the variable name here"),
            ("`the API key in X may not be sent to '…'`", "a key goes only to this machine, its provider's official "
             "host (`OPENAI_API_KEY` to api.openai.com, …) or the hosts the server owner bound it to; the message "
             "gives the owner the exact `MOTIONCOMIC_KEY_HOSTS` line that allows it"),
            ("`The prompt is empty: type a few words …`", "type a request or choose an `action`"),
            ("`… not found in … Did you mean …` (backend local)", "put the transformers folder in `models/LLM/<model>/`"),
        ],
        "docs": [("docs/prompts.md#troubleshooting", "prompts.md: troubleshooting")],
    },
    "MotionComicLoadFaceModels": {
        "typical": [
            "Real faces: `detector` auto (SCRFD), `swapper` inswapper_128.onnx, `recogniser` "
            "buffalo_l/w600k_r50.onnx, `enhancer` GFPGANv1.4.onnx.",
            "Anime faces: add `lbpcascade_animeface.xml` or a YOLO anime-face ONNX to `models/facedetection/` "
            "and keep `detector` auto (or pick it).",
            "Enhance only: `swapper` none. Swap only: `enhancer` none.",
        ],
        "errors": [
            ("`Choose a swapper, an enhancer or both …`", "both are none: Face Restore would do nothing"),
            ("`No detector finds a face in the reference image`", "the built-in anime cascade is used when no detector is installed; add a SCRFD/YOLO face ONNX to `models/facedetection/` for other faces"),
            ("`… is not a readable ONNX model … download it again`", "truncated file or an HTML error page: download again"),
            ("`… looks like X, expected Y`", "the file is in the wrong slot of this node"),
            ("`onnxruntime cannot be imported`", "install exactly one of onnxruntime / onnxruntime-gpu"),
            ("`… needs cv2.CascadeClassifier, which this OpenCV (…) lacks …`", "install opencv-contrib-python instead of "
             "opencv-python(-headless)"),
        ],
        "docs": [("docs/faces.md#where-the-model-files-go", "faces.md: model files"),
                 ("docs/faces.md#troubleshooting", "faces.md: troubleshooting")],
    },
    "MotionComicFaceRestore": {
        "typical": [
            "`swap_strength` 0.6–1.0 (lower keeps more of the generated face), `enhance_strength` 0.5–1.0.",
            "`codeformer_fidelity` 0.5–0.7; `mask_blur` 0.3; `threshold` 0.5 (0.3 for hard anime faces).",
            "`tracking` on, `detect_every` 5 (2–3 for fast motion), `smoothing` 2.",
            "Connect the character image as `reference_image`; `debug_output` off for long clips.",
            "A core VIDEO on `video` (e.g. core Load Video) instead of `images`: the `video` output keeps its frame "
            "rate and audio, for core Save Video.",
        ],
        "errors": [
            ("`No detector finds a face in the reference image …`", "use a clearer near-frontal reference, lower "
             "`threshold`, or add an anime detector"),
            ("`The face swapper needs a recogniser …`", "choose an ArcFace ONNX as `recogniser` in Load Face Models"),
            ("`Face swap needs a reference image with a face …`", "connect `reference_image`, or set swapper to none"),
            ("`None of the detector candidates is usable: …`", "the detector files could not be opened: see the log"),
            ("`… the video has no frames` / `… frames differ in size …`", "check the VIDEO upstream"),
            ("`… connect either 'images' or 'video', not both`", "connect exactly one clip input"),
            ("faces flicker between frames", "keep `tracking` on, raise `smoothing`"),
            ("a seam around the face", "raise `mask_blur`; for hair/hands over the face add a mask model"),
        ],
        "docs": [("docs/faces.md#options-that-matter", "faces.md: options"),
                 ("docs/faces.md#troubleshooting", "faces.md: troubleshooting")],
    },
    "MotionComicCogVideoXLoRA": {
        "typical": [
            "`strength` 1.0 for LoRAs from `train-lora` (their alpha is in the file); alpha/rank (0.5 for rank 128, "
            "alpha 64) for LoRAs saved without alpha by diffusers' or CogVideo's trainers; 0.6-1.2 to taste.",
            "`fuse` on for long runs (no per-step cost); off while trying strengths.",
            "Chain: Load CogVideoX → CogVideoX LoRA (character) → CogVideoX LoRA (style) → Image to Video.",
        ],
        "errors": [
            ("`LoRA … does not fit … It looks made for …`", "the LoRA was trained on another base "
             "(2B vs 5B, 1.0 vs 1.5, T2V vs I2V): use it with that model"),
            ("`LoRA … was made for CogVideoX … (its metadata says so)`", "load the model it names"),
            ("`… is not usable: give a number between -10 and 10 …`", "a finite number in that range"),
            ("`… is incomplete: N layers miss half of their pair`", "download or export the file again"),
            ("`… keys that are not LoRA weights`", "the file is a model or another adapter type, not a LoRA"),
            ("`… is a DoRA file` / `LyCORIS LoHa/LoKr`", "export a plain LoRA"),
        ],
        "docs": [("docs/lora.md#3-in-the-graph-cogvideox-lora-node", "lora.md: the LoRA node"),
                 ("docs/lora.md#file-layouts-read", "lora.md: file layouts")],
    },
    "MotionComicTextToVideo": {
        "typical": [
            "CogVideoX-5b / 2b: 720x480 (width/height 0), 49 frames, 50 steps, cfg 6, 8 fps.",
            "CogVideoX1.5-5B: 1360x768 (or 768x1360, any multiple of 16 with the long side <= 1.77x the short), "
            "81 frames, 16 fps.",
            "`prompt`: 50-200 words of English (use Expand Prompt); `scheduler` DPM with `dynamic_cfg` on.",
        ],
        "errors": [
            ("`… is an image-to-video model: it needs a first frame. Use the Image to Video node …`",
             "load a text-to-video checkpoint (CogVideoX-5b, CogVideoX-2b, CogVideoX1.5-5B)"),
            ("`WxH is not a frame … can generate … Nearest valid: …`", "use the size given, or 0 x 0"),
            ("`50 frames is not possible … Nearest valid: 49`", "use the suggested count"),
            ("`the prompt is empty …`", "write a prompt or connect Expand Prompt"),
        ],
        "docs": [("docs/lora.md#text-to-video", "lora.md: Text to Video"),
                 ("docs/cogvideox.md#troubleshooting", "cogvideox.md: troubleshooting")],
    },
    "MotionComicImageToVideo": {
        "typical": [
            "CogVideoX 1.0 (5B-I2V): 49 frames, 50 steps, cfg 6, 720x480, 8 fps — leave `frames`/`steps`/`cfg` at 0.",
            "CogVideoX 1.5: 81 frames, 50 steps, cfg 6, `resolution` 768 (lower is faster), 16 fps.",
            "ST-DiT (with Open-Sora Options): 51 frames (2 s), 30 steps, cfg 7, 24 fps.",
            "`prompt`: 50–200 words of English describing motion (use Expand Prompt); `framing` pad.",
            "`scheduler` DPM with `dynamic_cfg` on, or DDIM with it off.",
            "A live preview of the clip's middle frame shows on the node at every step when ComfyUI runs with "
            "`--preview-method auto` (docs/previews.md); the `video` output connects to core Save Video.",
        ],
        "errors": [
            ("`50 frames is not possible … Nearest valid: 49`", "use the suggested count (1.0: 8N+1, 1.5: 16N+1, "
             "ST-DiT: multiples of 17)"),
            ("`… is a text-to-video model: it cannot start from an image. Use the Text to Video node …`",
             "use Text to Video, or load an I2V checkpoint (CogVideoX-5b-I2V, CogVideoX1.5-5B-I2V)"),
            ("`the prompt is empty; describe the motion …`", "write a prompt or connect Expand Prompt"),
            ("`image is 1x1 pixels; it must be at least 16x16`", "feed a real image"),
            ("`the image is WxH pixels, smaller than the smallest Open-Sora bucket …`", "upscale the image"),
            ("`border colour '…' is not a colour …`", "use `#000000` or `0,0,0`"),
            ("`short side N must be a positive multiple of 16; nearest: …`", "CogVideoX 1.5 `resolution`: use the value given"),
            ("`TRUNCATED` in the report", "the prompt is longer than the model reads; shorten it or use Expand Prompt"),
            ("out of memory", "offload `model`, then `sequential` (Load CogVideoX); fewer frames; lower resolution"),
        ],
        "docs": [("docs/cogvideox.md#image-to-video-motioncomic--image-frames-float-fps-string-report",
                  "cogvideox.md: Image to Video"),
                 ("docs/cogvideox.md#troubleshooting", "cogvideox.md: troubleshooting"),
                 ("docs/opensora.md#troubleshooting", "opensora.md: troubleshooting")],
    },
    "MotionComicLetterboxImage": {
        "typical": [
            "`preset` the model of the image-to-video node you wire `width`/`height` into; `width`/`height` 0.",
            "Wan 2.2 TI2V 5B: a 3:4 portrait gets 800x1088, a 21:9 banner 1440x608, 16:9 the native 1280x704.",
            "`framing` pad; `border_color` black (or the character's background colour for flat art).",
        ],
        "errors": [
            ("`target frame … 1000: … a multiple of 32 from 32 to 16384; nearest valid: 992 or 1024`",
             "use one of the values given, or 0 for both to let the preset choose"),
            ("`target frame 0x0 is empty: …`", "preset `custom` needs both width and height"),
            ("`target frame 832x480: … only generates 720x480; use 0x0 for it`", "CogVideoX 1.0 has one frame"),
            ("`border colour '…' is not a colour …`", "use `#000000` or `0,0,0`"),
        ],
        "docs": [("docs/letterbox.md", "letterbox.md: presets and how the frame is chosen")],
    },
    "MotionComicCropToCharacter": {
        "typical": [
            "`images` from the core VAE Decode, `plan` from Letterbox Image; `resize_back` off; `even_size` on "
            "for mp4.",
        ],
        "errors": [
            ("`the clip's frames are 832x480 but the framing plan's frame is 800x1088: …`",
             "wire Letterbox Image's width/height into the image-to-video node that made the clip"),
            ("`frames must be a non-empty IMAGE batch …`", "the decode produced no frames"),
        ],
        "docs": [("docs/letterbox.md", "letterbox.md")],
    },
    "MotionComicLoadCogVideoX": {
        "typical": [
            "`model` the CogVideoX-5b-I2V folder in `models/CogVideo/`; `vae` and `t5` (from model folder).",
            "`dtype` bf16 (fp32 on older GPUs / CPU; never fp16 for 1.5).",
            "`offload` none on 32+ GB, model on 24 GB; on 12–16 GB sequential (3–4x slower), though model "
            "may fit for 1.0.",
        ],
        "errors": [
            ("`CogVideoX model … not found in …`", "the message lists close names and what is installed; put the folder in `models/CogVideo/<name>/`"),
            ("`The CogVideoX folder … is incomplete; missing: …`", "download the listed files into the same sub-folders"),
            ("Image to Video says `… is a text-to-video model …`", "the checkpoint is T2V (CogVideoX-5b/2b/1.5-5B): connect it to Text to Video, or load an I2V checkpoint"),
            ("`… is not a CogVideoX transformer; it looks like …`", "that file belongs to another model"),
            ("`CogVideoX 1.5 does not work in fp16 …`", "choose bf16 (or fp32)"),
            ("`No T5 tokenizer found. Looked in: …`", "put `spiece.model` and configs in "
             "`models/text_encoders/t5_tokenizer/`"),
            ("`… is truncated …`", "the download broke off: download again"),
            ("`… holds Python objects besides tensors …`", "convert the checkpoint to .safetensors"),
        ],
        "docs": [("docs/cogvideox.md#where-the-files-go", "cogvideox.md: where the files go"),
                 ("docs/cogvideox.md#troubleshooting", "cogvideox.md: troubleshooting")],
    },
    "MotionComicLoadMimicMotion": {
        "typical": [
            "`model` MimicMotion_1-1.pth, `svd_folder` stable-video-diffusion-img2vid-xt-1-1, `pose_net` (auto), "
            "`version` 1.1.",
            "`dtype` auto (bf16 on GPU), `offload` none on 24 GB with 72-frame tiles, model below.",
        ],
        "errors": [
            ("`… holds …: the PoseNet weights are missing …` (a UNet-only file)",
             "copy `mimic_motion_pose_net.safetensors` from the wrapper's `models/` into `models/mimicmotion/`, or use "
             "MimicMotion_1-1.pth"),
            ("`The SVD folder … is incomplete; missing: …` (e.g. image_encoder/config.json)", "download the listed "
             "sub-folders of stabilityai/stable-video-diffusion-img2vid-xt-1-1 (fp16 files suffice)"),
            ("`… is not a MimicMotion UNet checkpoint: it looks like …`", "that file belongs to another model"),
            ("`… does not match the SVD UNet of the folder's unet/config.json …`", "use the SVD-xt 1.1 folder"),
        ],
        "docs": [("docs/mimicmotion.md#files-and-folders", "mimicmotion.md: files and folders")],
    },
    "MotionComicLoadSVD": {
        "typical": [
            "`model` stable-video-diffusion-img2vid-xt-1-1, `dtype` auto, `offload` none (model on 12 GB).",
            "In Image to Video: `frames` 0 (25), `steps` 0 (25), `cfg` 0 (3.0), prompt empty (not used).",
        ],
        "errors": [
            ("`The SVD folder … is incomplete; missing: …`", "download the listed sub-folders of "
             "stabilityai/stable-video-diffusion-img2vid-xt-1-1 into the same folder"),
            ("`SVD folder … not found in …`", "put the folder in `models/diffusers/`"),
            ("`motion bucket … is out of range …`", "an options dict sent a value outside 0..1023"),
        ],
        "docs": [("docs/mimicmotion.md#svd-settings-svdoptions-defaults--diffusers-pipeline-for-svd-xt-11",
                  "mimicmotion.md: SVD settings")],
    },
    "MotionComicPoseToVideo": {
        "typical": [
            "`steps` 25, `cfg` 2.0, `resolution` 576, `sample_stride` 2 with `fill` flow, `tile_frames` 0 (72), "
            "`tile_overlap` 6, `noise_aug_strength` 0 (the official settings).",
            "`driving_fps` from Load Video; connect `reference_pose` from the pose extractor.",
        ],
        "errors": [
            ("`pose images are WxH but the reference image is … and its letterboxed frame …`", "render the poses at "
             "the reference image's size (Retarget Poses does) or at the frame size the message names"),
            ("`Pose to Video needs a MimicMotion model …`", "connect Load MimicMotion"),
            ("`tiles of … frames overlapping by … are impossible …`", "use a tile of at least 2 and a smaller overlap"),
            ("`no reference pose given …` (report)", "connect `reference_pose` for the best likeness"),
        ],
        "docs": [("docs/mimicmotion.md#mimicmotion-settings-mimicoptions-defaults--the-official-configstestyaml",
                  "mimicmotion.md: settings")],
    },
    "MotionComicLoadSTDiT": {
        "typical": [
            "`model` OpenSora-STDiT-v3 `model.safetensors`, `vae` OpenSora-VAE-v1.2 `model.safetensors`, "
            "`t5` t5xxl_fp16.safetensors or a T5-v1_1-XXL folder.",
            "`dtype` auto (bf16 on GPU), `t5_dtype` fp32 (bf16 to save ~10 GB), `offload` model.",
        ],
        "errors": [
            ("`… not found in … The files and their sources are listed in …`", "put the file in a folder the message names; it lists close names and what is installed"),
            ("`this is not an Open-Sora ST-DiT (STDiT3) checkpoint: it looks like …`", "choose the STDiT3 file; "
             "CogVideoX goes in Load CogVideoX"),
            ("`… tensors do not belong to STDiT3 …`", "only Open-Sora 1.2 checkpoints are supported"),
            ("`… is missing N STDiT3 tensors`", "incomplete download: download again"),
            ("`… holds only the … half of the Open-Sora VAE v1.2 …`", "use the complete OpenSora-VAE-v1.2 file"),
            ("`the T5 encoder gives 2048-dim features but this ST-DiT expects 4096`", "use T5-v1_1-XXL"),
            ("`No T5 tokenizer found …`", "put the tokenizer in `models/text_encoders/t5_tokenizer/`"),
        ],
        "docs": [("docs/opensora.md#where-the-files-go", "opensora.md: where the files go"),
                 ("docs/opensora.md#troubleshooting", "opensora.md: troubleshooting"),
                 ("docs/opensora_vae.md#errors-and-what-to-do", "opensora_vae.md: VAE errors")],
    },
    "MotionComicLoadWan": {
        "typical": [
            "TI2V-5B: `model` wan2.2_ti2v_5B_fp16.safetensors, `model_2` (none), `vae` wan2.2_vae.safetensors, "
            "`text_encoder` umt5_xxl_fp16.safetensors.",
            "I2V-A14B: `model` the high-noise expert, `model_2` the low-noise one, `vae` wan_2.1_vae.safetensors.",
            "`dtype` bf16; `offload` model on 24 GB (one A14B expert on the GPU at a time).",
        ],
        "errors": [
            ("`… is a Wan text-to-video transformer …`", "use TI2V-5B or the I2V-A14B experts"),
            ("`… is one expert of Wan 2.2 I2V-A14B, which needs both …`", "choose the low-noise expert as `model_2`"),
            ("`… latent channels), but … needs the Wan … VAE …`", "TI2V-5B: wan2.2_vae; A14B: wan_2.1_vae"),
            ("`No umT5 tokenizer found …`", "put the tokenizer files in `models/text_encoders/umt5_tokenizer/`"),
            ("`… a Wan VACE model (video editing/control)…, not an image-to-video model …`",
             "VACE / Fun models need other inputs; use TI2V-5B or I2V-A14B"),
        ],
        "docs": [("docs/wan.md#where-the-files-go", "wan.md: where the files go"),
                 ("docs/wan.md#troubleshooting", "wan.md: troubleshooting")],
    },
    "MotionComicWanOptions": {
        "typical": [
            "`resolution` default (TI2V-5B 720p area, A14B 480p), `scheduler` UniPC, `flow_shift` 0 (= 5.0).",
            "A14B: `cfg_2` 0 (= cfg; official 3.5/3.5), `boundary_ratio` 0 (= 0.9).",
        ],
        "errors": [
            ("`boundary_ratio … must be between 0 and 1`", "use 0.9 (official) or leave 0"),
        ],
        "docs": [("docs/wan.md#settings-that-matter", "wan.md: settings that matter")],
    },
    "MotionComicOpenSoraOptions": {
        "typical": [
            "`resolution` 480p (~30 GB GPU for 4 s; 360p for less), `cond_frames` first.",
            "`aesthetic_score` 6.5, `motion_score` 0 (off) or 2–6 for more motion, `fps` 24.",
            "Keep `clean_caption` on and write the prompt in English (CJK is removed).",
        ],
        "errors": [
            ("`resolution '…' is unknown; choose one of …`", "pick one of the listed buckets"),
            ("`the image is WxH pixels, smaller than the smallest Open-Sora bucket …` (Image to Video)",
             "upscale the image"),
            ("`caption had N tokens, Open-Sora reads 300: trimmed …` (report)", "shorten the prompt or use Expand Prompt"),
        ],
        "docs": [("docs/opensora.md#open-sora-options-motioncomic--options-of-image-to-video", "opensora.md: options")],
    },
    "MotionComicLoadInterpolator": {
        "typical": [
            "`optical flow (no weights)` everywhere; RIFE (`rife49.pth`, a 4.25/4.26 `flownet.pkl`) on a GPU; "
            "SGM-VFI `ours-1-2-points.pkl` for large motion on a GPU.",
            "`dtype` auto (fp16 on CUDA), `device` auto.",
        ],
        "errors": [
            ("`… is not an SGM-VFI checkpoint: it looks like …` naming GMFlow", "you chose the helper file: select `ours-1-2-points.pkl`; keep the "
             "GMFlow file beside it"),
            ("`… is not an SGM-VFI checkpoint: it looks like …`", "another network's file: download the SGM-VFI release"),
            ("`… does not contain the GMFlow feature network, and … was not found`", "put `gmflow_sintel-0c07dcb3.pth` in `models/vfi/` beside the SGM-VFI file"),
            ("`… is a RIFE network of an unknown version: …` / `… is RIFE 4.5 or older`", "use a RIFE 4.6+ file; the "
             "message lists the known layouts and what the file has"),
            ("`… is neither a RIFE nor an SGM-VFI checkpoint: it looks like …`", "another network's file in models/vfi/"),
            ("`… lacks N tensors …` / `… is truncated`", "incomplete download: download again"),
            ("`dtype must be one of …` / `device must be one of …`", "an API prompt sent an unknown value"),
        ],
        "docs": [("docs/interpolation.md#methods", "interpolation.md: methods"),
                 ("docs/sgm_vfi.md#files-to-put-in-modelsvfi", "sgm_vfi.md: files"),
                 ("docs/sgm_vfi.md#troubleshooting", "sgm_vfi.md: troubleshooting")],
    },
    "MotionComicInterpolate": {
        "typical": [
            "`multiplier` 2 (8 → 16 fps) or 3 (8 → 24 fps); or `target_fps` 24 from CogVideoX 1.0's 8 fps.",
            "`scene_cut_threshold` 0.4 (0 = off). Connect `fps` from the sampler or Load Video.",
            "Or connect a core VIDEO to `video` (its frame rate is used, its audio passes to the `video` output "
            "unchanged: the duration stays the same).",
        ],
        "errors": [
            ("`interpolation needs at least 2 frames, got 1`", "give a clip, not a single image"),
            ("`frames of different sizes …`", "resize or crop the frames to one size first"),
            ("`… the video has no frames`", "the VIDEO decoded to nothing: check the file / upstream node"),
            ("`… connect either 'images' or 'video', not both`", "connect exactly one clip input"),
            ("`… frames differ in size (frame 0 is WxH, frame N is WxH)`", "resize the frames to one size first"),
            ("`target fps … must be above the input fps`", "interpolation only adds frames; 0 uses the multiplier"),
            ("`interpolator must come from Load Interpolator`", "connect Load Interpolator's output"),
            ("`scene_cut_threshold must be in 0..1 …`", "an API prompt sent a value out of range"),
            ("`out of memory running SGM-VFI on WxH frames`", "fp16 on GPU, smaller frames, or optical flow"),
            ("`cancelled by the user`", "you pressed cancel; the partial result is discarded"),
        ],
        "docs": [("docs/interpolation.md#errors", "interpolation.md: errors")],
    },
    "MotionComicLoadVideo": {
        "typical": [
            "`frame_load_cap` 0 (all) for short clips; cap long ones (W·H·12 bytes of RAM per frame).",
            "`select_every_nth` 1; 2 halves the frames and the fps output.",
        ],
        "errors": [],  # folded in from docs/nodes/load_video.md
        "docs": [],
    },
    "MotionComicSaveVideo": {
        "typical": [
            "`format` mp4, `crf` 19 (17–23; webm 20–32), `quality` 90 for webp.",
            "`fps` connected from upstream: 8 (CogVideoX 1.0), 16 (1.5), 24 (ST-DiT or after interpolation).",
        ],
        "errors": [],  # folded in from docs/nodes/save_video.md
        "docs": [],
    },
    "MotionComicLoadDWPose": {
        "typical": [
            "`detector` yolox_l.onnx, `pose_model` dw-ll_ucoco_384.onnx (both from huggingface.co/yzd-v/DWPose), "
            "`device` auto.",
        ],
        "errors": [
            ("`model 'yolox_l.onnx' not found in …`", "download both files into `models/dwpose/`"),
            ("`… is not a readable ONNX model … download it again`", "truncated file or an HTML error page"),
            ("`… is not a YOLOX person detector …` / `… looks like a detector …`", "the two files are swapped"),
            ("`… predicts 17 keypoints, not the 133 whole-body points …`", "use dw-ll_ucoco_384.onnx"),
        ],
        "docs": [("docs/pose.md#files-to-download", "pose.md: files")],
    },
    "MotionComicExtractPoses": {
        "typical": [
            "`mode` track with `detect_every` 8 (4 for fast dancing or several people: every_frame).",
            "Connect `fps` from Load Video. `style` mimicmotion for MimicMotion, dwpose for a pose ControlNet.",
        ],
        "errors": [
            ("warning `no person in N of N driving frames (…)`", "those frames repeat the previous pose"),
            ("`no person found in any of the N driving frames …`", "use a clip where the dancer is visible"),
            ("`frame N is WxH, frame 0 …`", "a driving clip must keep one size"),
        ],
        "docs": [("docs/pose.md#extraction", "pose.md: extraction")],
    },
    "MotionComicRetargetPoses": {
        "typical": [
            "`method` skeleton (the character's proportions); global to compare with MimicMotion's own fit.",
            "`smoothing` on; `fill_missing` reference (upper-body clips keep the character's legs).",
        ],
        "errors": [
            ("warning `no person found in the WxH reference image`", "use a reference showing the body; the "
             "driving poses are only letterboxed into its frame"),
            ("`the global fit needs a person in the reference image …`", "global needs a detected reference; "
             "it falls back to letterboxing"),
        ],
        "docs": [("docs/pose.md#retargeting", "pose.md: retargeting"),
                 ("docs/pose.md#bad-input", "pose.md: bad input")],
    },
}
