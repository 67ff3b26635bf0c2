"""One declaration per node, two renderings: ComfyUI's current schema or the legacy (V1) class.

How to write a node (one file in ``nodes/``, collected automatically):

    from ._schema import Float, Image, Node, Out

    def double(images, fps):                         # the work: validate, call the layer below
        return images, fps * 2                        # one value per output (or Result(..., ui=...))

    NODES = [Node("MotionComicDouble", "Double fps (motioncomic)", "What it does, for the help panel.",
                  double, inputs=[Image("images", "The frames."),
                                  Float("fps", "Input frame rate.", default=8.0, min=0.1, max=240.0)],
                  outputs=[Out("IMAGE", "images", "Same frames."), Out("FLOAT", "fps", "Doubled rate.")])]

Inputs are listed in widget order (saved workflows store widget values by position: never reorder,
rename or remove one; add new ones at the end as ``optional=True``). Optional inputs that are not
connected or not set reach the run function as their ``default`` (None for sockets). Combo ``options`` may be a
callable (file lists are re-read whenever ComfyUI asks for the node definitions). ``validate`` /
``fingerprint`` are plain functions of the inputs they need (ComfyUI's VALIDATE_INPUTS/IS_CHANGED).

``render_schema`` turns a declaration into an ``io.ComfyNode`` subclass (registered through
``comfy_entrypoint``; ComfyUI >= 0.3.48), ``render_legacy`` into an INPUT_TYPES/FUNCTION class (older
ComfyUI, and the default test suite, which runs without ComfyUI). Both call the same function.
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from typing import Any, Callable

CATEGORY = "motioncomic"
#: Set to "legacy" to register V1 classes even where ComfyUI has the current schema.
API_ENV = "MOTIONCOMIC_NODE_API"


# --------------------------------------------------------------------------- declaration
@dataclass(frozen=True)
class Input:
    """One node input. ``type`` is a ComfyUI type name (IMAGE, INT, COMBO, MOTIONCOMIC_...)."""

    name: str
    type: str
    tooltip: str
    optional: bool = False
    default: Any = None
    options: list | Callable[[], list] | None = None  # COMBO choices (or a function returning them)
    min: float | None = None
    max: float | None = None
    step: float | None = None
    multiline: bool = False
    upload: str | None = None  # "video": the frontend's upload button on a combo

    def choices(self) -> list:
        return list(self.options() if callable(self.options) else self.options or [])


def Image(name: str, tooltip: str, optional: bool = False) -> Input:  # noqa: N802 - reads like a type
    return Input(name, "IMAGE", tooltip, optional)


def Custom(name: str, type: str, tooltip: str, optional: bool = False) -> Input:  # noqa: N802
    """A socket of any other type (MOTIONCOMIC_..., VIDEO, AUDIO, MASK)."""
    return Input(name, type, tooltip, optional)


def Int(name: str, tooltip: str, default: int, min: int, max: int, step: int | None = None,  # noqa: N802
        optional: bool = False) -> Input:
    return Input(name, "INT", tooltip, optional, default, min=min, max=max, step=step)


def Float(name: str, tooltip: str, default: float, min: float, max: float, step: float | None = None,  # noqa: N802
          optional: bool = False) -> Input:
    return Input(name, "FLOAT", tooltip, optional, default, min=min, max=max, step=step)


def String(name: str, tooltip: str, default: str = "", multiline: bool = False,  # noqa: N802
           optional: bool = False) -> Input:
    return Input(name, "STRING", tooltip, optional, default, multiline=multiline)


def Boolean(name: str, tooltip: str, default: bool, optional: bool = False) -> Input:  # noqa: N802
    return Input(name, "BOOLEAN", tooltip, optional, default)


def Combo(name: str, options, tooltip: str, default: Any = None, optional: bool = False,  # noqa: N802
          upload: str | None = None) -> Input:
    return Input(name, "COMBO", tooltip, optional, default, options=options, upload=upload)


@dataclass(frozen=True)
class Out:
    type: str
    name: str
    tooltip: str


@dataclass
class Result:
    """Outputs plus a UI payload (saved files to preview) for output nodes."""

    values: tuple
    ui: dict | None = None


@dataclass(frozen=True)
class Node:
    node_id: str
    display_name: str
    description: str
    run: Callable[..., tuple | Result]
    inputs: list[Input] | Callable[[], list[Input]] = field(default_factory=list)
    outputs: list[Out] = field(default_factory=list)
    output_node: bool = False  # also receives the hidden ``prompt`` and ``extra_pnginfo`` keywords
    validate: Callable[..., bool | str] | None = None
    fingerprint: Callable[..., Any] | None = None


def inputs_of(node: Node) -> list[Input]:
    """The node's inputs (``inputs`` may be a function: inputs whose choices and defaults come from a
    module that is too heavy to import with the node file, read when they are asked for)."""
    return list(node.inputs() if callable(node.inputs) else node.inputs)


# --------------------------------------------------------------------------- legacy (V1) rendering
def legacy_input(i: Input) -> tuple:
    """``(type_or_choices, options)`` as INPUT_TYPES writes it."""
    opts: dict[str, Any] = {"tooltip": i.tooltip}
    if i.default is not None:
        opts["default"] = i.default
    for key in ("min", "max", "step"):
        if getattr(i, key) is not None:
            opts[key] = getattr(i, key)
    if i.multiline:
        opts["multiline"] = True
    if i.upload:
        opts[f"{i.upload}_upload"] = True
    return (i.choices() if i.type == "COMBO" else i.type, opts)


def legacy_input_types(node: Node) -> dict:
    spec: dict[str, dict] = {"required": {}}
    for i in inputs_of(node):
        spec.setdefault("optional" if i.optional else "required", {})[i.name] = legacy_input(i)
    if node.output_node:
        spec["hidden"] = {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    return spec


def call(node: Node, *args, **kwargs):
    """Run ``node`` the way both renderings do: inputs not sent (an unlinked optional socket, a widget
    added after the workflow was saved, a direct caller's omission) arrive as their declared default
    (None for optional sockets), so run functions need no defaults of their own."""
    # what the caller sent: positional arguments bound to names, and every keyword (binding alone would
    # not name those a run function takes through ``**kwargs``)
    sent = set(inspect.signature(node.run).bind_partial(*args, **kwargs).arguments) | set(kwargs)
    for i in inputs_of(node):
        if i.name not in sent and (i.optional or i.default is not None):
            kwargs[i.name] = i.default
    return node.run(*args, **kwargs)


def _legacy_result(value):
    if isinstance(value, Result):
        return {"ui": value.ui, "result": tuple(value.values)} if value.ui else tuple(value.values)
    return tuple(value)


def _as_classmethod(fn: Callable) -> classmethod:
    """``fn`` as a classmethod whose signature lists ``fn``'s own parameters: ComfyUI passes a
    validate function only the inputs it names (and skips its own range checks for those)."""

    def method(cls, *args, **kwargs):
        return fn(*args, **kwargs)

    sig = inspect.signature(fn)
    cls_param = inspect.Parameter("cls", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = sig.replace(parameters=[cls_param, *sig.parameters.values()])
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    return classmethod(method)


def render_legacy(node: Node) -> type:
    """A V1 class: INPUT_TYPES / RETURN_TYPES / FUNCTION (named after the run function)."""
    func = node.run.__name__

    def run(self, *args, **kwargs):
        return _legacy_result(call(node, *args, **kwargs))

    attrs = {
        "__doc__": node.description, "__module__": node.run.__module__,
        "DESCRIPTION": node.description, "CATEGORY": CATEGORY, "FUNCTION": func,
        "RETURN_TYPES": tuple(o.type for o in node.outputs), "RETURN_NAMES": tuple(o.name for o in node.outputs),
        "OUTPUT_TOOLTIPS": tuple(o.tooltip for o in node.outputs), "OUTPUT_NODE": node.output_node,
        "INPUT_TYPES": classmethod(lambda cls: legacy_input_types(node)), func: run, "SPEC": node,
    }
    if node.validate is not None:
        attrs["VALIDATE_INPUTS"] = _as_classmethod(node.validate)
    if node.fingerprint is not None:
        attrs["IS_CHANGED"] = _as_classmethod(node.fingerprint)
    return type(node.node_id, (), attrs)


# --------------------------------------------------------------------------- current schema rendering
def schema_api():
    """``(io, ComfyExtension)`` of the running ComfyUI's ``comfy_api.latest``, or None when it has
    no node schema (older ComfyUI, or no ComfyUI at all) or ``MOTIONCOMIC_NODE_API=legacy``."""
    if os.environ.get(API_ENV, "").lower() == "legacy":
        return None
    import importlib.util

    try:
        if importlib.util.find_spec("comfy_api") is None:
            return None
        from comfy_api.latest import ComfyExtension, io
    except Exception:  # an old comfy_api without ``latest``, or one that fails outside a server
        return None
    if not all(hasattr(io, n) for n in ("ComfyNode", "Schema", "NodeOutput", "Custom", "Combo", "Hidden")):
        return None
    return io, ComfyExtension


def _schema_type(io, type_name: str):
    builtin = {"IMAGE": "Image", "MASK": "Mask", "INT": "Int", "FLOAT": "Float", "STRING": "String",
               "BOOLEAN": "Boolean", "VIDEO": "Video", "AUDIO": "Audio", "LATENT": "Latent"}
    name = builtin.get(type_name)
    return getattr(io, name) if name and hasattr(io, name) else io.Custom(type_name)


def schema_input(io, i: Input):
    common = {"tooltip": i.tooltip, "optional": i.optional}
    if i.type == "COMBO":
        upload = getattr(io.UploadType, i.upload) if i.upload else None
        return io.Combo.Input(i.name, options=i.choices(), default=i.default, upload=upload, **common)
    kind = _schema_type(io, i.type)
    if i.type in ("INT", "FLOAT"):
        return kind.Input(i.name, default=i.default, min=i.min, max=i.max, step=i.step, **common)
    if i.type == "STRING":
        return kind.Input(i.name, default=i.default, multiline=i.multiline, **common)
    if i.type == "BOOLEAN":
        return kind.Input(i.name, default=i.default, **common)
    return kind.Input(i.name, **common)


def render_schema(node: Node, io) -> type:
    """An ``io.ComfyNode`` subclass with the same id, inputs (same order) and outputs."""

    def define_schema(cls):
        ins = inputs_of(node)
        taken = {i.name for i in ins}  # the schema wants output ids distinct from input ids
        return io.Schema(
            node_id=node.node_id, display_name=node.display_name, category=CATEGORY,
            description=node.description, inputs=[schema_input(io, i) for i in ins],
            outputs=[_schema_type(io, o.type).Output(o.name + "_out" if o.name in taken else o.name,
                                                     display_name=o.name, tooltip=o.tooltip)
                     for o in node.outputs],
            is_output_node=node.output_node,
        )

    def execute(cls, **kwargs):
        if node.output_node:
            kwargs.update(prompt=cls.hidden.prompt, extra_pnginfo=cls.hidden.extra_pnginfo)
        value = call(node, **kwargs)
        if isinstance(value, Result):
            return io.NodeOutput(*value.values, ui=value.ui)
        return io.NodeOutput(*value)

    attrs = {"__doc__": node.description, "__module__": node.run.__module__, "SPEC": node,
             "define_schema": classmethod(define_schema), "execute": classmethod(execute)}
    if node.validate is not None:
        attrs["validate_inputs"] = _as_classmethod(node.validate)
    if node.fingerprint is not None:
        attrs["fingerprint_inputs"] = _as_classmethod(node.fingerprint)
    return type(node.node_id, (io.ComfyNode,), attrs)
