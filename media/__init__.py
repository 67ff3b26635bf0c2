"""Image and video file I/O through the real ffmpeg (imageio-ffmpeg)."""
