"""LoRA training on tiny CogVideoX models (CPU): the loss falls on a tiny overfit set and the LoRA
moves the output toward the training clip; a run cancelled mid-step and resumed equals an
uninterrupted one bit for bit; the result loads in the LoRA layer; 1.5 trains too; bad input."""
from __future__ import annotations

import io
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

import tiny_cogvideox as tc
import tiny_dataset as td
from motioncomic import host
from motioncomic.errors import Cancelled, CheckpointError, DatasetError, MotionComicError
from motioncomic.loaders import cogvideox
from motioncomic.loaders.cogvideox import load_cogvideox
from motioncomic.loaders.lora import lora_applied, read_lora, resolve_against, with_lora
from motioncomic.training import checkpoint as ckpt
from motioncomic.training.config import TrainConfig
from motioncomic.training.train import train_lora

QUICK = dict(rank=4, alpha=4.0, lr=1e-3, warmup=2, checkpoint_every=2)


@pytest.fixture(scope="module")
def mdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("train") / "models"
    tc.install_for_workflows(d)
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX1.5-5B-I2V", "1.5-i2v")
    tc.write_diffusers_folder(d / "CogVideo" / "CogVideoX-5b", "1.0-t2v")
    host.set_models_dir(d)
    yield d
    host.set_models_dir(None)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return td.write_dataset(tmp_path_factory.mktemp("ds") / "hero", clips=2, frames=9, size=(16, 24))


def test_cancel_mid_step_and_resume_equals_uninterrupted(mdir, dataset, tmp_path):
    cfg = TrainConfig(steps=4, **QUICK)
    full = train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "a", cfg, device="cpu")

    def cancel_at_2(step):
        if step == 2:
            host.request_cancel()  # honoured between forward and backward: mid-step

    try:
        with pytest.raises(Cancelled):
            train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "b", cfg, device="cpu", on_step=cancel_at_2)
    finally:
        host.clear_cancel()
    last = ckpt.list_checkpoints(tmp_path / "b")[-1]
    assert last.name == "step-000002"
    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    usable = with_lora(vm, read_lora(last / ckpt.LORA_FILE), 1.0)  # the cancelled run left a usable LoRA
    assert len(resolve_against(usable.loras[0].lora, usable)) == 4
    with pytest.raises(MotionComicError, match="--resume.*--force"):
        train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "b", cfg, device="cpu")
    with pytest.raises(MotionComicError, match="rank differ"):
        train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "b", TrainConfig(steps=4, **{**QUICK, "rank": 8}),
                   device="cpu", resume=True)
    resumed = train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "b", cfg, device="cpu", resume=True)
    assert resumed.losses == full.losses and len(full.losses) == 4
    a, b = load_file(str(full.lora)), load_file(str(resumed.lora))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.endswith("lora_B.weight") and a[k].abs().sum() > 0 for k in a)  # it trained


def _fixed_loss(model, vm, batch, seeds=range(6)):
    from motioncomic.samplers.cogvideox import make_scheduler
    from motioncomic.training.objective import i2v_loss

    sched = make_scheduler(vm, "DDIM")
    tr, vae = vm.components["transformer"], vm.components["vae"]
    with torch.no_grad(), lora_applied(model, tr):
        return sum(float(i2v_loss(vm, tr, vae, sched, batch, torch.Generator().manual_seed(s))) for s in seeds)


def test_loss_falls_and_lora_moves_output_toward_the_clip(mdir, tmp_path):
    from motioncomic.samplers.i2v import image_to_video
    from motioncomic.training.cache import load_batch

    ds = td.write_dataset(tmp_path / "one", clips=1, frames=9, size=(16, 16), captions=["a red square moves right"])
    cfg = TrainConfig(steps=30, rank=8, alpha=8.0, lr=1e-2, warmup=0, checkpoint_every=30)
    res = train_lora(ds, tc.WORKFLOW_MODEL, tmp_path / "out", cfg, device="cpu")
    vm = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    tuned = with_lora(vm, read_lora(res.lora), 1.0)
    cached = sorted((tmp_path / "out" / "cache").glob("*.video.safetensors"))
    clip = type("C", (), {})()
    clip.video, clip.text = cached[0], cached[0].with_name(cached[0].name.replace(".video.", ".text."))
    batch = load_batch([clip], "cpu", torch.float32)
    assert _fixed_loss(tuned, vm, batch) < 0.7 * _fixed_loss(vm, vm, batch)
    with torch.no_grad():  # the training clip as the model sees it: its cached latents, decoded
        target = vm.components["vae"].decode(batch["latents"].permute(0, 2, 1, 3, 4) / 0.7).sample
    target = (target[0].permute(1, 2, 3, 0) * 0.5 + 0.5).clamp(0, 1)
    image = torch.from_numpy(td.clip_frames(1, 16, 16, 0)[0:1] / 255.0).float()
    run = dict(num_frames=9, steps=8, seed=1, cfg=1.0)
    before = image_to_video(vm, image, "a red square moves right", **run).frames
    after = image_to_video(tuned, image, "a red square moves right", **run).frames
    print("distance to the clip before/after", (before - target).abs().mean(), (after - target).abs().mean())
    assert (after - target).abs().mean() < 0.9 * (before - target).abs().mean()


