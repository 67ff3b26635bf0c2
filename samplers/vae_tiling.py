"""VAE decoding with tiling when asked, for large frames, or as the retry after running out of memory
(shared by the engines whose diffusers VAEs have ``enable_tiling``/``disable_tiling``)."""
from __future__ import annotations

import logging
from typing import Any, Callable

from .. import host

log = logging.getLogger(__name__)


def decode_tiled_on_oom(vae, decode: Callable[[], Any], tile: bool, tiling: str, report: list[str]) -> Any:
    """Run ``decode()`` with ``vae`` tiling on when ``tile``; on an out-of-memory error without tiling
    (and ``tiling`` not "off") retry once tiled. Tiling is switched off again afterwards; the report
    says when tiles were used and why."""
    for _attempt in range(2):
        if tile:
            vae.enable_tiling()
        try:
            out = decode()
            break
        except Exception as e:  # noqa: BLE001 - only OOM is retried
            if not host.is_oom(e) or tile or tiling == "off":
                raise
            report.append("VAE decode ran out of memory; retried with tiling")
            log.warning("VAE decode out of memory, retrying with tiling")
            host.soft_empty_cache()
            tile = True
        finally:
            if tile:
                vae.disable_tiling()
    if tile:
        report.append("VAE tiling: on")
    return out
