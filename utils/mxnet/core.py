"""What every MXNet chapter needs at the edge: the device (an MXNet *context*).

Each framework of the book has one such helper, ``select_device`` in its ``core``
module. MXNet names a device a context and passes it to every array and parameter
that should live there (``as_in_context(ctx)``, ``initialize(ctx=ctx)``).
"""
from __future__ import annotations

from . import import_mxnet

mx, _ = import_mxnet()


def select_device():
    """The first GPU when this MXNet build sees one, else the CPU (an ``mx.Context``)."""
    return mx.gpu(0) if mx.context.num_gpus() > 0 else mx.cpu()
