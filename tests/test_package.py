"""The pack imports light, registers its nodes, and never shadows ComfyUI's ``nodes``."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from pack_files import pack_files

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light_and_exports_nodes():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('motioncomic', r'{ROOT / '__init__.py'}',"
        f" submodule_search_locations=[r'{ROOT}'])\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['motioncomic'] = m\n"
        "spec.loader.exec_module(m)\n"
        "heavy = [k for k in ('torch', 'diffusers', 'transformers', 'cv2', 'onnxruntime') if k in sys.modules]\n"
        "print(len(m.NODE_CLASS_MAPPINGS), heavy, m.WEB_DIRECTORY)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, rest = out.stdout.split(" ", 1)
    assert int(count) > 0
    assert rest.strip() == "[] ./web"


def test_no_absolute_import_of_pack_modules():
    """An absolute ``import nodes`` would pick ComfyUI's module; the pack uses relative imports."""
    own = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    own |= {p.stem for p in ROOT.glob("*.py")}
    offenders = []
    for py in pack_files("*.py"):
        rel = py.relative_to(ROOT)
        if rel.parts[0] in {"tests", "benchmarks", ".ci", "docs"}:
            continue
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            else:
                continue
            offenders += [f"{rel}:{node.lineno} {n}" for n in names if n in own or n == "motioncomic"]
    assert offenders == []


def test_every_node_has_tooltips_and_prefixed_id():
    from motioncomic import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

    for key, cls in NODE_CLASS_MAPPINGS.items():
        assert key.startswith("MotionComic"), key
        assert key in NODE_DISPLAY_NAME_MAPPINGS, key
        spec = cls.INPUT_TYPES()
        for section in ("required", "optional"):
            for name, value in spec.get(section, {}).items():
                opts = value[1] if len(value) > 1 else {}
                assert opts.get("tooltip"), f"{key}.{name} has no tooltip"
        assert hasattr(cls, cls.FUNCTION), key
        assert isinstance(cls.RETURN_TYPES, tuple), key


def test_pyproject_dependencies_match_requirements_txt():
    """ComfyUI Manager installs requirements.txt, pip/registry pyproject: they must agree."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    reqs = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    norm = lambda s: s.replace(" ", "").replace("'", '"')  # noqa: E731
    assert sorted(norm(d) for d in deps if not d.startswith("torch")) == sorted(norm(r) for r in reqs)
    assert not any(d.startswith("torch=") for d in deps), "the pack must not pin torch"


def test_registers_through_exactly_one_path():
    """Without ComfyUI's comfy_api the package exports the legacy mappings and no comfy_entrypoint
    (ComfyUI would ignore the entrypoint of a module that has NODE_CLASS_MAPPINGS)."""
    import motioncomic
    from motioncomic.nodes import SPECS
    from motioncomic.nodes._schema import schema_api

    assert schema_api() is None
    assert not hasattr(motioncomic, "comfy_entrypoint")
    assert list(motioncomic.NODE_CLASS_MAPPINGS) == list(SPECS)
    assert all(cls.SPEC is SPECS[k] for k, cls in motioncomic.NODE_CLASS_MAPPINGS.items())


def test_nodes_are_declared_once():
    """Every node module holds declarations only: ``NODES``, no ``NODE_CLASS_MAPPINGS`` of its own and no
    hand-written INPUT_TYPES or define_schema anywhere (``_schema.py`` renders both)."""
    import importlib

    offenders = []
    for py in sorted((ROOT / "nodes").glob("*.py")):
        if py.name == "_schema.py":
            continue
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("INPUT_TYPES", "define_schema", "execute"):
                offenders.append(f"{py.name}:{node.lineno} {node.name}")
        assigned = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        if py.name.startswith("_"):
            continue
        if "NODE_CLASS_MAPPINGS" in assigned or "NODE_DISPLAY_NAME_MAPPINGS" in assigned:
            offenders.append(f"{py.name}: hand-written mappings")
        if not importlib.import_module(f"motioncomic.nodes.{py.stem}").NODES:
            offenders.append(f"{py.name}: no NODES")
    assert offenders == []


def test_hooks_keep_the_argument_names_comfyui_reads():
    """ComfyUI passes VALIDATE_INPUTS only the inputs its signature names (and range-checks the rest)."""
    import inspect

    from motioncomic import NODE_CLASS_MAPPINGS

    load = NODE_CLASS_MAPPINGS["MotionComicLoadVideo"]
    assert inspect.getfullargspec(load.VALIDATE_INPUTS).args == ["cls", "video"]
    assert "not found" in load.VALIDATE_INPUTS(video="no_such_clip.mp4")
    assert inspect.getfullargspec(NODE_CLASS_MAPPINGS["MotionComicExpandPrompt"].IS_CHANGED).varkw


def test_nodes_receive_the_values_sent():
    """Both renderings run a node through ``call``: the values sent are kept, inputs not sent arrive as
    their declared default (optional sockets as None), whether sent by position or by keyword."""
    from motioncomic.nodes._schema import Image, Int, Node, Out, String, call, render_legacy

    def run(prompt, n, extra, image):
        return (prompt, n + extra, image)

    node = Node("MotionComicEcho", "Echo", "Echoes.", run,
                inputs=[String("prompt", "p."), Int("n", "n.", default=1, min=0, max=9),
                        Int("extra", "e.", default=5, min=0, max=9, optional=True), Image("image", "i.", optional=True)],
                outputs=[Out("STRING", "prompt", "p."), Out("INT", "n", "n."), Out("IMAGE", "image", "i.")])
    assert call(node, prompt="she waves", n=2) == ("she waves", 7, None)  # optional filled, sent ones kept
    assert call(node, "she waves", 2, 0) == ("she waves", 2, None)
    assert call(node, n=3) == ("", 8, None)
    legacy = render_legacy(node)
    assert getattr(legacy(), legacy.FUNCTION)(prompt="hi", n=0, extra=1) == ("hi", 1, None)
