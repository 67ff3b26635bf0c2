"""host's ComfyUI branch against a stand-in of ComfyUI's modules (tests/comfy_standin.py): folders,
cached lists, progress, interrupt, routes off the event loop, model management."""
from __future__ import annotations

import asyncio
import threading

import pytest
import torch

import comfy_standin
from motioncomic import host
from motioncomic.errors import MotionComicError, ModelNotFoundError


@pytest.fixture
def comfy(tmp_path):
    with comfy_standin.installed(tmp_path) as c:
        assert host.in_comfyui()
        host.register_model_folders()
        yield c
    assert not host.in_comfyui()


def test_folders_come_from_folder_paths_and_lists_from_its_cache(comfy, tmp_path):
    fp = comfy.folder_paths
    assert str(tmp_path / "models" / "vfi") in fp.folder_names_and_paths["vfi"][0]
    (tmp_path / "models" / "vfi").mkdir()
    (tmp_path / "models" / "vfi" / "ours-1-2-points.pkl").write_bytes(b"x")
    assert host.list_files("vfi", [".pkl"]) == ["ours-1-2-points.pkl"]
    walks = fp.listings
    assert host.list_files("vfi") == ["ours-1-2-points.pkl"] and fp.listings == walks  # ComfyUI's cache
    assert host.find_model("vfi", "ours-1-2-points.pkl") == tmp_path / "models" / "vfi" / "ours-1-2-points.pkl"
    with pytest.raises(ModelNotFoundError, match="not a name inside the model folders"):
        host.find_model("vfi", "../../etc/passwd")
    host.add_search_path("vfi", tmp_path / "elsewhere")
    assert str(tmp_path / "elsewhere") in fp.folder_names_and_paths["vfi"][0]
    assert host.output_dir() == tmp_path / "output" and host.input_dir() == tmp_path / "input"


def test_progress_reports_to_comfyui_and_interrupt_cancels(comfy):
    bar = comfy.comfy_utils.ProgressBar
    bar.updates.clear()
    p = host.Progress(3)
    p.step(preview="img")
    assert bar.updates == [(1, 3, "img")]
    comfy.comfy_model_management.interrupted = True
    with pytest.raises(comfy.comfy_model_management.InterruptProcessingException):
        p.step()
    assert comfy.comfy_model_management.InterruptProcessingException in host.cancel_exceptions()


def test_routes_run_off_the_event_loop_and_answer_400_or_500(comfy):
    from motioncomic.host.routes import answer

    loop_thread = []

    def ok(q):
        loop_thread.append(threading.get_ident())
        return {"echo": q["a"]}

    def user_error(q):
        raise MotionComicError("bad width")

    def crash(q):
        raise RuntimeError("/secret/path/model.bin exploded")

    async def main():
        me = threading.get_ident()
        return me, [await answer(f, {"a": "1"}) for f in (ok, user_error, crash)], await answer(ok, {"a": "x" * 5000})

    me, (r_ok, r_bad, r_crash), too_long = asyncio.run(main())
    assert r_ok == (200, {"echo": "1"}) and loop_thread[0] != me  # the handler ran in a worker thread
    assert r_bad == (400, {"error": "bad width"})
    assert r_crash[0] == 500 and "secret" not in str(r_crash[1])
    assert too_long == (400, {"error": "query too long"})


def _tiny_model():
    from motioncomic.loaders.video_model import FrameCounts, FrameSpec, VideoModel

    parts = {"transformer": torch.nn.Linear(4, 4), "vae": torch.nn.Linear(2, 2), "tokenizer": object()}
    return VideoModel(family="cogvideox", variant="tiny", components=parts, dtype=torch.float32,
                      device=torch.device("cpu"), frame=FrameSpec("fixed", ((16, 16),)),
                      frame_counts=FrameCounts(8, 1, 1, 49, 9), text_tokens=16, fps=8, name="tiny")


def test_video_models_are_managed_unloaded_and_reloaded(comfy):
    from motioncomic.loaders.registry import register

    mm = comfy.comfy_model_management
    model = _tiny_model()
    register(model)
    assert set(model.patchers) == {"transformer", "vae"}  # torch modules only
    assert len(mm.current_loaded_models) == 2  # offload "none": loaded through load_models_gpu
    assert {s["name"]: s["loaded"] for s in host.managed_status()} == {"tiny/transformer": True, "tiny/vae": True}
    mm.unload_all_models()  # "Unload models" / POST /free
    assert mm.current_loaded_models == [] and model.patchers["vae"].detached == 1
    assert not any(s["loaded"] for s in host.managed_status())
    with model.on_device("vae"):  # the next run loads it back through ComfyUI
        assert any(lm.model is model.patchers["vae"] for lm in mm.current_loaded_models)
    model.offload = "model"
    with model.on_device("transformer"):
        pass
    assert not any(lm.model is model.patchers["transformer"] for lm in mm.current_loaded_models)


def test_caches_without_torch_modules_are_released_by_comfyui(comfy):
    mm = comfy.comfy_model_management
    cleared = []
    host.register_cache("test/cache", lambda: cleared.append(1), lambda: 1234)
    host.touch_cache("test/cache")
    assert any(s["name"] == "test/cache" and s["loaded"] and s["bytes"] == 1234 for s in host.managed_status())
    mm.unload_all_models()
    assert cleared == [1]


def test_onnx_sessions_are_released_by_unload(comfy, tmp_path):
    import tiny_faces as tf
    from motioncomic.faces import runtime

    runtime.clear_cache()
    runtime.open_model(tf.make_enhancer(tmp_path / "e.onnx", size=32))
    assert runtime.cached_sessions() == 1
    comfy.comfy_model_management.unload_all_models()
    assert runtime.cached_sessions() == 0
