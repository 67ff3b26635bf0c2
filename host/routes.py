"""HTTP routes on ComfyUI's server. Handlers run in a worker thread, never on the event loop, so a
slow request (reading checkpoint headers) cannot stall the server for everyone."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Longest query string a route accepts (names, numbers): anything longer is not a real request.
MAX_QUERY_CHARS = 4096


async def answer(handler: Callable[[dict[str, str]], Any], query: dict[str, str]) -> tuple[int, Any]:
    """(status, JSON body) for one request: the handler's result, 400 with its message for a
    :class:`MotionComicError`, 500 without details (they go to the log) for anything else."""
    from ..errors import MotionComicError

    if sum(len(k) + len(v) for k, v in query.items()) > MAX_QUERY_CHARS:
        return 400, {"error": "query too long"}
    try:
        return 200, await asyncio.to_thread(handler, query)
    except MotionComicError as e:
        return 400, {"error": str(e)}
    except Exception:  # never leak a traceback, a path or a file's content to the client
        log.exception("motioncomic route failed")
        return 500, {"error": "internal error (see the ComfyUI log)"}


def register_get_route(path: str, handler: Callable[[dict[str, str]], Any]) -> None:
    """Serve ``handler(query: dict[str, str]) -> JSON-able`` at ``GET path`` on ComfyUI's server."""
    from aiohttp import web
    from server import PromptServer

    async def _route(request):
        status, body = await answer(handler, dict(request.rel_url.query))
        return web.json_response(body, status=status)

    PromptServer.instance.routes.get(path)(_route)
