"""Run an API-format graph in-process with the pack's node classes (no ComfyUI needed).

Core nodes the graphs use are stood in for by what they do: ``LoadImage`` reads the file from the
input folder with PIL, ``PreviewImage`` passes its images through, ``LoadVideo`` decodes frames and
sound with the real ffmpeg into a VIDEO stand-in, ``SaveVideo`` writes a VIDEO (with its sound) to
an mp4 in the output folder. Everything else is our real node
code, called the way ComfyUI calls it (``getattr(cls(), cls.FUNCTION)(**inputs)``).
"""
from __future__ import annotations

import numpy as np


def load_video(path):
    """What core LoadVideo hands on: a VIDEO whose components are frames, frame rate and sound."""
    from fractions import Fraction

    import torch

    from motioncomic.media.audio import read_audio
    from motioncomic.media.video import read_video
    from motioncomic.nodes._video import Components, ComponentsVideo

    frames, fps = read_video(path)
    sound = read_audio(path)
    audio = None if sound is None else {"waveform": torch.from_numpy(sound[0])[None], "sample_rate": sound[1]}
    return ComponentsVideo(Components(torch.from_numpy(frames), Fraction(fps).limit_denominator(1001), audio))


def save_video(video, prefix: str) -> str:
    """What core SaveVideo does with a VIDEO: an mp4 with its sound in the output folder."""
    from motioncomic import host
    from motioncomic.media.audio import waveform_of
    from motioncomic.media.video import write_video

    parts = video.get_components()
    n, h, w = parts.images.shape[:3]
    folder, stem, counter, _sub = host.save_path(prefix, w, h)
    return str(write_video(parts.images, folder / f"{stem}_{counter:05}_.mp4", float(parts.frame_rate), "mp4",
                           audio=waveform_of(parts.audio)))


def run_api_graph(graph: dict, overrides: dict | None = None) -> dict:
    """Execute ``graph``; ``overrides[node_id]`` replaces some inputs. Returns node id -> outputs."""
    import torch
    from PIL import Image

    from motioncomic import NODE_CLASS_MAPPINGS, host

    results: dict[str, tuple] = {}

    def value(v):
        return results[v[0]][v[1]] if isinstance(v, list) else v

    def run(node_id):
        if node_id in results:
            return
        node = graph[node_id]
        for v in node["inputs"].values():
            if isinstance(v, list):
                run(v[0])
        kwargs = {k: value(v) for k, v in node["inputs"].items()}
        kwargs.update((overrides or {}).get(node_id, {}))
        if node["class_type"] == "LoadImage":
            img = np.asarray(Image.open(host.input_dir() / kwargs["image"]).convert("RGB"), np.float32) / 255
            results[node_id] = (torch.from_numpy(img)[None],)
        elif node["class_type"] == "PreviewImage":
            results[node_id] = (kwargs["images"],)
        elif node["class_type"] == "LoadVideo":
            results[node_id] = (load_video(host.input_dir() / kwargs["file"]),)
        elif node["class_type"] == "SaveVideo":
            results[node_id] = (save_video(kwargs["video"], kwargs["filename_prefix"]),)
        else:
            cls = NODE_CLASS_MAPPINGS[node["class_type"]]
            out = getattr(cls(), cls.FUNCTION)(**kwargs)
            results[node_id] = out["result"] if isinstance(out, dict) else out

    for node_id in graph:
        run(node_id)
    return results
