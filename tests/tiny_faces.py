"""Tiny ONNX face models with the real models' input/output names and shapes, and synthetic faces.

The tiny detectors really detect the synthetic faces: a face is a filled square whose pixels have
red minus green = 1 (background is grey, R = G). The networks compute that indicator with a 1x1
convolution, count face pixels left/right/above/below every anchor centre with 1-D convolutions
(exact box distances) and score anchors by the indicator's local mean — so boxes and landmarks
are exact to the pixel, through the same decoding as the real SCRFD / YOLO models.

``install_for_workflows(models_dir)`` writes them under the file names the shipped workflow
``workflows/api/face_restore_clip.json`` uses; ``make_workflow_inputs(input_dir)`` writes the
reference image and clip it loads.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHARED_FACE = Path(__file__).resolve().parents[1] / "faces" / "data"  # the built-in anime cascade (MIT)
#: Landmarks of a synthetic face as fractions of its box (eyes, nose, mouth corners).
LANDMARK_FRACTIONS = np.array([[0.3, 0.4], [0.7, 0.4], [0.5, 0.58], [0.35, 0.75], [0.65, 0.75]], np.float32)
WINDOW = 320  # detector window half-size in detector pixels (largest face side it measures)

# the file names the shipped workflow uses (relative to models/<kind>/)
WORKFLOW_FILES = {
    "insightface": ["buffalo_l/det_10g.onnx", "buffalo_l/w600k_r50.onnx", "inswapper_128.onnx"],
    "facerestore_models": ["GFPGANv1.4.onnx"],
    "facedetection": ["lbpcascade_animeface.xml"],
}
REFERENCE_NAME = "motioncomic_face_reference.png"
CLIP_NAME = "motioncomic_face_clip.mp4"
#: The same clip with a soundtrack (a 440/660 Hz stereo tone as long as the frames), for core Load Video.
SOUND_CLIP_NAME = "motioncomic_face_clip_sound.mp4"


# --------------------------------------------------------------------------- synthetic faces
def draw_face(img: np.ndarray, x: float, y: float, size: int, shade: float = 0.2) -> None:
    """Draw a face (square of side ``size`` with top-left (x, y), integer pixels) in place on a
    float RGB image 0..1: R = 1, G = 0 everywhere in the square; features differ in blue only."""
    x, y = int(round(x)), int(round(y))
    img[y:y + size, x:x + size] = (1.0, 0.0, shade)
    for fx, fy in LANDMARK_FRACTIONS:
        cx, cy = int(x + fx * size), int(y + fy * size)
        r = max(size // 16, 1)
        img[cy - r:cy + r, cx - r:cx + r] = (1.0, 0.0, 0.9)


def background(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Grey texture with R == G (no face evidence), float32 [h,w,3]."""
    rng = np.random.default_rng(seed)
    g = 0.35 + 0.3 * np.linspace(0, 1, w, dtype=np.float32)[None, :] + 0.05 * rng.random((h, w), np.float32)
    img = np.stack([g, g, np.clip(g + 0.1 * rng.random((h, w), np.float32), 0, 1)], -1)
    return img.astype(np.float32)


def face_box(x: float, y: float, size: int) -> np.ndarray:
    return np.array([round(x), round(y), round(x) + size, round(y) + size], np.float32)


# --------------------------------------------------------------------------- onnx helpers
def _save(nodes, inputs, outputs, inits, path: Path, opset: int = 17) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _t(name: str, arr) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


