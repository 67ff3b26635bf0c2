"""Image-to-video sampling: framing (pad/crop plan), the shared entry, one engine per family."""
