"""Face detection, alignment, identity swap and enhancement from the reference image."""
