"""Opt-in: our nodes under the real ``comfy_api`` of ``$COMFYUI_DIR``.

The default suite runs without ComfyUI and so exercises the legacy (V1) rendering of every node
declaration (``nodes/_schema.py``). Here the same declarations go through the real schema: the pack
is imported by ``$COMFYUI_PYTHON`` with the ComfyUI checkout on the path (registration must go
through ``comfy_entrypoint`` only), and the live server's ``/object_info`` must describe every node
exactly as the legacy rendering does (same ids, input names, widget order, defaults, ranges,
tooltips, outputs), so workflows saved with either load in both.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not os.environ.get("COMFYUI_DIR"), reason="COMFYUI_DIR not set (opt-in real-ComfyUI suite)"),
]

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import asyncio, importlib.util, inspect, json, sys
comfy_dir, pack = sys.argv[1], sys.argv[2]
sys.argv = [sys.argv[0], "--cpu"]
sys.path.insert(0, comfy_dir)
import comfy.options
comfy.options.enable_args_parsing()
try:
    from comfy_api.latest import io as _io
    schema = hasattr(_io, "ComfyNode")
except Exception:  # no comfy_api.latest (before 0.3.48), or 0.3.48-0.3.49 without torchaudio
    schema = False
spec = importlib.util.spec_from_file_location("motioncomic", pack + "/__init__.py", submodule_search_locations=[pack])
m = importlib.util.module_from_spec(spec); sys.modules["motioncomic"] = m; spec.loader.exec_module(m)
out = {"mappings": hasattr(m, "NODE_CLASS_MAPPINGS"), "entrypoint": hasattr(m, "comfy_entrypoint"), "nodes": {},
       "schema": schema}
if out["entrypoint"]:
    from comfy_api.internal import first_real_override
    from comfy_api.latest import ComfyExtension, io
    ext = asyncio.run(m.comfy_entrypoint())
    out["extension"] = isinstance(ext, ComfyExtension)
    for cls in asyncio.run(ext.get_node_list()):
        schema = cls.GET_SCHEMA()
        hooks = {}
        for name in ("validate_inputs", "fingerprint_inputs"):
            f = first_real_override(cls, name)
            hooks[name] = inspect.getfullargspec(f).args if f is not None else None
        out["nodes"][schema.node_id] = {"v3": issubclass(cls, io.ComfyNode), "hooks": hooks}
    # one node executed the way ComfyUI executes a schema node (class clone, NodeOutput)
    opts = next(c for c in asyncio.run(ext.get_node_list()) if c.GET_SCHEMA().node_id == "MotionComicOpenSoraOptions")
    clone = opts.PREPARE_CLASS_CLONE({})
    res = clone.EXECUTE_NORMALIZED(resolution="240p", cond_frames="loop", aesthetic_score=0.0, motion_score=3.0,
                                   camera_motion="none", fps=24.0, clean_caption=True)
    out["executed"] = res.result[0]
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe():
    python = os.environ.get("COMFYUI_PYTHON") or sys.executable
    r = subprocess.run([python, "-c", _PROBE, os.environ["COMFYUI_DIR"], str(ROOT)], capture_output=True, text=True,
                       timeout=300, cwd=os.environ["COMFYUI_DIR"])
    line = [x for x in r.stdout.splitlines() if x.startswith("PROBE")]
    assert line, r.stdout + r.stderr
    return json.loads(line[-1][5:])


def test_registration_path_matches_the_comfyui(probe):
    """comfy_entrypoint where the schema exists (NODE_CLASS_MAPPINGS would shadow it), else V1 mappings."""
    from motioncomic.nodes import SPECS

    if probe["schema"]:
        assert probe["entrypoint"] and probe["extension"] and not probe["mappings"]
        assert sorted(probe["nodes"]) == sorted(SPECS)
        assert all(n["v3"] for n in probe["nodes"].values())
    else:
        assert probe["mappings"] and not probe["entrypoint"]


def test_hooks_keep_their_argument_lists(probe):
    """ComfyUI passes a validate function only the inputs it names, and range-checks the others."""
    if not probe["schema"]:
        pytest.skip("legacy ComfyUI: no schema hooks")
    from motioncomic.nodes import SPECS

    for node_id, spec in SPECS.items():
        hooks = probe["nodes"][node_id]["hooks"]
        assert (hooks["validate_inputs"] is not None) == (spec.validate is not None), node_id
        assert (hooks["fingerprint_inputs"] is not None) == (spec.fingerprint is not None), node_id
    assert probe["nodes"]["MotionComicLoadVideo"]["hooks"]["validate_inputs"] == ["cls", "video"]


def test_schema_node_executes(probe):
    if not probe["schema"]:
        pytest.skip("legacy ComfyUI")
    assert probe["executed"]["cond_frames"] == "loop" and probe["executed"]["motion_score"] == 3.0
    assert probe["executed"]["aesthetic_score"] is None


def _normal(spec):
    """(type, options) of one /object_info input, with the schema's COMBO form folded into V1's list form."""
    t, opts = spec[0], dict(spec[1]) if len(spec) > 1 else {}
    if t == "COMBO":
        t = opts.pop("options")
    opts.pop("multiselect", None)
    if opts.get("multiline") is False:  # the schema writes the default out
        del opts["multiline"]
    return [t, opts]


def test_live_definitions_equal_the_legacy_rendering(object_info):
    """Saved workflows store widget values by position: the live definitions must match V1's exactly."""
    from motioncomic.nodes import NODE_CLASS_MAPPINGS as V1

    from workflow_check import pack_folders

    with pack_folders():
        for node_id, cls in V1.items():
            live = object_info[node_id]
            legacy = json.loads(json.dumps(cls.INPUT_TYPES()))
            assert live["input_order"] == {s: list(v) for s, v in legacy.items()}, node_id
            for sec in ("required", "optional"):
                for name, spec in legacy.get(sec, {}).items():
                    got, want = _normal(live["input"][sec][name]), _normal(spec)
                    if isinstance(want[0], list):  # file lists differ between the server's folders and ours
                        assert isinstance(got[0], list), (node_id, name)
                        got[0] = want[0]
                    assert got == want, (node_id, name)
            assert live["output"] == list(cls.RETURN_TYPES), node_id
            assert live["output_name"] == list(cls.RETURN_NAMES), node_id
            assert live["output_tooltips"] == list(cls.OUTPUT_TOOLTIPS), node_id
            assert live["output_node"] == bool(cls.OUTPUT_NODE), node_id
            assert live["description"] == cls.DESCRIPTION and live["category"] == cls.CATEGORY, node_id


