"""Batch production: (image, prompt, seed, workflow) rows spread over one or more ComfyUI servers.

Each server runs jobs from its own queue: ``per_server`` worker threads per server keep that many
prompts queued there (2 by default, so the GPU starts the next job while the last one downloads).
Failed jobs are retried (on whichever server is free next); a server that cannot be reached three
times in a row is dropped. A workflow the server rejects (or whose inputs cannot be overridden) is not retried: it
would fail again.
The manifest (``manifest.json`` + ``manifest.csv`` in the output folder) is rewritten after every
job, so an interrupted batch keeps its results and ``resume`` skips the jobs already done.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import queue
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, MotionComicError
from .comfy_api import ComfyClient, ExecutionFailed, ServerUnavailable
from .workflow import apply_overrides, load_workflow

log = logging.getLogger(__name__)

MANIFEST_FIELDS = ["job", "status", "server", "attempts", "seconds", "files", "error", "prompt_id",
                   "image", "prompt", "seed", "workflow"]


@dataclass
class Job:
    id: str
    workflow: Path
    image: Path | None = None
    prompt: str | None = None
    seed: int | None = None


@dataclass
class JobResult:
    job: str
    status: str = "pending"  # ok | failed
    server: str = ""
    attempts: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    error: str = ""
    prompt_id: str = ""
    image: str = ""
    prompt: str = ""
    seed: int | None = None
    workflow: str = ""


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "job"


def read_jobs(path: str | os.PathLike, default_workflow: str | os.PathLike | None = None) -> list[Job]:
    """Rows of a CSV with columns ``image, prompt, seed, workflow`` (and optional ``id``).

    Relative paths are relative to the CSV's folder; an empty ``workflow`` uses ``default_workflow``.
    Every row is checked before anything is sent (files exist, seeds are integers, ids unique).
    """
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:  # the csv module's own newline handling:
            reader = csv.DictReader(f)                          # a quoted prompt may span lines
            rows, lines = [], []
            for row in reader:  # a row ends on line_num and spans as many lines as its values hold
                rows.append(row)
                lines.append(reader.line_num - sum(v.count("\n") for v in row.values() if isinstance(v, str)))
    except OSError as exc:
        raise MotionComicError(f"cannot read the jobs file {p}: {exc}") from exc
    if not rows:
        raise MotionComicError(f"{p} has no job rows (header: image,prompt,seed,workflow)")
    unknown = set(rows[0]) - {"id", "image", "prompt", "seed", "workflow", None}
    if unknown:
        raise MotionComicError(f"{p.name}: unknown columns {sorted(unknown)}; use id,image,prompt,seed,workflow")
    jobs, seen, problems = [], set(), []
    for n, (i, row) in enumerate(zip(lines, rows), start=1):  # i: the row's first line as an editor shows it
        get = lambda k: (row.get(k) or "").strip()  # noqa: E731
        wf = get("workflow") or (str(default_workflow) if default_workflow else "")
        if not wf:
            problems.append(f"line {i}: no workflow (column empty and no WORKFLOW argument)")
            continue
        wf_path = (p.parent / wf) if not Path(wf).is_absolute() and not (Path(wf).exists()) else Path(wf)
        if not wf_path.is_file():
            problems.append(f"line {i}: workflow not found: {wf}")
        image = None
        if get("image"):
            image = p.parent / get("image") if not Path(get("image")).is_absolute() else Path(get("image"))
            if not image.is_file():
                problems.append(f"line {i}: image not found: {get('image')}")
        seed = None
        if get("seed"):
            try:
                seed = int(get("seed"))
            except ValueError:
                problems.append(f"line {i}: seed {get('seed')!r} is not an integer")
        jid = _safe_id(get("id") or f"job{n:04d}")
        if jid in seen:
            problems.append(f"line {i}: duplicate job id {jid}")
        seen.add(jid)
        jobs.append(Job(jid, wf_path, image, get("prompt") or None, seed))
    if problems:
        raise MotionComicError(f"{p.name} has problems:\n  " + "\n  ".join(problems))
    return jobs


class Manifest:
    """Results so far, written to ``manifest.json`` / ``manifest.csv`` after every change."""

    def __init__(self, out_dir: Path, jobs: list[Job], resume: bool = False):
        self.out_dir = out_dir
        self.lock = threading.Lock()
        previous = {}
        if resume and (out_dir / "manifest.json").is_file():
            previous = {r["job"]: r for r in json.loads((out_dir / "manifest.json").read_text())["jobs"]}
        self.results: dict[str, JobResult] = {}
        for j in jobs:
            old = previous.get(j.id)
            if old and old.get("status") == "ok":
                self.results[j.id] = JobResult(**{k: old.get(k) for k in MANIFEST_FIELDS if k in old})
            else:
                self.results[j.id] = JobResult(j.id, image=str(j.image or ""), prompt=j.prompt or "", seed=j.seed,
                                               workflow=str(j.workflow))

    def done(self, job_id: str) -> bool:
        return self.results[job_id].status == "ok"

    def update(self, result: JobResult) -> None:
        with self.lock:
            self.results[result.job] = result
            self.write()

    def write(self) -> None:
        rows = [asdict(r) for r in self.results.values()]
        summary = {s: sum(r["status"] == s for r in rows) for s in ("ok", "failed", "pending")}
        tmp = self.out_dir / ".manifest.json.tmp"
        tmp.write_text(json.dumps({"summary": summary, "jobs": rows}, indent=2, ensure_ascii=False))
        os.replace(tmp, self.out_dir / "manifest.json")
        tmp = self.out_dir / ".manifest.csv.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, MANIFEST_FIELDS)
            w.writeheader()
            for r in rows:
                w.writerow({**r, "files": ";".join(r["files"]), "seconds": f"{r['seconds']:.2f}"})
        os.replace(tmp, self.out_dir / "manifest.csv")


def run_batch(jobs: list[Job], servers: list[str], out_dir: str | os.PathLike, *, retries: int = 2,
              per_server: int = 2, timeout: float | None = None, resume: bool = False,
              on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run every job on the servers; returns one result per job (also in the manifest)."""
    if not servers:
        raise MotionComicError("no ComfyUI server given (--server URL, repeatable)")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MotionComicError(f"cannot create the output folder {out}: {exc}") from exc
    workflows = {j.workflow: load_workflow(j.workflow) for j in jobs}  # fail early on a bad file
    problems = []
    for j in jobs:  # every override must fit its workflow before anything is sent
        try:
            apply_overrides(workflows[j.workflow], image="probe.png" if j.image else None, text=j.prompt,
                            seed=j.seed)
        except MotionComicError as exc:
            problems.append(f"job {j.id} ({j.workflow.name}): {exc}")
    if problems:
        raise MotionComicError("some jobs do not fit their workflow (nothing was sent):\n  " + "\n  ".join(problems))
    manifest = Manifest(out, jobs, resume)
    manifest.write()
    todo: queue.Queue = queue.Queue()
    remaining = 0
    for j in jobs:
        if not manifest.done(j.id):
            todo.put((j, 1))
            remaining += 1
    state = {"remaining": remaining, "alive": {s: per_server for s in servers}}
    cond = threading.Condition()

    def finish(res: JobResult) -> None:
        manifest.update(res)
        if on_result:
            on_result(res)
        with cond:
            state["remaining"] -= 1
            cond.notify_all()

    def worker(server: str) -> None:
        strikes = 0
        while True:
            with cond:
                if state["remaining"] <= 0:
                    return
            try:
                job, attempt = todo.get(timeout=0.2)
            except queue.Empty:
                continue
            res = manifest.results[job.id]
            res.attempts, res.server = attempt, server
            t0 = time.monotonic()
            try:
                client = ComfyClient(server)
                image = client.upload_image(job.image, subfolder=f"motioncomic/{job.id}") if job.image else None
                prompt, _ = apply_overrides(workflows[job.workflow], image=image, text=job.prompt, seed=job.seed)
                run = client.run(prompt, out / job.id, timeout=timeout)
                res.status, res.prompt_id, res.error = "ok", run.prompt_id, ""
                res.files = [str(f.relative_to(out)) for f in run.files]
                res.seconds = round(time.monotonic() - t0, 3)
                strikes = 0
                finish(res)
                continue
            except ServerUnavailable as exc:
                strikes += 1
                res.error = str(exc)
                retry, free_attempt = True, True
            except (ExecutionFailed, Cancelled) as exc:  # failed or interrupted on the server: may pass again
                res.error, retry, free_attempt = str(exc), True, False
                strikes = 0
            except MotionComicError as exc:  # rejected workflow, override that does not fit: would fail again
                res.error, retry, free_attempt = str(exc), False, False
            except Exception as exc:  # anything unexpected (HTTP 500 ...): worth another try
                res.error, retry, free_attempt = str(exc), True, False
                strikes = 0
            res.seconds = round(time.monotonic() - t0, 3)
            log.warning("job %s attempt %d on %s failed: %s", job.id, attempt, server, res.error.splitlines()[0])
            next_attempt = attempt if free_attempt else attempt + 1
            if retry and next_attempt <= retries + 1:
                todo.put((job, next_attempt))
            else:
                res.status = "failed"
                finish(res)
            if strikes >= 3:
                with cond:
                    state["alive"][server] -= 1
                    if sum(state["alive"].values()) == 0:  # nobody left: fail what is still queued
                        _drain_failed(todo, manifest, finish, "no ComfyUI server reachable")
                log.error("dropping server %s after 3 connection failures", server)
                return

    threads = [threading.Thread(target=worker, args=(s,), daemon=True, name=f"batch-{s}")
               for s in servers for _ in range(max(1, per_server))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return list(manifest.results.values())


def _drain_failed(todo: queue.Queue, manifest: Manifest, finish, reason: str) -> None:
    while True:
        try:
            job, attempt = todo.get_nowait()
        except queue.Empty:
            return
        res = manifest.results[job.id]
        res.status, res.error = "failed", f"{reason}; last error: {res.error}"
        finish(res)  # the condition's lock is re-entrant
