"""Training: dataset preparation from footage (``prepare``) and LoRA training.

Never imported by ``nodes/`` at import time: everything here is reached from the CLI or imported
lazily inside a function.
"""