def test_workflow_saved_with_the_legacy_definitions_matches_the_live_server(object_info):
    """A graph saved before the schema move and the VIDEO inputs (tests/data/legacy_workflows)."""
    from workflow_check import check_api, check_ui

    legacy = ROOT / "tests" / "data" / "legacy_workflows"
    assert check_ui(json.loads((legacy / "motioncomic_finish_clip.json").read_text()), object_info) == []
    assert check_api(json.loads((legacy / "motioncomic_finish_clip.api.json").read_text()), object_info) == []


_PREVIEW_PROBE = r"""
import importlib.util, json, sys
comfy_dir, pack, method = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [sys.argv[0], "--cpu", "--preview-method", method, "--preview-size", "300"]
sys.path.insert(0, comfy_dir)
import comfy.options
comfy.options.enable_args_parsing()
import comfy.model_management, folder_paths  # what makes host.in_comfyui() true
spec = importlib.util.spec_from_file_location("motioncomic", pack + "/__init__.py", submodule_search_locations=[pack])
m = importlib.util.module_from_spec(spec); sys.modules["motioncomic"] = m; spec.loader.exec_module(m)
import numpy as np, torch
import latent_preview
from comfy.latent_formats import SDXL
from motioncomic import host
from motioncomic.samplers import preview as P
out = {"settings": list(host.preview_settings()), "previewer": P.previewer_for("opensora") is not None}
fmt = SDXL()
core = latent_preview.Latent2RGBPreviewer(fmt.latent_rgb_factors, fmt.latent_rgb_factors_bias)
x = torch.randn(1, 4, 24, 32, generator=torch.Generator().manual_seed(0)) * 0.8
theirs = np.asarray(core.decode_latent_to_preview(x), np.int16)
ours = P.latent_to_rgb(x[0], np.asarray(fmt.latent_rgb_factors, np.float32), np.asarray(fmt.latent_rgb_factors_bias, np.float32))
out["max_diff"] = int(np.abs(theirs - ours).max())
out["same_format"] = core.decode_latent_to_preview_image("JPEG", x)[0] == "JPEG"
print("PROBE" + json.dumps(out))
"""


@pytest.mark.parametrize("method", ["auto", "none"])
def test_previews_follow_comfyuis_preview_method_and_match_core_latent2rgb(method):
    """Inside ComfyUI, --preview-method decides; our linear map equals core's Latent2RGBPreviewer."""
    python = os.environ.get("COMFYUI_PYTHON") or sys.executable
    r = subprocess.run([python, "-c", _PREVIEW_PROBE, os.environ["COMFYUI_DIR"], str(ROOT), method],
                       capture_output=True, text=True, timeout=300, cwd=os.environ["COMFYUI_DIR"])
    line = [x for x in r.stdout.splitlines() if x.startswith("PROBE")]
    assert line, r.stdout + r.stderr
    got = json.loads(line[-1][5:])
    assert got["settings"] == [method, 300] and got["previewer"] == (method != "none")
    assert got["max_diff"] <= 1 and got["same_format"]
