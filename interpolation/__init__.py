"""Frame interpolation (optical flow without weights, SGM-VFI)."""
