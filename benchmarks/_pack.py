"""Shared by the benchmark scripts: import the checkout as ``motioncomic`` and read peak memory."""
from __future__ import annotations

import importlib.util
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def import_pack(root: Path | str = ROOT, name: str = "motioncomic"):
    """Import the checkout at ``root`` as the package ``name`` (once per process and name) and return
    it. Another name imports a second checkout beside this one (an older release to compare with)."""
    root = Path(root).resolve()
    if not (root / "__init__.py").is_file():
        raise SystemExit(f"{root} is not a checkout of the pack (no __init__.py): pass the folder of a clone "
                         "or worktree, e.g. `git worktree add /tmp/mc-0.1.0 8080e1c`")
    if name in sys.modules:
        loaded = Path(sys.modules[name].__file__).resolve().parent
        if loaded != root:
            raise SystemExit(f"{name} is already imported from {loaded}, not {root}")
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_json(script: str | Path, *args: str) -> dict:
    """Run ``python script args...`` in a fresh process and parse the JSON of its last output line
    (memory is measured in children: Linux carries a parent's RSS high-water mark into a fork)."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def single_file_load_ram(script: str | Path, big_file: str) -> dict:
    """Peak RAM of loading a big single-file transformer: ``script --child-write DIR`` writes the models
    dir, ``script --child-load DIR`` loads it and prints base/peak/model MB; figures against the file size."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        models = Path(d) / "models"
        subprocess.run([sys.executable, str(script), "--child-write", str(models)], check=True, capture_output=True)
        size = (models / "diffusion_models" / big_file).stat().st_size
        r = child_json(script, "--child-load", str(models))
    file_mb = size / 2**20
    grown = r["peak_mb"] - r["base_mb"]
    return {"file_mb": round(file_mb, 1), "model_mb": round(r["model_mb"], 1), "peak_minus_base_mb": round(grown, 1),
            "multiple_of_file": round(grown / file_mb, 3)}


def print_load_ram(load, component: str = "transformer") -> None:
    """In a ``--child-load`` process (heavy imports done): run ``load()`` and print the RSS before and
    after it and the size of the loaded ``component`` as one JSON line."""
    import json

    base = peak_rss_mb()
    vm = load()
    peak = peak_rss_mb()
    params = sum(p.numel() * p.element_size() for p in vm.components[component].parameters())
    print(json.dumps({"base_mb": base, "peak_mb": peak, "model_mb": params / 2**20}))


def import_heavy() -> None:
    """Import torch, diffusers, transformers and accelerate before a measured load (so they are in the
    base RSS, not in the figure)."""
    import accelerate  # noqa: F401
    import diffusers  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401


def import_tests() -> None:
    """Put ``tests/`` on the path and import its conftest (which imports the checkout as ``motioncomic``),
    for benchmarks that build the suite's tiny models."""
    sys.path.insert(0, str(ROOT / "tests"))
    import conftest  # noqa: F401


def write_random_safetensors(path: Path, model_cls, config: dict, rename=None, dtype=None) -> int:
    """A random-weight ``model_cls(**config)`` (built without allocating: accelerate's empty weights)
    written to ``path`` as safetensors, keys through ``rename``, values ``randn * 0.02`` in ``dtype``.
    Returns the file size."""
    import torch
    from accelerate import init_empty_weights
    from safetensors.torch import save_file

    with init_empty_weights():
        model = model_cls(**config)
    g = torch.Generator().manual_seed(0)
    sd = {(rename(k) if rename else k): (torch.randn(v.shape, generator=g) * 0.02).to(dtype or torch.float32)
          for k, v in model.state_dict().items()}
    save_file(sd, str(path))
    return Path(path).stat().st_size


def interleaved_best(ours, theirs, repeats: int) -> tuple[float, float, object, object]:
    """Best-of-``repeats`` seconds of ``ours()`` and ``theirs()`` after one warm-up each, run in turn so
    machine load affects both alike; also their last results."""
    import time

    ours(), theirs()
    t_ours, t_theirs = [], []
    for _ in range(repeats):
        t = time.perf_counter(); a = ours(); t_ours.append(time.perf_counter() - t)  # noqa: E702
        t = time.perf_counter(); b = theirs(); t_theirs.append(time.perf_counter() - t)  # noqa: E702
    return min(t_ours), min(t_theirs), a, b


def print_decode(decode, tiling: str) -> None:
    """In a ``--child-decode`` process: run ``decode(tiling, report)`` and print base/peak RSS, seconds,
    the output shape and whether the VAE tiled, as one JSON line."""
    import json
    import time

    base = peak_rss_mb()
    t = time.perf_counter()
    report: list[str] = []
    out = decode(tiling, report)
    print(json.dumps({"base_mb": base, "peak_mb": peak_rss_mb(), "seconds": time.perf_counter() - t,
                      "shape": list(out.shape), "tiled": "VAE tiling: on" in report}))
