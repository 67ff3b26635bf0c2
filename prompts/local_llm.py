"""Local transformers causal LM from ``models/LLM/<name>/`` (loaded per call, unloaded after).

The folder is a standard transformers model folder (``config.json``, safetensors weights, a
tokenizer with a chat template). No remote code is trusted. Generation is greedy when the
temperature is ~0, else sampled with a fixed seed, so output is repeatable either way.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .. import host
from .http_client import LLMError

log = logging.getLogger(__name__)

HINT = (
    "Put a transformers chat model folder (config.json, *.safetensors, tokenizer files with a chat "
    "template, e.g. Qwen2.5-1.5B-Instruct) into models/LLM/<name>/."
)


def list_local_models() -> list[str]:
    """Folder names under ``models/LLM/`` that look like transformers models."""
    return host.list_dirs("LLM", marker="config.json")


def _dtype(name: str, device):
    import torch

    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[name]


def _cancel_criteria():
    """A stopping criterion that checks ComfyUI's interrupt (raises) after every new token."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            host.check_cancel()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Cancel()])


def _apply_template(tok, messages: list[dict]):
    """Chat-template the messages; templates without a system role (Gemma, Mistral v1) get the
    system prompt folded into the first user message."""
    kwargs = dict(add_generation_prompt=True, return_tensors="pt", return_dict=True)
    try:
        return tok.apply_chat_template(messages, **kwargs)
    except Exception as exc:  # jinja TemplateError raised by the template itself
        if not messages or messages[0]["role"] != "system":
            raise
        log.info("chat template refused the system role (%s); folding it into the user turn", exc)
        system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
        rest[0]["content"] = system + "\n\n" + rest[0]["content"]
        return tok.apply_chat_template(rest, **kwargs)


def generate_local(
    name: str,
    messages: list[dict],
    *,
    max_new_tokens: int = 300,
    temperature: float = 0.1,
    top_p: float = 0.7,
    seed: int = 0,
    device: str = "auto",
    dtype: str = "auto",
) -> str:
    """Run the chat model ``models/LLM/<name>/`` on ``messages``; return the new text.

    Raises :class:`LLMError` (so the caller falls back) on any failure, including a missing folder.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        path = host.find_model("LLM", name, HINT)
    except Exception as exc:
        raise LLMError(str(exc), retryable=False) from None
    dev = host.torch_device() if device == "auto" else torch.device(device)
    if dev.type != "cpu":  # let ComfyUI unload its own models first if it needs the room
        weights = sum(f.stat().st_size for f in Path(path).glob("*.safetensors"))
        host.free_memory(int(weights * 1.2), dev)
    model = None
    try:
        tok = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
        if not getattr(tok, "chat_template", None):
            raise LLMError(f"{Path(path).name}: the tokenizer has no chat template", retryable=False)
        text_messages = [
            {"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else
             " ".join(p.get("text", "") for p in m["content"] if p.get("type") == "text")}
            for m in messages
        ]
        enc = _apply_template(tok, text_messages)
        model = AutoModelForCausalLM.from_pretrained(
            str(path), dtype=_dtype(dtype, dev), trust_remote_code=False
        ).to(dev)
        model.eval()
        inputs = {k: v.to(dev) for k, v in enc.items()}
        torch.manual_seed(int(seed))
        sample = temperature > 1e-3
        kwargs = dict(max_new_tokens=int(max_new_tokens), do_sample=sample)
        if sample:
            kwargs.update(temperature=float(temperature), top_p=float(top_p))
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with torch.inference_mode():
            out = model.generate(**inputs, pad_token_id=pad, stopping_criteria=_cancel_criteria(), **kwargs)
        new = out[0, inputs["input_ids"].shape[1]:]
        return tok.decode(new, skip_special_tokens=True)
    except LLMError:
        raise
    except Exception as exc:  # any load/generate failure -> fallback, with the reason
        if isinstance(exc, host.cancel_exceptions()):
            raise
        raise LLMError(f"local model {name!r} failed: {type(exc).__name__}: {exc}", retryable=False) from None
    finally:
        del model
        host.soft_empty_cache()
