"""A stand-in GPU for CPU-only tests: tensors "on the device" that refuse CPU tensors.

CI has no GPU, and a tensor left on the CPU while the model is on a GPU fails only on
a GPU ("Expected all tensors to be on the same device"). ``DeviceGuard`` finds that
slip on a CPU. Inside ``with DeviceGuard() as guard:``, ``guard.device`` (the CPU
under the name ``cpu:0``) plays the GPU: a tensor is *on the device* when it was
created with ``device=guard.device``, moved with ``.to(guard.device)``, is a
parameter or buffer of a module moved there, or is computed from such a tensor. An
operation that meets a tensor on the device and a CPU tensor with at least one
dimension raises, as CUDA would (0-dimensional CPU tensors mix freely, as on a GPU,
the lengths of ``pack_padded_sequence`` must be on the CPU, and a tensor on the
device may be indexed with CPU indices). ``.cpu()``,
``.to("cpu")`` and ``.numpy()`` bring a copy back.

PyTorch's ``meta`` device does not do this: an ``nn.Embedding`` on ``meta`` accepts
CPU indices, and a meta tensor has no values to carry on with.
"""
from __future__ import annotations

import weakref

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

DEVICE = torch.device("cpu", 0)    # the stand-in GPU: the CPU under another name
_MOVES = ("to", "cpu", "cuda", "numpy", "tolist", "item")  # bring values across
_LENGTHS_ON_CPU = ("_pack_padded_sequence",)  # PyTorch wants these lengths on the CPU
_INDEXING = ("__getitem__", "__setitem__")  # a GPU tensor may take CPU indices


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def _names_device(value) -> bool:
    return isinstance(value, (str, torch.device)) and torch.device(value) == DEVICE


class DeviceGuard(TorchFunctionMode):
    """See the module docstring. ``guard.device`` plays the GPU."""

    device = DEVICE

    def __init__(self):
        super().__init__()
        self._on_device: dict[int, weakref.ref] = {}

    # -- bookkeeping
    def on_device(self, tensor: torch.Tensor) -> bool:
        ref = self._on_device.get(id(tensor))
        return ref is not None and ref() is tensor

    def _mark(self, tensor: torch.Tensor) -> None:
        self._on_device[id(tensor)] = weakref.ref(tensor)

    def _unmark(self, tensor: torch.Tensor) -> None:
        self._on_device.pop(id(tensor), None)

    def _module_to(self, module: nn.Module, *args, **kwargs):
        with torch._C.DisableTorchFunction():   # the guard stays out of Module.to
            moved = self._original_module_to(module, *args, **kwargs)
        target = kwargs.get("device", args[0] if args else None)
        if isinstance(target, (str, torch.device)):
            for tensor in (*module.parameters(), *module.buffers()):
                (self._mark if _names_device(target) else self._unmark)(tensor)
        return moved

    def __enter__(self):
        self._original_module_to = nn.Module.to
        guard = self
        nn.Module.to = lambda module, *a, **k: guard._module_to(module, *a, **k)
        return super().__enter__()

    def __exit__(self, *exc):
        nn.Module.to = self._original_module_to
        return super().__exit__(*exc)

    # -- every torch function and tensor method passes here
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        inputs = list(_tensors((args, kwargs)))
        on_device = [self.on_device(t) for t in inputs]
        if name == "__get__" and inputs and on_device[0] and \
                getattr(getattr(func, "__self__", None), "__name__", "") == "device":
            return DEVICE                             # x.device of a tensor there
        cpu_indices_ok = name in _INDEXING and on_device[:1] == [True]
        if any(on_device) and name not in _MOVES + _LENGTHS_ON_CPU and not cpu_indices_ok:
            strays = [t for t, there in zip(inputs, on_device) if not there and t.dim()]
            if strays:
                raise RuntimeError(
                    f"Expected all tensors to be on the same device: {name} got a CPU "
                    f"tensor of shape {tuple(strays[0].shape)} and tensors on "
                    f"{DEVICE} (the stand-in GPU); move it with .to(device)")
        result = func(*args, **kwargs)
        target = kwargs.get("device")
        if name in ("to", "cpu", "cuda") and args:
            if name == "to" and target is None:
                target = next((a for a in args[1:] if isinstance(a, (str, torch.device))),
                              None)
            if name == "cpu" or target is not None:
                if isinstance(result, torch.Tensor) and result is args[0]:
                    result = result.clone()          # the copy lives on its own
                if name == "cpu" or not _names_device(target):
                    self._unmark(result)
                else:
                    self._mark(result)
                return result
        if _names_device(target) or (any(on_device) and name not in _MOVES):
            for tensor in _tensors(result):
                self._mark(tensor)
        return result
