"""What every Paddle chapter needs at the edge: the device, and ids as tensors.

``select_device`` is Paddle's way of choosing where to train: ``paddle.set_device``
sets it for the whole process, so the chapter calls it once, at the top.
"""
from __future__ import annotations

import numpy as np

from ..runs import cpu_name
from . import import_paddle

paddle = import_paddle()


def select_device() -> str:
    """Train on the first GPU when this Paddle build sees one, else on the CPU.

    Sets Paddle's process-wide device (``paddle.set_device``) and returns a readable
    name of it (``CPU (2 cores, ...)`` or the GPU's name).
    """
    if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
        paddle.set_device("gpu:0")
        return paddle.device.cuda.get_device_name(0)
    paddle.set_device("cpu")
    return cpu_name()


def to_tensor(ids: np.ndarray):
    """Token ids (a NumPy array) as a Paddle int64 tensor: the one converter at the edge."""
    return paddle.to_tensor(np.ascontiguousarray(ids, dtype=np.int64))
