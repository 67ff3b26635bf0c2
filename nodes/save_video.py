"""Save Video: frames → mp4 / webm / animated webp / gif in ComfyUI's output folder, previewed in the UI."""
from __future__ import annotations

import logging

from ._schema import Boolean, Combo, Float, Image, Int, Node, Out, Result, String

log = logging.getLogger(__name__)

FORMATS = ["mp4", "webm", "webp", "gif"]


def save(images, fps, filename_prefix, format, crf, quality, save_output, prompt=None, extra_pnginfo=None):
    """Encode an IMAGE batch ``[N,H,W,3]`` as one clip with the real ffmpeg (imageio-ffmpeg)."""
    from .. import host
    from ..errors import MotionComicError
    from ..media.video import FORMATS as EXT, write_video

    if images is None or len(images) == 0:
        raise MotionComicError("Save Video got no frames: the image batch is empty.")
    if format not in EXT:
        raise MotionComicError(f"format must be one of {', '.join(EXT)}, got {format!r}")
    n, h, w = int(images.shape[0]), int(images.shape[1]), int(images.shape[2])
    folder, stem, counter, subfolder = host.save_path(filename_prefix, w, h, temp=not save_output)
    filename = f"{stem}_{counter:05}_{EXT[format]}"
    metadata = {}
    if not host.metadata_disabled():
        if prompt is not None:
            metadata["prompt"] = prompt
        for key, value in (extra_pnginfo or {}).items():
            metadata[key] = value
    path = write_video(images, folder / filename, fps, format, crf=crf, quality=quality, metadata=metadata)
    log.info("saved %d frames (%dx%d, %.3g fps) to %s", n, w, h, fps, path)
    result = {"filename": filename, "subfolder": subfolder, "type": "output" if save_output else "temp"}
    # ComfyUI's own video savers report {"images": [...], "animated": (True,)}; the frontend
    # then shows a <video> (mp4/webm) or an animated image (webp/gif).
    return Result((str(path),), ui={"images": [result], "animated": (True,)})


NODES = [Node(
    "MotionComicSaveVideo", "Save Video (motioncomic)",
    "Saves the frames as a video into ComfyUI's output folder and previews it. mp4 = H.264 yuv420p (odd sizes "
    "padded by one pixel), webm = VP9, webp/gif = animated images.",
    save,
    inputs=[
        Image("images", "The frames of the clip (a batch of images, all the same size)."),
        Float("fps", "Frames per second. Connect the sampler's or interpolator's fps output.",
              default=8.0, min=0.1, max=240.0, step=0.1),
        String("filename_prefix", "File name prefix; may include a sub-folder ('clips/hero'). A counter is "
               "appended: hero_00001_.mp4.", default="motioncomic/clip"),
        Combo("format", FORMATS, "mp4 (H.264, plays everywhere), webm (VP9), webp or gif (animated images; gif has "
              "256 colours and 1/100 s frame timing).", default="mp4"),
        Int("crf", "mp4/webm quality: lower is better and bigger. 17-23 for mp4, 20-32 for webm. Ignored for "
            "webp/gif.", default=19, min=0, max=63, step=1),
        Int("quality", "webp quality 0-100 (100 = lossless). Ignored for mp4/webm/gif.",
            default=90, min=0, max=100, step=1),
        Boolean("save_output", "Save to the output folder; off = temporary preview only.", default=True),
    ],
    outputs=[Out("STRING", "filepath", "Absolute path of the saved file.")],
    output_node=True,
)]
