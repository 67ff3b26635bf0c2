"""What an ONNX face model is, told from its inputs and outputs (never from its file name).

insightface's ``model_zoo`` recognises models the same way; we do it ourselves so insightface
(and the CPU onnxruntime and headless OpenCV it pulls in) is not needed.
"""
from __future__ import annotations

from .runtime import OnnxModel
from ..errors import MotionComicError

DETECTOR_SCRFD = "detector_scrfd"
DETECTOR_YOLO = "detector_yolo"
RECOGNISER = "recogniser"
SWAPPER = "swapper"
ENHANCER = "enhancer"
MASK = "mask"
UNKNOWN = "unknown"

#: How each kind reads in an error message, and what the model of that kind must look like.
KIND_NAMES = {
    DETECTOR_SCRFD: "an SCRFD/RetinaFace face detector (one image input, 6/9/10/15 score/box/landmark outputs)",
    DETECTOR_YOLO: "a YOLO face detector (one image input, one output [1, 4+1(+15), N])",
    RECOGNISER: "an ArcFace recogniser (input [N,3,112,112], output a [N,512] embedding)",
    SWAPPER: "a face swapper with inputs target [1,3,128,128] and source [1,512]",
    ENHANCER: "a face enhancer (GFPGAN/CodeFormer/GPEN/RestoreFormer: [1,3,512,512] image in, image out)",
    MASK: "a face mask model (occlusion [.,1] or face-parsing [.,19] output)",
    UNKNOWN: "no face model we know",
}


def classify(model: OnnxModel) -> str:
    """The kind of face model ``model`` is (one of the module constants)."""
    ins, outs = model.inputs, model.outputs
    images = [i for i in ins if i.rank == 4]
    if len(ins) == 2 and ({i.name for i in ins} == {"target", "source"} or
                          (len(images) == 1 and any(i.rank == 2 for i in ins))):
        return SWAPPER
    if len(images) != 1:
        return UNKNOWN
    img = images[0]
    nchw = img.dim(1) == 3 or (img.dim(1) is None and img.dim(3) != 3)
    if len(ins) == 1 and len(outs) in (6, 9, 10, 15) and all(o.rank in (2, 3) for o in outs):
        return DETECTOR_SCRFD
    if len(ins) == 1 and len(outs) == 1 and outs[0].rank == 3:
        c = outs[0].dim(1)
        if c is None or c >= 5:
            return DETECTOR_YOLO
    if len(ins) == 1 and len(outs) >= 1 and outs[0].rank == 2 and nchw:
        side = img.dim(2)
        if side in (None, 112, 128) and outs[0].dim(1) in (None, 128, 256, 512):
            return RECOGNISER
    out4 = [o for o in outs if o.rank == 4]
    if out4:
        o = out4[0]
        ch = o.dim(1) if nchw else o.dim(3)
        if ch == 3 and len(ins) <= 2:
            return ENHANCER
        if ch is not None and ch != 3 and len(ins) == 1:
            return MASK
    return UNKNOWN


def expect(model: OnnxModel, *kinds: str) -> str:
    """Return the kind of ``model`` if it is one of ``kinds``, else raise an error naming both."""
    kind = classify(model)
    if kind in kinds:
        return kind
    wanted = " or ".join(KIND_NAMES[k] for k in kinds)
    raise MotionComicError(
        f"{model.path.name} looks like {KIND_NAMES[kind]}, expected {wanted}. "
        f"It has {model.signature()}. Choose a matching file in the face models loader."
    )
