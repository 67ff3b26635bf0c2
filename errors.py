"""Errors a user can act on.

Every exception we raise for bad input derives from :class:`MotionComicError` (a ``ValueError``)
and carries a message that says what was wrong and what to do about it. ComfyUI shows the message
in the UI; the CLI prints it without a traceback.
"""
from __future__ import annotations


class MotionComicError(ValueError):
    """Bad input or a missing/unsuitable file: the message tells the user what to do."""


class ModelNotFoundError(MotionComicError, FileNotFoundError):
    """A model file or folder is missing; the message names where we looked."""


class CheckpointError(MotionComicError):
    """A checkpoint is truncated, unreadable, of another family, or missing keys."""


class DatasetError(MotionComicError):
    """A training dataset folder or its manifest is unusable (e.g. names files outside the folder)."""


class Cancelled(RuntimeError):
    """The user cancelled a run (standalone equivalent of ComfyUI's interrupt)."""
