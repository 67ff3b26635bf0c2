"""The local transformers path with a tiny random chat LM built in the test (output is gibberish:
we check that the path runs, the reply is cleaned and budgeted, and the status says local)."""
from __future__ import annotations

import gc

import pytest

import tiny_prompts as tp
from motioncomic import host
from motioncomic.loaders.video_model import FrameCounts, FrameSpec, VideoModel
from motioncomic.prompts.cache import PromptCache
from motioncomic.prompts.expand import LLMSettings, expand_prompt
from motioncomic.prompts.local_llm import list_local_models

LOCAL = LLMSettings(backend="local", model="tiny", max_tokens=60, temperature=0.7, seed=3, device="cpu")


@pytest.fixture(scope="module")
def llm_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    tp.build_tiny_chat_lm(d)
    tp.build_tiny_chat_lm(d, "tiny-nosystem", chat_template=tp.NO_SYSTEM_TEMPLATE)
    host.set_models_dir(d)
    yield d
    host.set_models_dir(None)


def test_local_model_runs_cleans_and_budgets(llm_models):
    assert list_local_models() == ["tiny", "tiny-nosystem"]
    tok = tp.build_t5_tokenizer()
    r = expand_prompt("她挥手", settings=LOCAL, tokenizer=tok, limit=40, cache=PromptCache())
    assert r.source == "local" and r.status.startswith("local: expanded by tiny")
    assert r.prompt and r.prompt[0].isupper() and "<|" not in r.prompt
    assert r.report.measured and len(tok(r.prompt)["input_ids"]) <= 40
    # fixed seed and temperature: the same words again (cache bypassed)
    again = expand_prompt("她挥手", settings=LOCAL, tokenizer=tok, limit=40, cache=PromptCache())
    assert again.prompt == r.prompt
    greedy = expand_prompt("她挥手", settings=LLMSettings(backend="local", model="tiny", max_tokens=30,
                                                         temperature=0.0), cache=PromptCache())
    assert greedy.source == "local"


def test_template_without_system_role(llm_models):
    from dataclasses import replace

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(llm_models / "LLM" / "tiny-nosystem"))
    with pytest.raises(Exception, match="System role not supported"):
        tok.apply_chat_template([{"role": "system", "content": "x"}, {"role": "user", "content": "y"}])
    r = expand_prompt("she waves", settings=replace(LOCAL, model="tiny-nosystem"), cache=PromptCache())
    assert r.source == "local", r.status


def test_local_model_is_unloaded_after_use(llm_models):
    from transformers import LlamaForCausalLM

    expand_prompt("she waves", settings=LOCAL, cache=PromptCache())
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is LlamaForCausalLM]


def test_cancel_interrupts_local_generation(llm_models):
    from motioncomic.errors import Cancelled

    host.request_cancel()
    try:
        with pytest.raises(Cancelled):
            expand_prompt("she waves", settings=LOCAL, cache=PromptCache())
    finally:
        host.clear_cancel()


def test_missing_local_model_falls_back_naming_the_folder(llm_models):
    r = expand_prompt("她挥手", settings=LLMSettings(backend="local", model="Qwen2.5-1.5B-Instruct"),
                      cache=PromptCache())
    assert r.source == "fallback" and "LLM" in r.status and "Qwen2.5-1.5B-Instruct" in r.status
    assert "She waves." in r.prompt
    r = expand_prompt("she waves", settings=LLMSettings(backend="local", model=""), cache=PromptCache())
    assert r.source == "fallback" and "model' input is empty" in r.status


def test_node_local_backend_with_video_model_tokenizer(llm_models, monkeypatch):
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicExpandPrompt = _NODES["MotionComicExpandPrompt"]

    monkeypatch.setattr("motioncomic.prompts.cache._default", PromptCache())
    tok = tp.build_t5_tokenizer()
    vm = VideoModel(family="opensora", variant="stdit3", components={"tokenizer": tok}, dtype=None,
                    device="cpu", frame=FrameSpec("fixed", ((16, 16),)),
                    frame_counts=FrameCounts(17, 0, 17, 408, 51), text_tokens=300, fps=24.0)
    prompt, status = MotionComicExpandPrompt().expand(
        "she waves", "cogvideox", "wave", "static", "anime", "local", "", "tiny", "", 10.0, 3, 0.7,
        video_model=vm, device="cpu")
    assert status.startswith("local:") and "opensora" in status and "T5 tokens" in status
    assert "aesthetic score" not in prompt  # the sampler appends the suffixes; room is kept
    assert len(tok(prompt)["input_ids"]) <= 300
