"""SGM-VFI (sparse global matching video frame interpolation, CVPR 2024) in plain PyTorch.

``loader.load_sgm_vfi`` builds the network from the official checkpoints and returns an
:class:`~motioncomic.interpolation.base.Interpolator`. Nothing heavy is imported here.
"""
