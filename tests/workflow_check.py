"""Validate ComfyUI workflow files (UI and API format) against node definitions.

Definitions use the ``/object_info`` shape: ``{type: {"input": {"required"|"optional"|"hidden":
{name: [type_or_options, opts]}}, "input_order": ..., "output": [...], "output_name": [...]}}``.
Ours are built from the pack's ``NODE_CLASS_MAPPINGS``; ComfyUI core ones come from
``tests/data/comfyui/core_nodes.json`` (refreshed from a real server by ``dump_core_nodes.py``) or,
in the real-ComfyUI suite, from the live server.

Every check returns a list of readable problems (empty = valid) instead of raising, so a test can
show all of them at once.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

CORE_NODES = Path(__file__).resolve().parent / "data" / "comfyui" / "core_nodes.json"
#: Node types that exist only in the frontend (never sent to the server).
FRONTEND_ONLY = {"Note", "MarkdownNote", "Reroute", "PrimitiveNode"}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
PRIMITIVES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


def _pack_specs() -> dict:
    from motioncomic import NODE_CLASS_MAPPINGS

    return {name: cls.INPUT_TYPES() for name, cls in NODE_CLASS_MAPPINGS.items()}


def _probe_dirs(root: Path) -> None:
    """Fill a models dir and an input dir with one fake entry of every kind a loader may list."""
    from motioncomic import host

    names = ["zz_probe" + e for e in (".safetensors", ".onnx", ".pth", ".pt", ".bin", ".pkl", ".ckpt", ".xml",
                                      ".gguf", ".json", ".png", ".mp4")]
    for kind in list(host.MODEL_FOLDERS) + ["input"]:
        d = root / kind
        (d / "zz_probe_dir").mkdir(parents=True, exist_ok=True)
        for n in names + ["zz_probe_dir/model_index.json", "zz_probe_dir/config.json"]:
            (d / n).write_text("{}")
        svd = d / "zz_probe_svd"  # folder lists that look inside model_index.json (SVD)
        svd.mkdir(exist_ok=True)
        (svd / "model_index.json").write_text('{"_class_name": "StableVideoDiffusionPipeline"}')


@contextlib.contextmanager
def pack_folders(fill: bool = False):
    """Point the pack at fresh temporary ``models/`` and ``input/`` folders (restored after);
    ``fill`` puts one fake entry of every kind a loader may list in them."""
    from motioncomic import host

    old_models, old_input = host.configured_models_dir(), os.environ.get("MOTIONCOMIC_INPUT_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "input").mkdir()
        if fill:
            _probe_dirs(root)
        host.set_models_dir(root)
        os.environ["MOTIONCOMIC_INPUT_DIR"] = str(root / "input")
        try:
            yield root
        finally:
            host.set_models_dir(old_models)
            if old_input is None:
                os.environ.pop("MOTIONCOMIC_INPUT_DIR", None)
            else:
                os.environ["MOTIONCOMIC_INPUT_DIR"] = old_input


def pack_definitions() -> dict:
    """Our nodes in ``/object_info`` shape.

    Combo lists that depend on the files present (model names, input files) are marked
    ``_dynamic`` and not checked for membership: they are found by building the definitions twice,
    with empty folders and with folders holding a fake file/folder of every kind.
    """
    specs = []
    for fill in (False, True):
        with pack_folders(fill):
            specs.append(_pack_specs())
    defs = {}
    for name, spec in specs[0].items():
        inputs = {}
        for sec, vals in spec.items():
            inputs[sec] = {}
            for k, v in vals.items():
                v = list(v) if isinstance(v, tuple) else v
                other = specs[1][name].get(sec, {}).get(k)
                if isinstance(v, list) and isinstance(v[0], (list, tuple)) and other is not None \
                        and list(other[0]) != list(v[0]):
                    v = [v[0], {**(v[1] if len(v) > 1 else {}), "_dynamic": True}]
                inputs[sec][k] = v
        cls = __import__("motioncomic").NODE_CLASS_MAPPINGS[name]
        defs[name] = {
            "input": inputs,
            "input_order": {sec: list(vals) for sec, vals in spec.items()},
            "output": list(cls.RETURN_TYPES),
            "output_name": list(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)),
            "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
        }
    return defs


def all_definitions() -> dict:
    defs = json.loads(CORE_NODES.read_text())
    defs.update(pack_definitions())
    return defs


# --------------------------------------------------------------------------- input specs
def _kind(spec) -> tuple[str, list | None, dict]:
    """(type, combo options or None, options dict) of one input spec."""
    t = spec[0] if isinstance(spec, (list, tuple)) else spec
    opts = spec[1] if isinstance(spec, (list, tuple)) and len(spec) > 1 and isinstance(spec[1], dict) else {}
    if isinstance(t, (list, tuple)):
        return "COMBO", list(t), opts
    if t == "COMBO":
        return "COMBO", list(opts.get("options", [])), opts
    return str(t), None, opts


def _inputs(d: dict) -> dict[str, tuple]:
    out = {}
    order = d.get("input_order") or {}
    for sec in ("required", "optional"):
        vals = d.get("input", {}).get(sec, {}) or {}
        for name in order.get(sec, list(vals)):
            if name in vals:
                out[name] = (*_kind(vals[name]), sec)
    return out


def types_compatible(out_type: str, in_type: str) -> bool:
    if "*" in (out_type, in_type):
        return True
    if in_type == "COMBO":
        return out_type in ("COMBO", "STRING") or out_type.startswith("COMBO")
    return bool(set(out_type.split(",")) & set(in_type.split(",")))


def _check_value(where: str, name: str, kind: str, options, opts: dict, value) -> list[str]:
    if kind == "INT":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "FLOAT":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "BOOLEAN":
        ok = isinstance(value, bool)
    elif kind == "STRING":
        ok = isinstance(value, str)
    elif kind == "COMBO":
        ok = isinstance(value, (str, int, float))
        # lists that depend on installed models / input files (see pack_definitions) accept any name
        dynamic = opts.get("_dynamic") or any(k.endswith("_upload") for k in opts)
        if ok and options and not dynamic and value not in options:
            return [f"{where}: {name}={value!r} is not one of {options}"]
    else:
        return [f"{where}: input {name!r} of type {kind} needs a link, got the value {value!r}"]
    if not ok:
        return [f"{where}: {name}={value!r} is not a {kind}"]
    if kind in ("INT", "FLOAT"):
        if "min" in opts and value < opts["min"]:
            return [f"{where}: {name}={value} is below the minimum {opts['min']}"]
        if "max" in opts and value > opts["max"]:
            return [f"{where}: {name}={value} is above the maximum {opts['max']}"]
    return []


# --------------------------------------------------------------------------- API format
def check_api(prompt: dict, defs: dict) -> list[str]:
    problems = []
    if not isinstance(prompt, dict) or not prompt:
        return ["not an API-format graph (expected {node_id: {class_type, inputs}})"]
    for nid, node in prompt.items():
        ctype = node.get("class_type")
        where = f"node {nid} ({ctype})"
        if ctype not in defs:
            problems.append(f"{where}: unknown node type")
            continue
        ins = _inputs(defs[ctype])
        given = node.get("inputs", {})
        for name, (kind, options, opts, sec) in ins.items():
            if sec == "required" and name not in given:
                problems.append(f"{where}: required input {name!r} missing")
        for name, value in given.items():
            if name not in ins:
                problems.append(f"{where}: no input named {name!r} (valid: {', '.join(ins)})")
                continue
            kind, options, opts, _ = ins[name]
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
                src = prompt.get(str(value[0]))
                if src is None:
                    problems.append(f"{where}: {name} links to missing node {value[0]}")
                    continue
                outs = defs.get(src.get("class_type"), {}).get("output")
                if outs is None:
                    continue  # source unknown: already reported
                if value[1] >= len(outs):
                    problems.append(f"{where}: {name} links to output {value[1]} of {src['class_type']}, "
                                    f"which has {len(outs)} outputs")
                elif not types_compatible(str(outs[value[1]]), kind):
                    problems.append(f"{where}: {name} ({kind}) linked to {src['class_type']} output "
                                    f"{value[1]} of type {outs[value[1]]}")
            else:
                problems += _check_value(where, name, kind, options, opts, value)
    if not any(defs.get(n.get("class_type"), {}).get("output_node") for n in prompt.values()):
        problems.append("the graph has no output node (ComfyUI would refuse it)")
    return problems


# --------------------------------------------------------------------------- UI format
def _widget_plan(d: dict) -> list[tuple[str, str, list | None, dict]]:
    return [(name, kind, options, {**opts, "_section": sec}) for name, (kind, options, opts, sec) in _inputs(d).items()
            if kind in PRIMITIVES and not opts.get("forceInput")]


def check_ui(wf: dict, defs: dict) -> list[str]:
    problems = []
    nodes = {n["id"]: n for n in wf.get("nodes", [])}
    links = {}
    for link in wf.get("links", []):
        lid, src, sslot, dst, dslot, ltype = link[:6]
        links[lid] = link
        where = f"link {lid}"
        if src not in nodes or dst not in nodes:
            problems.append(f"{where}: connects missing node {src if src not in nodes else dst}")
            continue
        outs = nodes[src].get("outputs") or []
        ins = nodes[dst].get("inputs") or []
        if sslot >= len(outs) or lid not in (outs[sslot].get("links") or []):
            problems.append(f"{where}: not listed on output {sslot} of node {src}")
        if dslot >= len(ins) or ins[dslot].get("link") != lid:
            problems.append(f"{where}: not the link of input {dslot} of node {dst}")
    for nid, node in nodes.items():
        ctype = node.get("type")
        where = f"node {nid} ({ctype})"
        for inp in node.get("inputs") or []:
            if inp.get("link") is not None and inp["link"] not in links:
                problems.append(f"{where}: input {inp.get('name')} uses missing link {inp['link']}")
        for i, out in enumerate(node.get("outputs") or []):
            for lid in out.get("links") or []:
                if lid not in links or links[lid][1] != nid or links[lid][2] != i:
                    problems.append(f"{where}: output {i} lists link {lid} that does not start there")
        if ctype in FRONTEND_ONLY:
            continue
        if ctype not in defs:
            problems.append(f"{where}: unknown node type")
            continue
        d = defs[ctype]
        dins = _inputs(d)
        for inp in node.get("inputs") or []:
            name = inp.get("name")
            if name not in dins:
                problems.append(f"{where}: no input named {name!r} (valid: {', '.join(dins)})")
                continue
            lid = inp.get("link")
            if lid is not None and lid in links:
                src = nodes.get(links[lid][1])
                sdef = defs.get(src.get("type")) if src else None
                if sdef is not None and links[lid][2] < len(sdef["output"]):
                    otype = str(sdef["output"][links[lid][2]])
                    if not types_compatible(otype, dins[name][0]):
                        problems.append(f"{where}: {name} ({dins[name][0]}) linked from {src['type']} "
                                        f"output of type {otype}")
        for i, out in enumerate(node.get("outputs") or []):
            if i >= len(d["output"]):
                problems.append(f"{where}: has output {i} but the node defines {len(d['output'])}")
            elif out.get("type") not in (d["output"][i], "*") and not types_compatible(out.get("type", ""),
                                                                                        str(d["output"][i])):
                problems.append(f"{where}: output {i} typed {out.get('type')}, node says {d['output'][i]}")
        values = node.get("widgets_values")
        if isinstance(values, list):
            problems += _check_widgets(where, _widget_plan(d), values)
    return problems


def _check_widgets(where: str, plan, values: list) -> list[str]:
    problems, i = [], 0
    for name, kind, options, opts in plan:
        if i >= len(values):
            if all(o["_section"] == "optional" for *_x, o in plan[plan.index((name, kind, options, opts)):]):
                return problems  # saved before these optional widgets existed: the frontend keeps their defaults
            return problems + [f"{where}: widgets_values too short: nothing for {name!r}"]
        problems += _check_value(where, name, kind, options, opts, values[i])
        i += 1
        seed_like = kind == "INT" and (opts.get("control_after_generate") or name in ("seed", "noise_seed"))
        if seed_like and i < len(values) and values[i] in CONTROL_VALUES:
            i += 1
        # the frontend (1.27) stores the upload button's value after an image combo only
        if opts.get("image_upload") and i < len(values) and values[i] in ("image", ""):
            i += 1
    if i < len(values):
        problems.append(f"{where}: {len(values) - i} extra widgets_values {values[i:]!r} (shifted values?)")
    return problems


def check_file(path: Path, defs: dict) -> list[str]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        return check_ui(data, defs)
    return check_api(data, defs)
