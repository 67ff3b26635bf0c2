"""Tiny DWPose ONNX models with the real models' input/output names, shapes and dtypes.

- ``yolox_l.onnx``: input ``images`` float32 [1,3,640,640] (0..255 RGB, grey-padded), output
  ``output`` [1,8400,85] (stride-8/16/32 anchors; x, y, log w, log h, objectness, 80 classes).
- ``dw-ll_ucoco_384.onnx``: input ``input`` float32 [1,3,384,288] (ImageNet-normalised RGB),
  outputs ``simcc_x`` [1,133,576] and ``simcc_y`` [1,133,768].

They really "see" a synthetic person: pixels whose green minus red minus blue is high (a green
figure on any grey/black background). The detector writes the figure's bounding box into
anchor 0 (objectness = figure present); the pose model puts each of the 133 keypoints at a fixed
fraction (:data:`FRACTIONS`) of the figure's box in its crop, with confidence :data:`CONFIDENCE`
when a figure is in the crop and <= 0 otherwise. So keypoints follow the figure through the
detector box, the affine crop and SimCC decoding, and tracking can follow it between key frames.

``install_for_workflows(models_dir)`` writes both under ``models/dwpose/``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DET_SIZE = (640, 640)
POSE_SIZE = (384, 288)  # (height, width)
FIGURE = (30, 220, 40)  # RGB of the synthetic person
WORKFLOW_FILES = ("yolox_l.onnx", "dw-ll_ucoco_384.onnx")


def _fractions() -> np.ndarray:
    """[133, 2] positions in the figure box (COCO-WholeBody order): a standing person whose
    extreme points touch all four sides of the box."""
    rng = np.random.default_rng(7)
    body = np.array([
        [0.5, 0.06], [0.46, 0.04], [0.54, 0.04], [0.42, 0.05], [0.58, 0.05],  # nose, eyes, ears
        [0.35, 0.2], [0.65, 0.2], [0.2, 0.33], [0.8, 0.33], [0.1, 0.45], [0.9, 0.45],  # shoulders, elbows, wrists
        [0.42, 0.52], [0.58, 0.52], [0.4, 0.74], [0.6, 0.74], [0.4, 0.95], [0.6, 0.95],  # hips, knees, ankles
    ])
    feet = np.array([[0.38, 1.0], [0.34, 0.99], [0.41, 0.97], [0.62, 1.0], [0.66, 0.99], [0.59, 0.97]])
    face = np.stack([0.5 + 0.06 * np.cos(np.linspace(0, 2 * np.pi, 68)), 0.0 + 0.06 * (1 + np.sin(np.linspace(0, 2 * np.pi, 68)))], 1)
    lhand = np.array([0.0, 0.47]) + rng.uniform(0, 0.08, (21, 2))
    rhand = np.array([0.92, 0.47]) + rng.uniform(0, 0.08, (21, 2))
    lhand[0], rhand[0] = [0.08, 0.47], [0.92, 0.47]
    rhand[1] = [1.0, 0.5]
    return np.clip(np.concatenate([body, feet, face, lhand, rhand]), 0, 1).astype(np.float32)


FRACTIONS = _fractions()
CONFIDENCE = np.full(133, 0.9, np.float32)
CONFIDENCE[112:] = 0.6  # the right hand is less sure (still drawn, dimmer)


def _t(name: str, arr) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


def _save(nodes, inputs, outputs, inits, path: Path) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _figure_extent(x: str, h: int, w: int, weights: np.ndarray, bias: float, nodes: list, inits: list) -> dict:
    """Nodes giving scalars xmin, xmax, ymin, ymax (pixel indices) and present (0/1) of the figure."""
    inits += [_t("ind_w", weights.reshape(1, 3, 1, 1).astype(np.float32)), _t("ind_b", np.array([bias], np.float32)),
              _t("xs", np.arange(w, dtype=np.float32).reshape(1, 1, 1, w)),
              _t("ys", np.arange(h, dtype=np.float32).reshape(1, 1, h, 1)),
              _t("wx", np.float32(w)), _t("hy", np.float32(h)), _t("ten", np.float32(10.0)), _t("thr", np.float32(0.4)),
              _t("zero", np.float32(0.0)), _t("one", np.float32(1.0))]
    n = helper.make_node
    nodes += [n("Conv", [x, "ind_w", "ind_b"], ["ind"]), n("Sub", ["ind", "thr"], ["ind_c"]),
              n("Mul", ["ind_c", "ten"], ["ind_s"]), n("Clip", ["ind_s", "zero", "one"], ["mask"]),
              n("ReduceMax", ["mask"], ["colmask"], axes=[2], keepdims=1),
              n("ReduceMax", ["mask"], ["rowmask"], axes=[3], keepdims=1),
              n("ReduceMax", ["colmask"], ["present"], keepdims=0),
              n("Mul", ["colmask", "xs"], ["cx"]), n("ReduceMax", ["cx"], ["xmax"], keepdims=0),
              n("Sub", ["wx", "xs"], ["rxs"]), n("Mul", ["colmask", "rxs"], ["crx"]),
              n("ReduceMax", ["crx"], ["rxmax"], keepdims=0), n("Sub", ["wx", "rxmax"], ["xmin"]),
              n("Mul", ["rowmask", "ys"], ["cy"]), n("ReduceMax", ["cy"], ["ymax"], keepdims=0),
              n("Sub", ["hy", "ys"], ["rys"]), n("Mul", ["rowmask", "rys"], ["cry"]),
              n("ReduceMax", ["cry"], ["rymax"], keepdims=0), n("Sub", ["hy", "rymax"], ["ymin"])]
    return {"xmin": "xmin", "xmax": "xmax", "ymin": "ymin", "ymax": "ymax", "present": "present"}


def make_detector(path: Path, size: tuple[int, int] = DET_SIZE) -> Path:
    """YOLOX layout (``yolox_l.onnx``): the figure's box in anchor 0 (grid (0,0), stride 8).
    Other ``size`` values give the layout of the smaller YOLOX exports (e.g. 416x416)."""
    h, w = size
    anchors = sum((h // s) * (w // s) for s in (8, 16, 32))
    nodes, inits = [], []
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])
    _figure_extent("images", h, w, np.array([-1, 1, -1]) / 255.0, 0.0, nodes, inits)
    n = helper.make_node
    inits += [_t("eight", np.float32(8.0)), _t("half", np.float32(0.5)), _t("row_shape", np.array([1, 1, 1], np.int64)),
              _t("classes", np.concatenate([[1.0], np.zeros(79)]).astype(np.float32).reshape(1, 1, 80)),
              _t("rest_shape", np.array([1, anchors - 1, 85], np.int64))]
    for a, lo, hi in (("x", "xmin", "xmax"), ("y", "ymin", "ymax")):
        nodes += [n("Add", [lo, hi], [f"{a}_sum"]), n("Add", [f"{a}_sum", "one"], [f"{a}_sum1"]),
                  n("Mul", [f"{a}_sum1", "half"], [f"ctr{a}"]), n("Div", [f"ctr{a}", "eight"], [f"o_c{a}"]),
                  n("Sub", [hi, lo], [f"{a}_d"]), n("Add", [f"{a}_d", "one"], [f"{a}_len0"]),
                  n("Max", [f"{a}_len0", "one"], [f"{a}_len"]), n("Div", [f"{a}_len", "eight"], [f"{a}_rel"]),
                  n("Log", [f"{a}_rel"], [f"o_l{a}"])]
    parts = ["o_cx", "o_cy", "o_lx", "o_ly", "present"]
    for p in parts:
        nodes.append(n("Reshape", [p, "row_shape"], [p + "_r"]))
    nodes += [n("Concat", [p + "_r" for p in parts] + ["classes"], ["row0"], axis=2),
              n("ConstantOfShape", ["rest_shape"], ["rest"], value=_t("v", np.zeros(1, np.float32))),
              n("Concat", ["row0", "rest"], ["output"], axis=1)]
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, anchors, 85])
    return _save(nodes, [x], [out], inits, Path(path))


def make_pose(path: Path, size: tuple[int, int] = POSE_SIZE) -> Path:
    """RTMPose/DWPose SimCC layout (``dw-ll_ucoco_384.onnx``): keypoint k at FRACTIONS[k] of the
    figure's extent in the crop; logits ``present * CONFIDENCE[k] - 0.02 * (bin/2 - target)^2``.
    ``size`` (height, width) other than 384x288 gives e.g. the 256x192 ``dw-ll_ucoco.onnx`` layout."""
    h, w = size
    mean, std = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])
    wts = np.array([-1, 1, -1], np.float64)
    nodes, inits = [], []
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, h, w])
    _figure_extent("input", h, w, wts * std / 255.0, float((wts * mean).sum() / 255.0), nodes, inits)
    n = helper.make_node
    inits += [_t("conf", CONFIDENCE.reshape(1, 133, 1)), _t("alpha", np.float32(0.02))]
    for a, lo, hi, bins, col in (("x", "xmin", "xmax", 2 * w, 0), ("y", "ymin", "ymax", 2 * h, 1)):
        inits += [_t(f"f{a}", FRACTIONS[:, col].reshape(1, 133, 1)),
                  _t(f"bins{a}", (np.arange(bins, dtype=np.float32) / 2).reshape(1, 1, bins))]
        nodes += [n("Sub", [hi, lo], [f"{a}_ext"]), n("Mul", [f"f{a}", f"{a}_ext"], [f"{a}_off"]),
                  n("Add", [f"{a}_off", lo], [f"t{a}"]), n("Sub", [f"bins{a}", f"t{a}"], [f"d{a}"]),
                  n("Mul", [f"d{a}", f"d{a}"], [f"d2{a}"]), n("Mul", [f"d2{a}", "alpha"], [f"pen{a}"]),
                  n("Mul", ["conf", "present"], [f"conf{a}"]), n("Sub", [f"conf{a}", f"pen{a}"], [f"simcc_{a}"])]
    outs = [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, 133, 2 * w]),
            helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, 133, 2 * h])]
    return _save(nodes, [x], outs, inits, Path(path))


def install_for_workflows(models_dir: Path) -> tuple[Path, Path]:
    """Write both tiny models under ``models_dir/dwpose/`` with the real file names."""
    d = Path(models_dir) / "dwpose"
    return make_detector(d / WORKFLOW_FILES[0]), make_pose(d / WORKFLOW_FILES[1])


# --------------------------------------------------------------------------- synthetic frames
def person_frame(h: int, w: int, box: tuple[int, int, int, int] | None, seed: int = 0) -> np.ndarray:
    """uint8 RGB ``[h,w,3]``: grey texture and, when ``box`` (x0, y0, x1, y1) is given, the green
    figure filling it (pixels x0..x1-1, y0..y1-1)."""
    rng = np.random.default_rng(seed)
    img = (90 + 60 * rng.random((h, w, 1))).repeat(3, axis=2).astype(np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        img[y0:y1, x0:x1] = FIGURE
    return img


def expected_points(box: tuple[int, int, int, int]) -> np.ndarray:
    """Where the tiny pose model puts the 133 points for a figure filling ``box`` (pixel indices
    x0..x1-1): ``[133, 2]`` source pixels (before our reordering to 134)."""
    x0, y0, x1, y1 = box
    return np.stack([x0 + FRACTIONS[:, 0] * (x1 - 1 - x0), y0 + FRACTIONS[:, 1] * (y1 - 1 - y0)], 1)


# --------------------------------------------------------------------------- synthetic skeletons
def _face68() -> np.ndarray:
    """iBUG-68 layout in head heights around the nose tip: jaw 0-16 (chin 8, 0.42 below),
    brows 17-26 (0.2 above: chin-to-brow x 1.6 = one head), nose 27-35, eyes 36-47, mouth 48-67."""
    jaw = np.stack([-0.34 * np.cos(np.linspace(0, np.pi, 17)), -0.1 + 0.52 * np.sin(np.linspace(0, np.pi, 17))], 1)
    brows = np.stack([np.r_[np.linspace(-0.28, -0.06, 5), np.linspace(0.06, 0.28, 5)], np.full(10, -0.2)], 1)
    nose = np.stack([np.r_[np.zeros(4), np.linspace(-0.06, 0.06, 5)], np.r_[np.linspace(-0.2, -0.03, 4), np.full(5, 0.0)]], 1)
    eye = np.stack([np.cos(np.linspace(np.pi, -np.pi, 6, endpoint=False)) * 0.07, np.sin(np.linspace(np.pi, -np.pi, 6, endpoint=False)) * 0.03], 1)
    eyes = np.concatenate([eye + [-0.16, -0.1], eye + [0.16, -0.1]])
    m = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    mouth = np.stack([0.1 * np.cos(m + np.pi), 0.2 + 0.03 * np.sin(m)], 1)
    return np.concatenate([jaw, brows, nose, eyes, mouth])


FACE68 = _face68()


def skeleton(heads: float, head_px: float, neck: tuple[float, float], angles: np.ndarray | None = None,
             size: tuple[int, int] = (1024, 576), score: float = 0.9) -> "object":
    """Poses of a character ``heads`` heads tall (head ``head_px`` px) with its neck at ``neck``.

    ``angles`` ``[N,17]`` (radians) rotate each bone's rest direction; the face is an ellipse
    around the nose, hands fans at the wrists, feet triangles at the ankles — all sized by the
    head. Returns :class:`motioncomic.poses.keypoints.Poses` of N frames (1 without angles).
    """
    from motioncomic.poses import skeleton as sk
    from motioncomic.poses.keypoints import NUM_POINTS, Poses

    angles = np.zeros((1, 17)) if angles is None else np.asarray(angles, np.float64)
    n = len(angles)
    c, s = np.cos(angles), np.sin(angles)
    rest = sk.REST_DIRECTIONS[None]  # hands sized by the forearm, feet by the shin
    dirs = np.stack([rest[..., 0] * c - rest[..., 1] * s, rest[..., 0] * s + rest[..., 1] * c], -1)
    pts = np.zeros((n, NUM_POINTS, 2))
    sk.forward(np.broadcast_to(np.asarray(neck, np.float64), (n, 2)), dirs, sk.proportions(heads) * head_px, pts)
    pts[:, 24:92] = pts[:, None, 0] + FACE68 * head_px
    lens = sk.proportions(heads) * head_px
    fan = np.stack([np.repeat(np.linspace(-0.5, 0.5, 5), 4), np.tile(np.linspace(0.1, 0.4, 4), 5)], 1) * lens[2] * 0.8
    hand = np.concatenate([[[0, 0]], fan])
    pts[:, 92:113] = pts[:, None, 7] + hand
    pts[:, 113:134] = pts[:, None, 4] + hand * [-1, 1]
    foot = np.array([[0.25, 0.15], [0.35, 0.12], [-0.1, 0.1]]) * lens[8] * 0.6
    pts[:, 18:21] = pts[:, None, 13] + foot
    pts[:, 21:24] = pts[:, None, 10] + foot * [-1, 1]
    return Poses(pts.astype(np.float32), np.full((n, NUM_POINTS), score, np.float32), size)


def dance_angles(n: int, seed: int = 0, amplitude: float = 0.8) -> np.ndarray:
    """[n,17] smooth joint-angle curves (arms swing, legs step, head nods)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / 24.0
    freq = rng.uniform(0.3, 1.2, (1, 17))
    phase = rng.uniform(0, 2 * np.pi, (1, 17))
    amp = amplitude * np.array([0.2, 1, 1, 0.2, 1, 1, 0.1, 0.5, 0.5, 0.1, 0.5, 0.5, 0.3, 0.1, 0.1, 0.1, 0.1])[None]
    return amp * np.sin(2 * np.pi * freq * t + phase)


