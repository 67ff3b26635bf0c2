"""Node: expand a short request (any language) into an English image-to-video caption."""
from __future__ import annotations

import hashlib
import json

from ..prompts import presets
from ..prompts.budget import FAMILY_BUDGETS
from ..prompts.http_client import DEFAULT_BASE_URL
from ._common import VIDEO_MODEL
from ._schema import Boolean, Combo, Custom, Float, Image, Int, Node, Out, String


#: Widget settings whose last run fell back (LLM down): they re-run on the next queue so a server
#: that came back is used. Successful answers are deterministic and stay in ComfyUI's cache.
_FELL_BACK: set[str] = set()


_WIDGETS = ("text", "family", "action", "camera", "style", "backend", "base_url", "model",
            "api_key_env", "timeout", "llm_seed", "temperature", "send_image", "device", "dtype")
_OPTIONAL_DEFAULTS = {"send_image": False, "device": "auto", "dtype": "auto"}


def _settings_key(values: dict) -> str:
    """Hash of the widget values (linked inputs excluded; absent optionals at their defaults)."""
    plain = {k: values.get(k, _OPTIONAL_DEFAULTS.get(k)) for k in _WIDGETS}
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()


def changed(**kwargs):
    # NaN never equals itself: ComfyUI re-runs the node, and the LLM gets another chance.
    return float("nan") if _settings_key(kwargs) in _FELL_BACK else ""


def expand(text, family, action, camera, style, backend, base_url, model, api_key_env, timeout, llm_seed,
           temperature, image=None, video_model=None, send_image=False, device="auto", dtype="auto"):
    from ..prompts.expand import LLMSettings, expand_prompt, family_of

    fam, limit, tokenizer = family_of(video_model, family)
    first = image[0].detach().cpu().numpy() if image is not None else None
    settings = LLMSettings(
        backend=backend, base_url=base_url, model=model.strip(), api_key_env=api_key_env,
        timeout=float(timeout), seed=int(llm_seed), temperature=float(temperature),
        send_image=bool(send_image), device=device, dtype=dtype,
    )
    result = expand_prompt(text, family=fam, action=action, camera=camera, style=style,
                           image=first, settings=settings, tokenizer=tokenizer, limit=limit)
    key = _settings_key(dict(text=text, family=family, action=action, camera=camera, style=style,
                             backend=backend, base_url=base_url, model=model, api_key_env=api_key_env,
                             timeout=timeout, llm_seed=llm_seed, temperature=temperature,
                             send_image=send_image, device=device, dtype=dtype))
    if result.source == "fallback":
        if len(_FELL_BACK) >= 4096:  # a shared server queues many prompts: forget old ones (they re-run at worst)
            _FELL_BACK.clear()
        _FELL_BACK.add(key)
    else:
        _FELL_BACK.discard(key)
    return (result.prompt, result.status)


NODES = [Node(
    "MotionComicExpandPrompt", "Expand Prompt (LLM, anime I2V)",
    "Rewrites a short request (any language, e.g. '她挥手' or 'waves') into the long English caption the video "
    "models were trained on, anchored on the image as the first frame and kept within the model's token budget. "
    "Uses an OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio, hosted) or a local model from "
    "models/LLM/; if that fails it falls back to a rule-based expansion and says so in 'status'. Answers are "
    "cached.",
    expand,
    inputs=[
        String("text", "Short request in any language, e.g. '她挥手' or 'she waves shyly'. May be empty when an "
               "action is chosen.", multiline=True),
        Combo("family", list(FAMILY_BUDGETS), "Target model: sets the token budget (CogVideoX 226, 1.5: 224, ST-DiT "
              "300 incl. score suffixes). Ignored when video_model is connected.", default="cogvideox"),
        Combo("action", list(presets.ACTIONS), "Action preset from the demo set, added to the request.",
              default="none"),
        Combo("camera", list(presets.CAMERAS), "Camera movement; 'static' keeps the framing.", default="static"),
        Combo("style", list(presets.STYLES), "Style words asked for in the caption.", default="anime"),
        Combo("backend", ["openai", "local", "rules"], "openai: any OpenAI-compatible server at base_url (Ollama, "
              "vLLM, llama.cpp, LM Studio, hosted). local: transformers model folder models/LLM/<model>/. rules: no "
              "LLM, rule-based expansion only.", default="openai"),
        String("base_url", "Server URL ending in /v1 (Ollama: http://127.0.0.1:11434/v1, LM Studio: "
               "http://127.0.0.1:1234/v1).", default=DEFAULT_BASE_URL),
        String("model", "Model name on the server (e.g. qwen2.5:7b, a vision model such as qwen2.5vl:7b to use the "
               "image), or the folder name under models/LLM/ for backend 'local'.", default="qwen2.5:7b"),
        String("api_key_env", "NAME of the environment variable holding the API key (e.g. OPENAI_API_KEY). Never the "
               "key itself: it would be saved in the workflow. Empty for local servers. The key goes only to this "
               "machine, its provider's official host, or hosts the server's owner binds to it in "
               "MOTIONCOMIC_KEY_HOSTS."),
        Float("timeout", "Seconds the whole LLM call may take, retries included; then the rule-based fallback is "
              "used.", default=30.0, min=1.0, max=600.0, step=1.0),
        Int("llm_seed", "Seed sent to the LLM for repeatable answers.", default=0, min=0, max=2**31 - 1),
        Float("temperature", "Sampling temperature; low keeps the caption faithful and repeatable.",
              default=0.1, min=0.0, max=2.0, step=0.05),
        Image("image", "Reference image (the first frame). Sent to vision-capable servers when send_image is on; the "
              "first image of a batch is used.", optional=True),
        Custom("video_model", VIDEO_MODEL, "Optional: the loaded video model, to count tokens with its real "
               "tokenizer and take its family.", optional=True),
        Boolean("send_image", "Send the image to the server (needs a vision model; text-only models may reject it "
                "and trigger the fallback).", default=False, optional=True),
        Combo("device", ["auto", "cpu", "cuda", "mps"], "Device for backend 'local'.", default="auto", optional=True),
        Combo("dtype", ["auto", "fp32", "fp16", "bf16"], "Weights dtype for backend 'local' (auto: fp16 on GPU, "
              "fp32 on CPU).", default="auto", optional=True),
    ],
    outputs=[
        Out("STRING", "prompt", "The expanded English prompt for the sampler."),
        Out("STRING", "status", "Which path produced it (llm / local / cache / rules / fallback) and the token "
            "count."),
    ],
    fingerprint=changed,
)]
