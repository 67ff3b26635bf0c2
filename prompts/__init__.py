"""LLM prompt expansion for image-to-video, with a rule-based fallback.

Public entry points (import the submodule; nothing heavy is imported here):

- ``expand.expand_prompt(text, family=..., action=..., camera=..., style=..., image=...,
  settings=LLMSettings(...), tokenizer=...) -> Expansion(prompt, source, status, report)``
- ``budget.fit_to_budget(text, family, tokenizer=None, *, suffix="", limit=None)
  -> (text, BudgetReport)`` and ``budget.opensora_suffix(...)`` for the samplers.
- ``presets.ACTIONS`` / ``CAMERAS`` / ``STYLES``; ``fallback.fallback_expand``.
"""