REFERENCE_NAME = "motioncomic_pose_reference.png"
CLIP_NAME = "motioncomic_dance.mp4"


def dance_frames(n: int = 12, h: int = 180, w: int = 320):
    """Frames of a green figure stepping right and growing (the tiny DWPose sees it)."""
    for t in range(n):
        x0, grow = 60 + 6 * t, 2 * t
        yield person_frame(h, w, (x0, 20, x0 + 50 + grow, 150 + grow), seed=t)


def _face_on(img, x: int, y: int, size: int) -> None:
    """Draw tiny_faces' synthetic face (what its tiny detectors see) onto a uint8 RGB image in place."""
    import numpy as np

    import tiny_faces

    f = img[y:y + size, x:x + size].astype(np.float32) / 255
    tiny_faces.draw_face(f, 0, 0, size)
    img[y:y + size, x:x + size] = (f * 255).round().astype(img.dtype)


def make_workflow_inputs(input_dir: Path, n: int = 12) -> tuple[Path, Path]:
    """The reference image (a tall figure) and the dance clip (H.264 mp4, 12 fps) the pose
    workflow loads from ComfyUI's input folder."""
    from PIL import Image

    from motioncomic.media.video import write_video

    input_dir = Path(input_dir)
    input_dir.mkdir(parents=True, exist_ok=True)
    ref = input_dir / REFERENCE_NAME
    figure = person_frame(400, 240, (70, 40, 170, 380), seed=99)
    _face_on(figure, 100, 8, 40)  # a face the tiny face detector finds, for Face Restore in the dance chain
    Image.fromarray(figure).save(ref)
    clip = write_video(dance_frames(n), input_dir / CLIP_NAME, 12)
    return ref, Path(clip)