def test_15_trains_and_its_lora_is_refused_on_10(mdir, tmp_path):
    ds = td.write_dataset(tmp_path / "d15", clips=1, frames=17, size=(16, 24), fps=16.0)
    res = train_lora(ds, "CogVideoX1.5-5B-I2V", tmp_path / "o15", TrainConfig(steps=2, resolution=16, **QUICK),
                     device="cpu")
    assert res.num_frames == 17 and len(res.losses) == 2
    lora = read_lora(res.lora)
    assert lora.base == "cogvideox-1.5-i2v" and lora.layers[next(iter(lora.layers))].scale == 1.0
    vm10 = load_cogvideox(tc.WORKFLOW_MODEL, device="cpu", dtype="fp32")
    with pytest.raises(MotionComicError, match="made for CogVideoX 1.5-i2v"):
        with_lora(vm10, lora, 1.0)


def test_bad_input(mdir, dataset, tmp_path):
    short = td.write_dataset(tmp_path / "short", clips=1, frames=5, size=(16, 16))
    with pytest.raises(MotionComicError, match="5 frames long.*needs at least 9"):
        train_lora(short, tc.WORKFLOW_MODEL, tmp_path / "x", TrainConfig(steps=1), device="cpu")
    with pytest.raises(MotionComicError, match="text-to-video"):
        train_lora(dataset, "CogVideoX-5b", tmp_path / "x", TrainConfig(steps=1), device="cpu")
    with pytest.raises(MotionComicError, match="matches no layer.*to_q"):
        train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "x", TrainConfig(steps=1, targets=("qkv",)), device="cpu")
    with pytest.raises(MotionComicError, match="no manifest.jsonl"):
        train_lora(tmp_path, tc.WORKFLOW_MODEL, tmp_path / "x", TrainConfig(steps=1), device="cpu")
    with pytest.raises(MotionComicError, match="--lr must be a positive"):
        TrainConfig(lr=float("nan")).check()


