"""Token budgets: counted with real (tiny, offline-built) T5 tokenizers, trimmed on sentences."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tiny_prompts as tp
from motioncomic.errors import MotionComicError
from motioncomic.prompts.budget import (
    FAMILY_BUDGETS, count_tokens, estimate_tokens, fit_to_budget, opensora_suffix, split_sentences,
)


@pytest.fixture(scope="module")
def tok():
    return tp.build_t5_tokenizer()


@pytest.fixture(scope="module")
def spm_tok(tmp_path_factory):
    """The sentencepiece-trained T5 tokenizer of the CogVideoX test models (real spiece.model)."""
    import tiny_cogvideox

    folder = tiny_cogvideox.write_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer")
    return tiny_cogvideox.load_tokenizer(folder)


def test_count_includes_eos_and_matches_tokenizer(tok):
    ids = tok("a girl waves")["input_ids"]
    assert ids[-1] == tok.eos_token_id
    assert count_tokens("a girl waves", tok) == len(ids) == 4


@pytest.mark.parametrize("family", list(FAMILY_BUDGETS))
def test_long_caption_trimmed_on_sentence_boundaries(tok, family):
    out, report = fit_to_budget(tp.LONG, family, tok)
    limit = FAMILY_BUDGETS[family]
    assert len(tok(out)["input_ids"]) <= limit
    assert report.measured and report.trimmed and report.dropped_sentences > 0
    assert report.tokens_before == len(tok(tp.LONG)["input_ids"]) > limit
    kept = split_sentences(out)
    source = split_sentences(tp.LONG)
    assert kept == source[: len(kept)]  # whole sentences, in order, from the start
    # one more sentence would not have fitted: the trim is as tight as sentence boundaries allow
    assert len(tok(" ".join(source[: len(kept) + 1]))["input_ids"]) > limit
    assert str(limit) in report.summary() and "trimmed" in report.summary()


def test_short_prompt_unchanged_and_idempotent(tok):
    out, report = fit_to_budget("  " + tp.CAPTION + "\n", "cogvideox", tok)
    assert out == tp.CAPTION and not report.trimmed
    again, _ = fit_to_budget(fit_to_budget(tp.LONG, "cogvideox", tok)[0], "cogvideox", tok)
    assert again == fit_to_budget(tp.LONG, "cogvideox", tok)[0]


def test_opensora_budget_includes_score_suffixes(tok):
    suffix = opensora_suffix(6.5, motion_score=4.0, camera_motion="static")
    assert suffix == " aesthetic score: 6.5. motion score: 4.0. camera motion: static."
    out, report = fit_to_budget(tp.LONG, "opensora", tok, suffix=suffix)
    assert out.endswith(suffix.strip())
    assert len(tok(out)["input_ids"]) <= 300 and report.trimmed
    # suffixes already in the text are replaced, not duplicated (samplers may call it again)
    twice, _ = fit_to_budget(out, "opensora", tok, suffix=suffix)
    assert twice == out and twice.count("aesthetic score") == 1


def test_single_overlong_sentence_cut_at_words(tok):
    text = "a girl waves " * 200  # no sentence boundary at all
    out, report = fit_to_budget(text, "cogvideox", tok)
    assert out.endswith(".") and report.cut_words
    n = len(tok(out)["input_ids"])
    assert 200 < n <= 226


def test_limit_override_and_impossible_suffix(tok):
    out, report = fit_to_budget(tp.CAPTION, "cogvideox", tok, limit=40)
    assert len(tok(out)["input_ids"]) <= 40 and report.limit == 40
    with pytest.raises(MotionComicError, match="budget"):
        fit_to_budget(tp.CAPTION, "opensora", tok, suffix=opensora_suffix(6.5, 4.0, "pan left"), limit=5)
    with pytest.raises(MotionComicError, match="cogvideox"):
        fit_to_budget("x", "sd15")


def test_sentencepiece_tokenizer_budget(spm_tok):
    """The real sentencepiece model (tiny_cogvideox) splits English into many pieces."""
    out, report = fit_to_budget(tp.CAPTION * 3, "cogvideox-1.5", spm_tok)
    assert len(spm_tok(out)["input_ids"]) <= 224 and report.measured
    assert report.tokens_before > 224


def test_estimate_is_reported_and_conservative():
    out, report = fit_to_budget(tp.LONG, "cogvideox", None)
    assert not report.measured and "estimated" in report.summary()
    assert estimate_tokens(out) <= 226
    # estimate >= 1 token per word + EOS, and counts CJK characters one by one
    assert estimate_tokens(tp.CAPTION) >= len(tp.CAPTION.split()) + 1
    assert estimate_tokens("她挥手") == 4


_TOK: list = []


def _shared_tokenizer():
    """One tokenizer for all hypothesis examples (fixtures cannot be used with @given)."""
    if not _TOK:
        _TOK.append(tp.build_t5_tokenizer())
    return _TOK[0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.sampled_from(tp.WORDS + ["zebra", "xylophone", "42"]), min_size=1, max_size=40),
                min_size=1, max_size=30),
       st.sampled_from(list(FAMILY_BUDGETS)), st.integers(20, 300))
def test_fit_property(sentences, family, limit):
    tok = _shared_tokenizer()
    text = " ".join(" ".join(s) + "." for s in sentences)
    out, report = fit_to_budget(text, family, tok, limit=limit)
    assert len(tok(out)["input_ids"]) <= limit
    assert report.tokens_after == len(tok(out)["input_ids"])
    if not report.cut_words:
        assert text.startswith(out)



def test_node_counts_with_the_video_models_tokenizer(spm_tok):
    """Connected to a CogVideoX-1.5 video model, the node takes its family and budget and measures
    with its T5 tokenizer (the real loaders keep it as ``components["tokenizer"]``)."""
    from motioncomic.loaders.video_model import FrameCounts, FrameSpec, VideoModel
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as _NODES

    MotionComicExpandPrompt = _NODES["MotionComicExpandPrompt"]

    vm = VideoModel(family="cogvideox", variant="1.5-i2v", components={"tokenizer": spm_tok}, dtype=None,
                    device="cpu", frame=FrameSpec("aspect_range", short=768, long_max=1360),
                    frame_counts=FrameCounts(16, 1, 17, 161, 81), text_tokens=224, fps=16.0)
    prompt, status = MotionComicExpandPrompt().expand(
        "她挥手", "opensora", "wave", "static", "anime", "rules", "", "", "", 5.0, 0, 0.1, video_model=vm)
    assert status.startswith("rules:") and "cogvideox-1.5: " in status and "/224 T5 tokens" in status
    assert 0 < len(spm_tok(prompt)["input_ids"]) <= 224
    assert "aesthetic score" not in prompt
