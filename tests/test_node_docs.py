"""The per-node help pages (web/docs/<NodeId>.md, served to ComfyUI's node help panel) are complete
and current: one per node, equal to what tests/node_docs.py generates, mentioning every input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import node_docs
from motioncomic import NODE_CLASS_MAPPINGS, host
from pack_files import pack_files

STALE = "run python tests/node_docs.py"


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return node_docs.pages()


def test_every_node_has_a_page(generated):
    missing = [n for n in NODE_CLASS_MAPPINGS if not (node_docs.WEB_DOCS / f"{n}.md").is_file()]
    assert not missing, f"no help page for {missing}: {STALE}"
    extra = sorted(p.stem for p in node_docs.WEB_DOCS.glob("*.md") if p.stem not in NODE_CLASS_MAPPINGS)
    assert not extra, f"pages for nodes that no longer exist: {extra}: {STALE}"
    index = generated[node_docs.INDEX]
    for n in NODE_CLASS_MAPPINGS:
        assert f"(../../web/docs/{n}.md)" in index


def test_committed_pages_equal_the_generator(generated):
    stale = [str(p.relative_to(node_docs.ROOT)) for p, text in generated.items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}: {STALE}"


def test_every_input_appears_in_its_page(generated):
    for node_id, cls in NODE_CLASS_MAPPINGS.items():
        page = generated[node_docs.WEB_DOCS / f"{node_id}.md"]
        with node_docs.empty_folders():
            types = cls.INPUT_TYPES()
        names = [n for group in ("required", "optional") for n in (types.get(group) or {})]
        assert names, node_id
        for name in names:
            assert re.search(rf"^\| `{re.escape(name)}`( \(optional\))? \|", page, re.M), (node_id, name)
        for out in getattr(cls, "RETURN_NAMES", None) or cls.RETURN_TYPES:
            assert f"| `{out}` |" in page, (node_id, out)


def test_every_node_has_hand_written_notes():
    """Typical values and errors are written for every node (the generator leaves a placeholder)."""
    for node_id in NODE_CLASS_MAPPINGS:
        notes = node_docs.NOTES.get(node_id)
        assert notes and notes["typical"], f"{node_id}: add typical values to tests/node_docs_notes.py"
        assert notes["errors"] or node_id in node_docs.FOLD, f"{node_id}: add its errors to tests/node_docs_notes.py"
    assert set(node_docs.NOTES) <= set(NODE_CLASS_MAPPINGS), "notes for nodes that do not exist"


def _fill(models: Path, inputs: Path) -> None:
    """One file of every kind in every model folder (and a video in input/)."""
    for kind in host.MODEL_FOLDERS:
        d = models / kind
        (d / "probe_dir").mkdir(parents=True)
        for name in ("probe_dir/config.json", "probe_dir/model.safetensors.index.json", "probe_dir/ema.pt",
                     "probe_t5.safetensors", "probe_scrfd.onnx", "probe.onnx", "probe.xml", "probe.pkl", "probe.pth"):
            (d / name).write_bytes(b"")
        (d / "probe_dir" / "model_index.json").write_text('{"_class_name": "StableVideoDiffusionPipeline"}')
    (inputs / "probe.mp4").write_bytes(b"")


def test_file_dependent_choices_are_declared(tmp_path, monkeypatch):
    """A combo whose entries change with the files on disk must say where they come from (FILE_SOURCES);
    its entries are not listed in the page, which must not depend on the generating machine."""
    with node_docs.empty_folders():
        empty = {n: c.INPUT_TYPES() for n, c in NODE_CLASS_MAPPINGS.items()}
    models, inputs = tmp_path / "models", tmp_path / "input"
    inputs.mkdir()
    _fill(models, inputs)
    monkeypatch.setenv("MOTIONCOMIC_INPUT_DIR", str(inputs))
    old = host.configured_models_dir()
    host.set_models_dir(models)
    try:
        full = {n: c.INPUT_TYPES() for n, c in NODE_CLASS_MAPPINGS.items()}
    finally:
        host.set_models_dir(old)
    changed = set()
    for node_id, types in full.items():
        for group in ("required", "optional"):
            for name, spec in (types.get(group) or {}).items():
                if isinstance(spec[0], (list, tuple)) and list(spec[0]) != list(empty[node_id][group][name][0]):
                    changed.add((node_id, name))
    assert changed, "the probe files changed no combo: the probe is broken"
    undeclared = changed - set(node_docs.FILE_SOURCES)
    assert not undeclared, f"file-dependent combos without a FILE_SOURCES entry in tests/node_docs_notes.py: {undeclared}"
    stale = set(node_docs.FILE_SOURCES) - changed
    assert not stale, f"FILE_SOURCES entries whose choices do not come from files: {stale}"


#: In NOTES a message is the text between backticks; "…", N, WxH, X, Y, numbers and quoted names
#: stand for the variable parts. The remaining pieces of 10+ characters must be in the pack's code.
_VARIABLE = re.compile(r"…|\b(?:N|WxH|X|Y|\d+(?:x\d+)?)\b|'[^']*'")


def _pack_source() -> str:
    root = node_docs.ROOT
    text = "\n".join(p.read_text(encoding="utf-8") for p in pack_files("*.py")
                     if not {"tests", "benchmarks", "scripts"} & set(p.relative_to(root).parts))
    return re.sub(r"([\"'])\s*\n\s*f?\1", "", text)  # join implicitly concatenated string literals


def test_documented_error_messages_exist_in_the_code():
    """A message reworded in the code must be reworded in its node's page too."""
    source = _pack_source()
    checked, missing = 0, []
    for node_id, notes in node_docs.NOTES.items():
        for message, _fix in notes["errors"]:
            for quoted in re.findall(r"`([^`]+)`", message):
                for piece in _VARIABLE.split(quoted):
                    piece = piece.strip(" .:")
                    if len(piece) >= 10:
                        checked += 1
                        if piece not in source:
                            missing.append((node_id, piece))
    assert checked > 40, checked
    assert not missing, f"documented messages the code no longer raises (tests/node_docs_notes.py): {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def test_linked_area_docs_and_anchors_exist():
    for node_id, notes in node_docs.NOTES.items():
        for target, _title in notes["docs"]:
            path, _, anchor = target.partition("#")
            f = node_docs.ROOT / path
            assert f.is_file(), (node_id, path)
            if anchor:
                slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", f.read_text(encoding="utf-8"), re.M)}
                assert anchor in slugs, (node_id, target)
