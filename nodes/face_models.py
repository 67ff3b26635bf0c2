"""Load Face Models: detector(s), swapper + recogniser, enhancer, mask model -> MOTIONCOMIC_FACE_MODELS."""
from __future__ import annotations

import logging

from ._common import FACE_MODELS
from ._schema import Combo, Node, Out

log = logging.getLogger(__name__)


def _files():
    from ..faces import files

    return files


def load(detector, swapper, recogniser, enhancer, mask_model, device="auto"):
    from ..errors import MotionComicError
    from ..faces.pipeline import FaceModels, check_models

    F = _files()
    detectors, auto = F.detectors_for(detector)
    models = FaceModels(detectors=detectors, swapper=F.resolve("insightface", swapper),
                        recogniser=F.resolve("insightface", recogniser),
                        enhancer=F.resolve("facerestore_models", enhancer), mask=F.resolve_mask(mask_model),
                        providers=device, auto=auto)
    if models.swapper is None and models.enhancer is None:
        raise MotionComicError("Choose a swapper, an enhancer or both: with neither, Face Restore has nothing to do.")
    log.info("face models: %s", check_models(models))
    return (models,)


NODES = [Node(
    "MotionComicLoadFaceModels", "Load Face Models (motioncomic)",
    "Chooses the face detector, identity swapper (+ ArcFace recogniser), enhancer and optional mask model. Files "
    "are recognised by their inputs/outputs and opened once (cached).",
    load,
    inputs=[
        Combo("detector", lambda: [_files().AUTO] + _files().detector_choices(),
              "Face detector. auto = try every detector on the reference face and use the first that finds it "
              "(landmark detectors such as SCRFD first, then YOLO, then cascades). Anime: lbpcascade_animeface.xml "
              "or a YOLO anime-face ONNX in models/facedetection/.", default="auto"),
        Combo("swapper", lambda: [_files().NONE] + _files().swapper_choices(),
              "Identity swapper (inswapper_128.onnx in models/insightface/). none = enhance only.",
              default="inswapper_128.onnx"),
        Combo("recogniser", lambda: [_files().NONE] + _files().swapper_choices(),
              "ArcFace recogniser that embeds the reference face for the swapper (buffalo_l/w600k_r50.onnx in "
              "models/insightface/).", default="buffalo_l/w600k_r50.onnx"),
        Combo("enhancer", lambda: [_files().NONE] + _files().enhancer_choices(),
              "Face enhancer: GFPGAN, CodeFormer, GPEN-BFR or RestoreFormer++ ONNX in models/facerestore_models/. "
              "none = swap only.", default="GFPGANv1.4.onnx"),
        Combo("mask_model", lambda: [_files().NONE] + _files().mask_choices(),
              "Optional occlusion or face-parsing ONNX; its mask is combined with the feathered box mask by minimum "
              "(keeps hair, hands and glasses out of the paste).", default="none"),
        Combo("device", ["auto", "cpu", "cuda"], "ONNX Runtime device. auto = CUDA when a test session really runs "
              "on it, else CPU.", default="auto"),
    ],
    outputs=[Out(FACE_MODELS, "face_models", "The chosen face models, for Face Restore.")],
)]