def _measure(prefix: str, ind: str, s: int, nodes: list, inits: list) -> str:
    """Nodes computing [1,4,H/s,W/s] = face pixels left, right, above, below each anchor (x*s, y*s)."""
    h = WINDOW
    row = np.zeros((2, 1, 1, 2 * h), np.float32)
    row[0, 0, 0, :h] = 1  # offsets -h..-1: left
    row[1, 0, 0, h:] = 1  # offsets 0..h-1: right
    col = row.transpose(0, 1, 3, 2).copy()
    inits += [_t(f"{prefix}_row", row), _t(f"{prefix}_col", col)]
    nodes.append(helper.make_node("Conv", [ind, f"{prefix}_row"], [f"{prefix}_lr"], strides=[s, s], pads=[0, h, 0, h - s]))
    nodes.append(helper.make_node("Conv", [ind, f"{prefix}_col"], [f"{prefix}_tb"], strides=[s, s], pads=[h, 0, h - s, 0]))
    nodes.append(helper.make_node("Concat", [f"{prefix}_lr", f"{prefix}_tb"], [f"{prefix}_d"], axis=1))
    return f"{prefix}_d"


def _score(prefix: str, ind: str, s: int, nodes: list, inits: list, copies: int = 1) -> str:
    """Sigmoid of the indicator's mean over a 2s x 2s window centred on each anchor."""
    k = 2 * s
    w = np.full((copies, 1, k, k), 12.0 / (k * k), np.float32)
    inits += [_t(f"{prefix}_sw", w), _t(f"{prefix}_sb", np.full(copies, -7.2, np.float32))]
    nodes.append(helper.make_node("Conv", [ind, f"{prefix}_sw", f"{prefix}_sb"], [f"{prefix}_sl"], strides=[s, s], pads=[s, s, 0, 0]))
    nodes.append(helper.make_node("Sigmoid", [f"{prefix}_sl"], [f"{prefix}_sc"]))
    return f"{prefix}_sc"


def _kps_weights(scale: float) -> np.ndarray:
    """1x1 conv [10,4] from (l, r, t, b) to landmark offsets from the anchor, divided by ``scale``."""
    w = np.zeros((10, 4), np.float32)
    for i, (fx, fy) in enumerate(LANDMARK_FRACTIONS):
        w[2 * i] = [fx - 1.0, fx, 0, 0]
        w[2 * i + 1] = [0, 0, fy - 1.0, fy]
    return w / scale


def _flatten(name: str, per_anchor: int, nodes: list, inits: list, out: str, batched: bool) -> None:
    shape = [1, -1, per_anchor] if batched else [-1, per_anchor]
    inits.append(_t(f"{out}_shape", np.array(shape, np.int64)))
    nodes.append(helper.make_node("Transpose", [name], [f"{out}_t"], perm=[0, 2, 3, 1]))
    nodes.append(helper.make_node("Reshape", [f"{out}_t", f"{out}_shape"], [out]))


# --------------------------------------------------------------------------- models
def make_scrfd(path: Path, landmarks: bool = True, batched: bool = False) -> Path:
    """SCRFD layout (det_10g): input ``input.1`` [1,3,?,?] normalised (x-127.5)/128; outputs
    score_8/16/32 [N,1], bbox_8/16/32 [N,4], kps_8/16/32 [N,10] (two anchors per location)."""
    nodes, inits = [], []
    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "h", "w"])
    inits.append(_t("ind_w", np.array([128 / 255, -128 / 255, 0], np.float32).reshape(1, 3, 1, 1)))
    nodes.append(helper.make_node("Conv", ["input.1", "ind_w"], ["ind"]))
    scores, boxes, kpss = [], [], []
    for s in (8, 16, 32):
        d = _measure(f"s{s}", "ind", s, nodes, inits)
        sc = _score(f"s{s}", "ind", s, nodes, inits, copies=2)
        perm = np.zeros((4, 4), np.float32)
        perm[0, 0] = perm[1, 2] = perm[2, 1] = perm[3, 3] = 1.0 / s  # (l,r,t,b) -> (l,t,r,b)/s
        inits.append(_t(f"s{s}_bw", np.concatenate([perm, perm]).reshape(8, 4, 1, 1)))
        nodes.append(helper.make_node("Conv", [d, f"s{s}_bw"], [f"s{s}_bb"]))
        _flatten(sc, 1, nodes, inits, f"score_{s}", batched)
        _flatten(f"s{s}_bb", 4, nodes, inits, f"bbox_{s}", batched)
        scores.append(f"score_{s}")
        boxes.append(f"bbox_{s}")
        if landmarks:
            kw = _kps_weights(s)
            inits.append(_t(f"s{s}_kw", np.concatenate([kw, kw]).reshape(20, 4, 1, 1)))
            nodes.append(helper.make_node("Conv", [d, f"s{s}_kw"], [f"s{s}_kp"]))
            _flatten(f"s{s}_kp", 10, nodes, inits, f"kps_{s}", batched)
            kpss.append(f"kps_{s}")
    lead = [1, None] if batched else [None]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, lead + [1]) for n in scores]
    outs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, lead + [4]) for n in boxes]
    outs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, lead + [10]) for n in kpss]
    return _save(nodes, [x], outs, inits, Path(path))


