"""Prompt expansion for Wan: the Wan system prompt reaches the server, the result is measured with
the loaded model's umT5 tokenizer against its 512-token budget, and a too-long caption is trimmed
to fit that tokenizer's count."""
from __future__ import annotations

import pytest

import tiny_prompts as tp
import tiny_wan as tw
from motioncomic import host
from motioncomic.loaders.wan import load_wan
from motioncomic.prompts.budget import FAMILY_BUDGETS, count_tokens, fit_to_budget
from motioncomic.prompts.cache import PromptCache
from motioncomic.prompts.expand import LLMSettings, expand_prompt, family_of
from motioncomic.prompts.system_prompts import system_prompt


@pytest.fixture(scope="module")
def wan(tmp_path_factory):
    d = tmp_path_factory.mktemp("wanp") / "models"
    tw.install_for_workflows(d)
    host.set_models_dir(d)
    try:
        yield load_wan(tw.WORKFLOW_FILES["model"], vae=tw.WORKFLOW_FILES["vae"],
                       text_encoder=tw.WORKFLOW_FILES["text_encoder"], device="cpu", dtype="fp32")
    finally:
        host.set_models_dir(None)


def test_family_budget_and_tokenizer_come_from_the_model(wan):
    family, limit, tok = family_of(wan)
    assert (family, limit, FAMILY_BUDGETS["wan"]) == ("wan", 512, 512)
    assert tok is wan.components["tokenizer"]
    assert count_tokens("a girl waves", tok) == len(tok("a girl waves").input_ids)  # incl. </s>


def test_wan_system_prompt_and_budget_through_a_real_server(wan):
    family, limit, tok = family_of(wan)
    with tp.ChatServer() as srv:
        r = expand_prompt("她挥手", family=family, action="wave", camera="static",
                          settings=LLMSettings(base_url=srv.base_url, model="normal", backoff=0.05),
                          tokenizer=tok, limit=limit, cache=PromptCache())
        sent = srv.requests[-1]["body"]["messages"][0]["content"]
    assert sent == system_prompt("wan", "static", "anime", has_image=False)
    assert "Wan image-to-video" in sent and "camera in film terms" in sent and "English" in sent
    assert r.source == "llm" and "/512 T5 tokens" in r.status
    assert r.report.measured and r.report.tokens_after == count_tokens(r.prompt, tok)


def test_long_caption_trimmed_to_the_umt5_count(wan):
    tok = wan.components["tokenizer"]
    long = " ".join(f"She raises her hand number {i} and waves slowly." for i in range(120))
    assert count_tokens(long, tok) > 512
    out, report = fit_to_budget(long, "wan", tok)
    assert report.trimmed and count_tokens(out, tok) <= 512 and report.limit == 512
    assert out.endswith(".") and long.startswith(out[:-1])
