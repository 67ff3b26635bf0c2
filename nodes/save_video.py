"""Save Video: frames → mp4 / webm / animated webp / gif in ComfyUI's output folder, previewed in the UI."""
from __future__ import annotations

import logging

from ._schema import Boolean, Combo, Custom, Float, Image, Int, Node, Out, Result, String
from ._video import clip_in

log = logging.getLogger(__name__)

FORMATS = ["mp4", "webm", "webp", "gif"]


def validate(filename_prefix, save_output=True):
    """Before the graph runs: a prefix that leaves the output folder or a folder that cannot be
    created is reported now, not after minutes of generation. (Only these two inputs are named, so
    ComfyUI still range-checks the others.)"""
    from .. import host
    from ..errors import MotionComicError

    if save_output:
        try:
            host.check_output_prefix(filename_prefix)
        except MotionComicError as e:
            return str(e)
    return True


def save(images, fps, filename_prefix, format, crf, quality, save_output, video, audio, prompt=None,
         extra_pnginfo=None):
    """Encode an IMAGE batch ``[N,H,W,3]`` (or a VIDEO's frames) as one clip with the real ffmpeg
    (imageio-ffmpeg), muxing the audio in when there is some."""
    from .. import host
    from ..errors import MotionComicError
    from ..media.audio import AUDIO_CODECS, fit_note, waveform_of
    from ..media.video import FORMATS as EXT, write_video

    if video is None and images is not None and len(images) == 0:
        raise MotionComicError("Save Video got no frames: the image batch is empty.")
    if format not in EXT:
        raise MotionComicError(f"format must be one of {', '.join(EXT)}, got {format!r}")
    clip = clip_in(images, fps, video, "Save Video")
    images, fps = clip.frames, clip.fps
    sound = waveform_of(audio if audio is not None else clip.audio, "Save Video")
    n, h, w = int(images.shape[0]), int(images.shape[1]), int(images.shape[2])
    if sound is not None and format not in AUDIO_CODECS:
        log.warning("Save Video: %s cannot hold audio, the clip is saved without its sound (choose mp4 or webm "
                    "to keep it)", format)
        sound = None
    if sound is not None and (note := fit_note(sound[0].shape[1], sound[1], n, fps)):
        log.warning("Save Video: %s", note)
    folder, stem, counter, subfolder = host.save_path(filename_prefix, w, h, temp=not save_output)
    filename = f"{stem}_{counter:05}_{EXT[format]}"
    metadata = {}
    if not host.metadata_disabled():
        if prompt is not None:
            metadata["prompt"] = prompt
        for key, value in (extra_pnginfo or {}).items():
            metadata[key] = value
    path = write_video(images, folder / filename, fps, format, crf=crf, quality=quality, metadata=metadata,
                       audio=sound)
    log.info("saved %d frames (%dx%d, %.3g fps%s) to %s", n, w, h, fps, ", with audio" if sound else "", path)
    result = {"filename": filename, "subfolder": subfolder, "type": "output" if save_output else "temp"}
    # ComfyUI's own video savers report {"images": [...], "animated": (True,)}; the frontend
    # then shows a <video> (mp4/webm) or an animated image (webp/gif).
    return Result((host.relative_to_output(path),), ui={"images": [result], "animated": (True,)})


NODES = [Node(
    "MotionComicSaveVideo", "Save Video (motioncomic)",
    "Saves the frames as a video into ComfyUI's output folder and previews it. mp4 = H.264 yuv420p (odd sizes "
    "padded by one pixel), webm = VP9, webp/gif = animated images.",
    save,
    inputs=[
        Image("images", "The frames of the clip (a batch of images, all the same size), or connect 'video' "
              "instead.", optional=True),
        Float("fps", "Frames per second of 'images'. Connect the sampler's or interpolator's fps output. A "
              "connected video uses its own rate.", default=8.0, min=0.1, max=240.0, step=0.1),
        String("filename_prefix", "File name prefix; may include a sub-folder ('clips/hero'). A counter is "
               "appended: hero_00001_.mp4.", default="motioncomic/clip"),
        Combo("format", FORMATS, "mp4 (H.264, plays everywhere), webm (VP9), webp or gif (animated images; gif has "
              "256 colours and 1/100 s frame timing).", default="mp4"),
        Int("crf", "mp4/webm quality: lower is better and bigger. 17-23 for mp4, 20-32 for webm. Ignored for "
            "webp/gif.", default=19, min=0, max=63, step=1),
        Int("quality", "webp quality 0-100 (100 = lossless). Ignored for mp4/webm/gif.",
            default=90, min=0, max=100, step=1),
        Boolean("save_output", "Save to the output folder; off = temporary preview only.", default=True),
        Custom("video", "VIDEO", "The clip as a core VIDEO (from our stages or core Load Video / Create Video) "
               "instead of 'images' + 'fps'; its audio is saved with it (mp4/webm).", optional=True),
        Custom("audio", "AUDIO", "A soundtrack (e.g. core Load Audio) to mux in, instead of the video's own. Cut "
               "at the last frame or padded with silence. mp4 = AAC, webm = Opus; webp/gif cannot hold audio.",
               optional=True),
    ],
    outputs=[Out("STRING", "filepath", "Path of the saved file relative to ComfyUI's output (or temp) folder.")],
    output_node=True, validate=validate,
)]
