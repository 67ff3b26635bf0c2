"""The only package that touches ComfyUI internals.

Inside ComfyUI it wraps ``folder_paths`` (model folders, input/output folders),
``comfy.model_management`` (device, memory, interrupt, unloading), ``comfy.utils.ProgressBar`` and
the server's routes. Standalone (tests, ``python -m motioncomic``) it uses a models directory
(``set_models_dir`` or ``$MOTIONCOMIC_MODELS_DIR``, default ``./models``), a console progress bar and
a process-wide cancel flag (``request_cancel``).

- ``folders``: the one confined model resolver ``find_model`` and the cached choice lists.
- ``memory``: devices, ``on_device``, ``place``, ``manage`` (ComfyUI's model management).
- ``progress``: ``Progress``, cancel and the live-preview setting.  ``outputs``: ``save_path``.  ``routes``: HTTP routes.

Everything is imported lazily so that importing the pack stays cheap.
"""
from __future__ import annotations

from .folders import (  # noqa: F401
    DOCS_MODELS, KNOWN_SOURCES, MODEL_FOLDERS, add_search_path, clean_name, configured_models_dir, empty_choice,
    find_input, find_model, frame_interpolation_rife_dirs, input_dir, list_dirs, list_files, list_input_files,
    models_dir, output_dir, register_model_folders, search_paths, set_models_dir, temp_dir,
)
from .memory import (  # noqa: F401
    DEVICE_CHOICES, clear_caches, device_named, free_memory, is_oom, manage, managed_status, module_bytes,
    offload_device, on_device, place, register_cache, soft_empty_cache, torch_device, touch_cache,
)
from .outputs import check_output_prefix, metadata_disabled, relative_to_output, save_path  # noqa: F401
from .presence import in_comfyui  # noqa: F401
from .progress import (  # noqa: F401
    Progress, cancel_exceptions, check_cancel, clear_cancel, preview_settings, request_cancel,
)
from .routes import register_get_route  # noqa: F401
