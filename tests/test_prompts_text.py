"""Reply cleaning, the rule-based fallback (incl. Chinese input) and input validation."""
from __future__ import annotations

import re

import pytest

import tiny_prompts as tp
from motioncomic.errors import MotionComicError
from motioncomic.prompts import presets
from motioncomic.prompts.cache import PromptCache
from motioncomic.prompts.clean import clean_reply, problem_with
from motioncomic.prompts.expand import LLMSettings, check_api_key_env, expand_prompt
from motioncomic.prompts.fallback import fallback_expand
from motioncomic.prompts.system_prompts import system_prompt, user_request

CJK = re.compile(r"[\u3400-\u9fff]")
RULES = LLMSettings(backend="rules")


@pytest.mark.parametrize("reply", [
    tp.THINK,
    "<think>\nlong reasoning\n</think>" + tp.CAPTION,
    "reasoning whose opening tag was in the template</think>\n" + tp.CAPTION,
    "**Expanded prompt:** " + tp.CAPTION,
    "Here's a detailed prompt for the video:\n\n" + "\u201c" + tp.CAPTION + "\u201d",
    "```\n" + tp.CAPTION + "\n```",
    "Certainly! Prompt: '" + tp.CAPTION + "'\n\nNote: I kept the camera static.",
    "<|im_start|>" + tp.CAPTION + "<|im_end|>",
])
def test_clean_reply_recovers_the_caption(reply):
    assert clean_reply(reply) == tp.CAPTION


def test_clean_reply_edge_cases():
    assert clean_reply("<think>never closed because the token limit hit") == ""
    assert clean_reply("The image shows a girl waving her hand slowly.") == "A girl waving her hand slowly."
    assert clean_reply("# Title\n- she waves\n- her hair sways") == "Title she waves her hair sways"
    assert problem_with("") == "empty reply"
    assert "short" in problem_with("She waves.")
    assert "English" in problem_with(tp.CHINESE)
    assert problem_with(tp.CAPTION) is None


@pytest.mark.parametrize("text, expected", [
    ("她挥手", "She waves."),
    ("她笑着慢慢挥手", "She smiles and waves slowly."),
    ("他生气地摸头", "He looks angry and touches his head."),
    ("女孩害羞地眨眼", "The girl blushes shyly and blinks."),
])
def test_fallback_translates_common_chinese(text, expected):
    caption, notes = fallback_expand(text, "none", "static", "anime")
    assert expected in caption
    assert not CJK.search(caption) and notes == []
    assert "first frame" in caption and "static" in caption and "anime style" in caption


def test_fallback_uses_action_camera_style_and_reports_unknown_words():
    caption, notes = fallback_expand("龙 appears", "wave", "slow zoom in", "manga")
    assert "waves it from side to side" in caption
    assert "zooms in" in caption and "manga style" in caption
    assert "appears" in caption and not CJK.search(caption)
    assert notes == ["untranslated: 龙"]
    only_action, _ = fallback_expand("", "touch head", "static", "none")
    assert "touches the top of their head" in only_action
    english, _ = fallback_expand("waves shyly", "none", "static", "anime")
    assert "The character waves shyly." in english


def test_every_preset_renders():
    for name in presets.ACTIONS:
        caption, _ = fallback_expand("she smiles", name, "static", "anime")
        assert "{" not in caption and len(caption.split()) > 30
    for cam in presets.CAMERAS:
        assert presets.camera(cam).hint in system_prompt("cogvideox", cam, "anime")
    with pytest.raises(MotionComicError, match="wave"):
        presets.action("dance wildly")


def test_system_prompt_says_first_frame_english_no_cuts():
    sp = system_prompt("opensora", "static", "anime")
    for phrase in ("FIRST FRAME", "English", "no scene cuts", "Do not invent camera moves", "90-140 words"):
        assert phrase in sp
    assert "No image" in system_prompt("cogvideox", has_image=False)
    assert user_request("她挥手", "wave") == "Request: 她挥手\nAction: the character waves one hand at the viewer in a friendly greeting."


def test_empty_and_huge_input():
    with pytest.raises(MotionComicError, match="empty"):
        expand_prompt("   ", settings=RULES)
    r = expand_prompt("", action="walk", settings=RULES, cache=PromptCache())
    assert "walks forward" in r.prompt and r.source == "rules"
    huge = "She waves and her hair moves in the wind. " * 500
    r = expand_prompt(huge, settings=RULES, family="cogvideox")
    assert "input cut" in r.status and r.report.tokens_after <= 226
    assert r.report.trimmed


def test_tiny_text_budgets_still_give_a_prompt():
    """Tiny test models read 16 tokens: no room for ST-DiT suffixes, but never an error."""
    for family in ("opensora", "cogvideox"):
        r = expand_prompt("她挥手", family=family, settings=RULES, limit=16)
        assert r.prompt and r.report.tokens_after <= 16 and r.report.trimmed


def test_api_key_never_accepted_in_place_of_its_name():
    assert check_api_key_env(" OPENAI_API_KEY ") == "OPENAI_API_KEY"
    for key in ("sk-proj-abcdefghijklmnop1234", "gsk_abcdefghijklmnopqrstuv12345", "hf_abcDEF123456",
                "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "ghp_abcdefghijKLMNOPQRST0123456789", "xai-abcdefgh12345",
                "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "AKIAIOSFODNN7EXAMPLE",
                "abcdefghijklmnopqrstuvwxyz123456", "my key"):
        with pytest.raises(MotionComicError, match="NAME of an environment variable"):
            expand_prompt("she waves", settings=LLMSettings(api_key_env=key))


@pytest.mark.parametrize("name", ["HF_TOKEN", "GITHUB_TOKEN", "SK_API_KEY", "GSK_API_KEY", "XAI_API_KEY", "hf_token"])
def test_variable_names_that_share_a_key_prefix_are_names(name):
    """Key shapes are matched case-sensitively: HF_TOKEN is the name of Hugging Face's variable, not
    a pasted hf_... token."""
    assert check_api_key_env(name) == name
    r = expand_prompt("she waves", settings=LLMSettings(backend="rules", api_key_env=name))
    assert r.source == "rules"


def test_unknown_backend_and_presets():
    with pytest.raises(MotionComicError, match="backend"):
        expand_prompt("she waves", settings=LLMSettings(backend="grpc"))
    with pytest.raises(MotionComicError, match="camera"):
        expand_prompt("she waves", camera="dolly zoom", settings=RULES)
