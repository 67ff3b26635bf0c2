"""Turn the shared entry's ``steps``/``cfg`` and a free-form options dict into an engine's settings."""
from __future__ import annotations

import logging
from dataclasses import MISSING

from ..errors import MotionComicError

log = logging.getLogger(__name__)


def build_options(cls, family: str, steps=None, cfg=None, options: dict | None = None,
                  none_means_default: bool = True):
    """An instance of the dataclass ``cls`` (which has ``steps`` and ``cfg`` fields).

    Keys of ``options`` that ``cls`` does not have are logged and ignored: an options node meant
    for another family must not break the graph. With ``none_means_default`` a ``None`` value
    keeps the field's default; otherwise ``None`` is passed on (it may mean "off").
    """
    fields = cls.__dataclass_fields__
    given = dict(options or {})
    unknown = sorted(set(given) - set(fields))
    if unknown:
        log.info("%s ignores options %s", family, unknown)
    kw = {k: v for k, v in given.items() if k in fields and not (none_means_default and v is None)}
    if steps is not None:
        kw["steps"] = int(steps)
    if cfg is not None:
        kw["cfg"] = float(cfg)
    opts = cls(**kw)
    if opts.steps < 1:
        default = fields["steps"].default
        hint = f"; {family} uses {default} by default" if default is not MISSING else ""
        raise MotionComicError(f"steps must be at least 1 (got {opts.steps}){hint}")
    return opts