def make_yolo(path: Path, landmarks: bool = False, size: int = 640) -> Path:
    """YOLOv8 face layout: input ``images`` [1,3,size,size] RGB 0..1; output ``output0``
    [1, 5 (+15 with landmarks), (size/8)^2] rows cx, cy, w, h, score (, x, y, visibility)*5."""
    s = 8
    nodes, inits = [], []
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])
    inits.append(_t("ind_w", np.array([1, -1, 0], np.float32).reshape(1, 3, 1, 1)))
    nodes.append(helper.make_node("Conv", ["images", "ind_w"], ["ind"]))
    d = _measure("y", "ind", s, nodes, inits)
    sc = _score("y", "ind", s, nodes, inits)
    g = size // s
    ys, xs = np.mgrid[:g, :g].astype(np.float32) * s
    rows = [np.array([-0.5, 0.5, 0, 0]), np.array([0, 0, -0.5, 0.5]), np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1])]
    grid = [xs, ys, np.zeros_like(xs), np.zeros_like(xs)]
    if landmarks:
        kw = _kps_weights(1.0)
        for i in range(5):
            rows += [kw[2 * i], kw[2 * i + 1], np.zeros(4)]
            grid += [xs, ys, np.ones_like(xs)]
    w = np.stack(rows).astype(np.float32)
    inits += [_t("y_geo_w", w.reshape(len(rows), 4, 1, 1)), _t("y_grid", np.stack(grid)[None].astype(np.float32))]
    nodes.append(helper.make_node("Conv", [d, "y_geo_w"], ["y_geo"]))
    nodes.append(helper.make_node("Add", ["y_geo", "y_grid"], ["y_geo_abs"]))
    # insert the score after the 4 box rows
    inits.append(_t("y_split", np.array([4, len(rows) - 4], np.int64)))
    nodes.append(helper.make_node("Split", ["y_geo_abs", "y_split"], ["y_box", "y_rest"], axis=1))
    nodes.append(helper.make_node("Concat", ["y_box", sc, "y_rest"], ["y_all"], axis=1))
    c = len(rows) + 1
    inits.append(_t("y_shape", np.array([1, c, g * g], np.int64)))
    nodes.append(helper.make_node("Reshape", ["y_all", "y_shape"], ["output0"]))
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, c, g * g])
    return _save(nodes, [x], [out], inits, Path(path))


def make_arcface(path: Path, seed: int = 1, dynamic: bool = True) -> Path:
    """ArcFace layout (w600k_r50): input ``input.1`` [N,3,112,112], output ``683`` [N,512]."""
    rng = np.random.default_rng(seed)
    n = "N" if dynamic else 1
    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [n, 3, 112, 112])
    y = helper.make_tensor_value_info("683", TensorProto.FLOAT, [n, 512])
    inits = [_t("fc_w", rng.standard_normal((3, 512)).astype(np.float32)),
             _t("fc_b", 0.1 * rng.standard_normal(512).astype(np.float32))]
    nodes = [helper.make_node("GlobalAveragePool", ["input.1"], ["gap"]),
             helper.make_node("Flatten", ["gap"], ["flat"]),
             helper.make_node("MatMul", ["flat", "fc_w"], ["fc"]),
             helper.make_node("Add", ["fc", "fc_b"], ["683"])]
    return _save(nodes, [x], [y], inits, Path(path))