def test_cli(mdir, dataset, tmp_path, capsys):
    from motioncomic.cli import main

    out = tmp_path / "cli"
    args = ["train-lora", str(dataset), "--model", tc.WORKFLOW_MODEL, "--models-dir", str(mdir), "-o", str(out),
            "--steps", "2", "--rank", "4", "--alpha", "2", "--device", "cpu", "--checkpoint-every", "1"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip().endswith("pytorch_lora_weights.safetensors")
    assert read_lora(out / ckpt.LORA_FILE).layers[next(iter(read_lora(out / ckpt.LORA_FILE).layers))].scale == 0.5
    assert main(args) == 2 and "--resume" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0  # already finished: nothing to redo, same LoRA
    assert main(args[:-2] + ["--targets", ""]) == 2 and "--targets is empty" in capsys.readouterr().err


def _refuse_weights(*a, **kw):
    pytest.fail("model weights were read before the inputs were checked")


@pytest.fixture
def no_weights(monkeypatch):
    """Fails the test if a model's weights are read."""
    monkeypatch.setattr(cogvideox, "load_cogvideox", _refuse_weights)


def test_inputs_are_checked_before_any_weight_is_read(mdir, dataset, tmp_path, no_weights):
    with pytest.raises(MotionComicError, match="10 frames is not possible.*Nearest valid: 9"):
        train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "x", TrainConfig(steps=1, frames=10), device="cpu")
    with pytest.raises(MotionComicError, match="CogVideoX-5b is a text-to-video model"):
        train_lora(dataset, "CogVideoX-5b", tmp_path / "x", TrainConfig(steps=1), device="cpu")
    d15 = td.write_dataset(tmp_path / "d15", clips=1, frames=17, size=(16, 24), fps=16.0)
    with pytest.raises(MotionComicError, match="--resolution 20 does not suit CogVideoX1.5-5B-I2V.*multiple of 16"):
        train_lora(d15, "CogVideoX1.5-5B-I2V", tmp_path / "x", TrainConfig(steps=1, resolution=20), device="cpu")
    hostile = shutil.copytree(dataset, tmp_path / "hostile")
    lines = (hostile / "manifest.jsonl").read_text().splitlines()
    lines[1] = json.dumps({**json.loads(lines[1]), "video": "../../x.mp4"})
    (hostile / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="manifest.jsonl line 2: '../../x.mp4' is not a file under clips/"):
        train_lora(hostile, tc.WORKFLOW_MODEL, tmp_path / "x", TrainConfig(steps=1), device="cpu")
    # --force with a refused run keeps the run it would have replaced
    old = tmp_path / "old" / "checkpoints" / "step-000002"
    old.mkdir(parents=True)
    (old / ckpt.STATE_FILE).write_bytes(b"an earlier run")
    with pytest.raises(MotionComicError, match="10 frames is not possible"):
        train_lora(dataset, tc.WORKFLOW_MODEL, tmp_path / "old", TrainConfig(steps=1, frames=10), device="cpu",
                   force=True)
    assert (old / ckpt.STATE_FILE).read_bytes() == b"an earlier run"
    # resuming a 1.0 run with the 1.5 model
    (old / ckpt.STATE_FILE).unlink()
    torch.save({"step": 2, "optimizer": {}, "rng": torch.Generator().get_state(), "losses": [1.0, 1.0],
                "config": TrainConfig(steps=1).to_dict(), "variant": "1.0-i2v"}, old / ckpt.STATE_FILE)
    save_file({"transformer.x.lora_A.weight": torch.zeros(1)}, str(old / ckpt.LORA_FILE))
    with pytest.raises(MotionComicError, match="trained on CogVideoX 1.0-i2v, and CogVideoX1.5-5B-I2V is 1.5-i2v"):
        train_lora(d15, "CogVideoX1.5-5B-I2V", tmp_path / "old", TrainConfig(steps=1), device="cpu", resume=True)


def test_a_damaged_checkpoint_says_which_and_what_to_do(mdir, dataset, tmp_path, monkeypatch):
    cfg = TrainConfig(steps=2, **{**QUICK, "checkpoint_every": 1})
    out = tmp_path / "run"
    train_lora(dataset, tc.WORKFLOW_MODEL, out, cfg, device="cpu")
    last = ckpt.list_checkpoints(out)[-1]
    state, lora = (last / ckpt.STATE_FILE).read_bytes(), load_file(str(last / ckpt.LORA_FILE))
    advice = "step-000002 cannot be resumed: {}.*Delete the folder step-000002 .*--force to start over"

    def resume():
        return train_lora(dataset, tc.WORKFLOW_MODEL, out, cfg, device="cpu", resume=True)

    with monkeypatch.context() as m:  # these are found before the model is loaded
        m.setattr(cogvideox, "load_cogvideox", _refuse_weights)
        (last / ckpt.STATE_FILE).write_bytes(state[: len(state) // 2])
        with pytest.raises(CheckpointError, match=advice.format("state.pt is unreadable")):
            resume()
        raw = torch.load(io.BytesIO(state), weights_only=True)
        torch.save({k: v for k, v in raw.items() if k != "config"}, last / ckpt.STATE_FILE)
        with pytest.raises(CheckpointError, match=advice.format("state.pt has no valid config")):
            resume()
        torch.save({**raw, "config": {"rank": 4}}, last / ckpt.STATE_FILE)
        with pytest.raises(CheckpointError, match=advice.format("the settings in state.pt are incomplete")):
            resume()
        (last / ckpt.STATE_FILE).write_bytes(state)
        (last / ckpt.LORA_FILE).write_bytes((last / ckpt.LORA_FILE).read_bytes()[:-8])
        with pytest.raises(CheckpointError, match=advice.format("pytorch_lora_weights.safetensors is missing")):
            resume()
    gone = sorted(lora)[0]
    save_file({k: v for k, v in lora.items() if k != gone}, str(last / ckpt.LORA_FILE))
    with pytest.raises(CheckpointError, match=advice.format(f"in pytorch_lora_weights.safetensors 1 of the run's "
                                                            f"{len(lora)} LoRA tensors are missing \\({gone}")):
        resume()
    shutil.rmtree(last)  # as the message advises: resume from the checkpoint before it
    assert len(resume().losses) == 2
