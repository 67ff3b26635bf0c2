"""LLM prompt expansion for image-to-video, with a rule-based fallback."""
