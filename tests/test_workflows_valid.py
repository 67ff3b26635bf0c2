"""Every shipped workflow (UI and API format) matches the node definitions it uses.

Our nodes come from the pack itself; ComfyUI core nodes from ``tests/data/comfyui/core_nodes.json``
(a trimmed ``/object_info`` of a real ComfyUI; the real-ComfyUI suite re-checks against the live
server and fails when that file is stale). The validator itself is tested on broken copies.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from workflow_check import all_definitions, check_api, check_file, check_ui

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = sorted((ROOT / "workflows").glob("*.json"))
API_FILES = sorted((ROOT / "workflows" / "api").glob("*.json"))


@pytest.fixture(scope="module")
def defs():
    return all_definitions()


def test_there_are_workflows_in_both_formats():
    assert UI_FILES and API_FILES
    # every API workflow has its drag-and-drop twin
    assert {p.name for p in API_FILES} <= {p.name for p in UI_FILES}


@pytest.mark.parametrize("path", UI_FILES + API_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_is_valid(path, defs):
    problems = check_file(path, defs)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_ui_workflow_uses_same_node_types_as_api_twin(path):
    twin = ROOT / "workflows" / "api" / path.name
    if not twin.exists():
        pytest.skip("no API twin")
    ui = json.loads(path.read_text())
    api = json.loads(twin.read_text())
    ui_types = sorted(n["type"] for n in ui["nodes"] if n["type"] not in ("Note", "MarkdownNote", "Reroute", "PrimitiveNode")
                      and n.get("mode", 0) != 4)
    assert ui_types == sorted(n["class_type"] for n in api.values())


API = {
    "1": {"class_type": "MotionComicLoadVideo", "inputs": {"video": "a.mp4", "frame_load_cap": 0,
                                                           "skip_first_frames": 0, "select_every_nth": 1}},
    "2": {"class_type": "MotionComicSaveVideo", "inputs": {"images": ["1", 0], "fps": ["1", 1],
                                                           "filename_prefix": "x", "format": "gif", "crf": 19,
                                                           "quality": 90, "save_output": True}},
}


def test_validator_catches_broken_api_graphs(defs):
    assert check_api(API, defs) == []
    cases = {
        "unknown node type": lambda g: g["1"].update(class_type="NoSuchNode"),
        "no input named 'fsp'": lambda g: g["2"]["inputs"].update(fsp=g["2"]["inputs"].pop("fps")),
        "required input 'crf' missing": lambda g: g["2"]["inputs"].pop("crf"),
        "linked to MotionComicLoadVideo output 2 of type INT": lambda g: g["2"]["inputs"].update(images=["1", 2]),
        "which has 3 outputs": lambda g: g["2"]["inputs"].update(images=["1", 7]),
        "links to missing node 9": lambda g: g["2"]["inputs"].update(images=["9", 0]),
        "'mkv' is not one of": lambda g: g["2"]["inputs"].update(format="mkv"),
        "above the maximum 100": lambda g: g["2"]["inputs"].update(quality=101),
        "is not a BOOLEAN": lambda g: g["2"]["inputs"].update(save_output="yes"),
        "no output node": lambda g: g.pop("2"),
    }
    for expect, mutate in cases.items():
        g = copy.deepcopy(API)
        mutate(g)
        problems = check_api(g, defs)
        assert any(expect in p for p in problems), (expect, problems)


def test_validator_catches_broken_ui_graphs(defs):
    ui = json.loads((ROOT / "workflows" / "motioncomic_convert_clip.json").read_text())
    assert check_ui(ui, defs) == []
    cases = {
        "extra widgets_values": lambda w: w["nodes"][1]["widgets_values"].insert(0, 1.0),
        "'webm8' is not one of": lambda w: w["nodes"][1]["widgets_values"].__setitem__(2, "webm8"),
        "not the link of input 0 of node 2": lambda w: w["nodes"][1]["inputs"][0].update(link=None),
        "uses missing link 99": lambda w: w["nodes"][1]["inputs"][1].update(link=99),
        "images (IMAGE) linked from MotionComicLoadVideo output of type INT":
            lambda w: (w["links"][0].__setitem__(2, 2), w["nodes"][0]["outputs"][2].update(links=[1]),
                       w["nodes"][0]["outputs"][0].update(links=[])),
        "unknown node type": lambda w: w["nodes"][0].update(type="VHS_LoadVideo"),
    }
    for expect, mutate in cases.items():
        w = copy.deepcopy(ui)
        mutate(w)
        problems = check_ui(w, defs)
        assert any(expect in p for p in problems), (expect, problems)


def test_core_definitions_cover_the_nodes_workflows_may_use(defs):
    for core in ("LoadImage", "SaveVideo", "CreateVideo", "LoadVideo", "PreviewImage", "SaveAnimatedWEBP"):
        assert core in defs
    assert defs["CreateVideo"]["output"] == ["VIDEO"]