def make_inswapper(path: Path, seed: int = 2) -> Path:
    """inswapper_128 layout: inputs ``target`` [1,3,128,128] RGB 0..1 and ``source`` [1,512];
    output ``output`` [1,3,128,128]; the ``emap`` [512,512] is the graph's last initializer."""
    rng = np.random.default_rng(seed)
    t = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128])
    s = helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    inits = [_t("src_w", (0.5 * rng.standard_normal((512, 3))).astype(np.float32)),
             _t("shape4", np.array([1, 3, 1, 1], np.int64)), _t("half", np.array(0.5, np.float32)),
             _t("lo", np.array(0.0, np.float32)), _t("hi", np.array(1.0, np.float32)),
             _t("emap", (rng.standard_normal((512, 512)) / np.sqrt(512)).astype(np.float32))]
    nodes = [helper.make_node("MatMul", ["source", "src_w"], ["sv"]),
             helper.make_node("Reshape", ["sv", "shape4"], ["sv4"]),
             helper.make_node("Mul", ["target", "half"], ["th"]),
             helper.make_node("Add", ["th", "sv4"], ["mix"]),
             helper.make_node("Add", ["mix", "half"], ["mix2"]),
             helper.make_node("Clip", ["mix2", "lo", "hi"], ["output"])]
    return _save(nodes, [t, s], [y], inits, Path(path))


def make_enhancer(path: Path, kind: str = "gfpgan", size: int = 512, dynamic: bool = False) -> Path:
    """Enhancer layout: ``input`` [1,3,size,size] in [-1,1] -> ``output`` same (GFPGAN, GPEN-BFR,
    RestoreFormer++); ``kind="codeformer"`` adds the fidelity input ``weight`` (double [1]).
    The tiny net blurs and brightens: out = 0.8 * blur(x) + 0.1 (codeformer: mixed with x by weight)."""
    n = "N" if dynamic else 1
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [n, 3, size, size])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [n, 3, size, size])
    blur = np.full((3, 1, 3, 3), 0.8 / 9, np.float32)
    inits = [_t("blur_w", blur), _t("blur_b", np.full(3, 0.1, np.float32))]
    nodes = [helper.make_node("Conv", ["input", "blur_w", "blur_b"], ["enh" if kind == "codeformer" else "output"],
                              group=3, pads=[1, 1, 1, 1])]
    inputs = [x]
    if kind == "codeformer":
        inputs.append(helper.make_tensor_value_info("weight", TensorProto.DOUBLE, [1]))
        inits.append(_t("one", np.array([1.0], np.float32)))
        nodes += [helper.make_node("Cast", ["weight"], ["wf"], to=TensorProto.FLOAT),
                  helper.make_node("Sub", ["one", "wf"], ["omw"]),
                  helper.make_node("Mul", ["input", "wf"], ["keep"]),
                  helper.make_node("Mul", ["enh", "omw"], ["rest"]),
                  helper.make_node("Add", ["keep", "rest"], ["output"])]
    return _save(nodes, inputs, [y], inits, Path(path))


