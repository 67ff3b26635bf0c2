"""Load Face Models: detector(s), swapper + recogniser, enhancer, mask model -> MOTIONCOMIC_FACE_MODELS."""
from __future__ import annotations

import logging

from ._common import CATEGORY, FACE_MODELS, tip

log = logging.getLogger(__name__)


class MotionComicLoadFaceModels:
    """Pick the ONNX/cascade files for face restore; each stage may be "none"."""

    DESCRIPTION = ("Chooses the face detector, identity swapper (+ ArcFace recogniser), enhancer and optional "
                   "mask model. Files are recognised by their inputs/outputs and opened once (cached).")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (FACE_MODELS,)
    RETURN_NAMES = ("face_models",)
    OUTPUT_TOOLTIPS = ("The chosen face models, for Face Restore.",)

    @classmethod
    def INPUT_TYPES(cls):
        from ..faces import files as F

        none = [F.NONE]
        return {
            "required": {
                "detector": ([F.AUTO] + F.detector_choices(), tip(
                    "Face detector. auto = try every detector on the reference face and use the first that finds "
                    "it (landmark detectors such as SCRFD first, then YOLO, then cascades). Anime: "
                    "lbpcascade_animeface.xml or a YOLO anime-face ONNX in models/facedetection/.", default=F.AUTO)),
                "swapper": (none + F.swapper_choices(), tip(
                    "Identity swapper (inswapper_128.onnx in models/insightface/). none = enhance only.",
                    default="inswapper_128.onnx")),
                "recogniser": (none + F.swapper_choices(), tip(
                    "ArcFace recogniser that embeds the reference face for the swapper "
                    "(buffalo_l/w600k_r50.onnx in models/insightface/).", default="buffalo_l/w600k_r50.onnx")),
                "enhancer": (none + F.enhancer_choices(), tip(
                    "Face enhancer: GFPGAN, CodeFormer, GPEN-BFR or RestoreFormer++ ONNX in "
                    "models/facerestore_models/. none = swap only.", default="GFPGANv1.4.onnx")),
                "mask_model": (none + F.mask_choices(), tip(
                    "Optional occlusion or face-parsing ONNX; its mask is combined with the feathered box "
                    "mask by minimum (keeps hair, hands and glasses out of the paste).", default=F.NONE)),
                "device": (["auto", "cpu", "cuda"], tip(
                    "ONNX Runtime device. auto = CUDA when a test session really runs on it, else CPU.",
                    default="auto")),
            }
        }

    def load(self, detector, swapper, recogniser, enhancer, mask_model, device="auto"):
        from ..errors import MotionComicError
        from ..faces import files as F
        from ..faces.pipeline import FaceModels, check_models

        detectors, auto = F.detectors_for(detector)
        models = FaceModels(detectors=detectors, swapper=F.resolve("insightface", swapper),
                            recogniser=F.resolve("insightface", recogniser),
                            enhancer=F.resolve("facerestore_models", enhancer), mask=F.resolve_mask(mask_model),
                            providers=device, auto=auto)
        if models.swapper is None and models.enhancer is None:
            raise MotionComicError("Choose a swapper, an enhancer or both: with neither, Face Restore has nothing to do.")
        log.info("face models: %s", check_models(models))
        return (models,)


NODE_CLASS_MAPPINGS = {"MotionComicLoadFaceModels": MotionComicLoadFaceModels}
NODE_DISPLAY_NAME_MAPPINGS = {"MotionComicLoadFaceModels": "Load Face Models (motioncomic)"}
