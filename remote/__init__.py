"""Client side of ComfyUI's HTTP API: submit workflows, follow progress, fetch outputs, run batches.

Standard library only (``urllib`` + a small RFC 6455 websocket client in ``ws.py``), so the
``submit`` command works on a machine that has nothing but Python.
"""