def make_occluder(path: Path, size: int = 256) -> Path:
    """Occlusion mask layout (xseg): input ``input`` [1,size,size,3] RGB 0..1 NHWC, output
    [1,size,size,1]: 1 where the face is visible (here: where red minus green is high)."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, size, size, 3])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, size, size, 1])
    inits = [_t("w", np.array([[20.0], [-20.0], [0.0]], np.float32)), _t("b", np.array([-10.0], np.float32))]
    nodes = [helper.make_node("MatMul", ["input", "w"], ["l"]), helper.make_node("Add", ["l", "b"], ["l2"]),
             helper.make_node("Sigmoid", ["l2"], ["output"])]
    return _save(nodes, [x], [y], inits, Path(path))


def make_face_parser(path: Path, size: int = 128) -> Path:
    """Face-parsing layout (BiSeNet): input ``input`` [1,3,size,size] ImageNet-normalised RGB,
    output ``output`` [1,19,size,size] class logits: class 1 (skin) where red minus green is high,
    class 0 (background) elsewhere, all others low."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 19, size, size])
    w = np.zeros((19, 3, 1, 1), np.float32)
    b = np.full(19, -20.0, np.float32)
    # normalised red - green is about 4.4 * (R - G) + 0.1: skin logit positive above R - G ~ 0.5
    w[1, 0], w[1, 1], b[1] = 4.0, -4.0, -9.0
    b[0] = 0.0
    inits = [_t("w", w), _t("b", b)]
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["output"])]
    return _save(nodes, [x], [y], inits, Path(path))


# --------------------------------------------------------------------------- workflow support
def install_for_workflows(models_dir: Path) -> None:
    """Write tiny models (and copy the real anime cascade) under the exact names that
    ``workflows/api/face_restore_clip.json`` uses, below ``models_dir`` (ComfyUI's models/)."""
    models_dir = Path(models_dir)
    ins = models_dir / "insightface"
    make_scrfd(ins / "buffalo_l" / "det_10g.onnx")
    make_arcface(ins / "buffalo_l" / "w600k_r50.onnx")
    make_inswapper(ins / "inswapper_128.onnx")
    make_enhancer(models_dir / "facerestore_models" / "GFPGANv1.4.onnx")
    cascade = SHARED_FACE / "lbpcascade_animeface.xml"
    dst = models_dir / "facedetection" / "lbpcascade_animeface.xml"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cascade, dst)


def clip_frames(n: int = 12, h: int = 240, w: int = 320, size: int = 64, seed: int = 0) -> np.ndarray:
    """Frames [n,h,w,3] float32 with one synthetic face moving right (frames 0..n-1)."""
    frames = np.stack([background(h, w, seed) for _ in range(n)])
    for t in range(n):
        draw_face(frames[t], 40 + 6 * t, 60, size)
    return frames


def make_workflow_inputs(input_dir: Path, n: int = 12) -> tuple[Path, Path]:
    """Write the reference image and the clip the API workflow loads into ``input_dir``
    (ComfyUI's input/): a PNG with one synthetic face and an H.264 mp4 of :func:`clip_frames`, and the
    same clip with a :func:`tone` soundtrack (written by our ffmpeg writer) for core Load Video."""
    import imageio_ffmpeg
    from PIL import Image

    from motioncomic.media.video import write_video

    input_dir = Path(input_dir)
    input_dir.mkdir(parents=True, exist_ok=True)
    ref = background(256, 256, 3)
    draw_face(ref, 80, 80, 96, shade=0.6)
    ref_path = input_dir / REFERENCE_NAME
    Image.fromarray((ref * 255 + 0.5).astype(np.uint8)).save(ref_path)
    frames = (clip_frames(n) * 255 + 0.5).astype(np.uint8)
    clip_path = input_dir / CLIP_NAME
    writer = imageio_ffmpeg.write_frames(str(clip_path), (frames.shape[2], frames.shape[1]), fps=8,
                                         codec="libx264", pix_fmt_out="yuv420p", quality=9, macro_block_size=16)
    writer.send(None)
    for f in frames:
        writer.send(np.ascontiguousarray(f))
    writer.close()
    write_video(frames, input_dir / SOUND_CLIP_NAME, 8.0, "mp4", audio=tone(len(frames) / 8.0), progress=False)
    return ref_path, clip_path


def tone(seconds: float, rate: int = 44100) -> tuple[np.ndarray, int]:
    """A stereo test tone (440 Hz left, 660 Hz right, amplitude 0.5): ``(samples [2, S], rate)``."""
    t = np.arange(int(round(seconds * rate))) / rate
    return (0.5 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)])).astype(np.float32), rate
