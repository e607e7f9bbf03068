"""Tests of utils.torch.core: gradient clipping."""
import math

import pytest
import torch

from utils.torch.core import clip_gradients


def params_with_grads(*grads):
    params = []
    for grad in grads:
        param = torch.nn.Parameter(torch.zeros_like(grad))
        param.grad = grad.clone()
        params.append(param)
    return params


def test_clip_gradients_rescales_to_the_bound_and_keeps_the_direction():
    params = params_with_grads(torch.tensor([3.0, 0.0]), torch.tensor([[0.0], [4.0]]))
    assert clip_gradients(params, 1.0) == pytest.approx(5.0)        # the norm before
    assert params[0].grad.tolist() == pytest.approx([0.6, 0.0])
    assert params[1].grad.flatten().tolist() == pytest.approx([0.0, 0.8])
    assert clip_gradients(params, 2.0) == pytest.approx(1.0)        # below: untouched
    assert params[0].grad.tolist() == pytest.approx([0.6, 0.0])
    assert clip_gradients(params, math.inf) == pytest.approx(1.0)   # only measures
    assert clip_gradients([torch.nn.Parameter(torch.zeros(2))], 1.0) == 0.0  # no grads


def test_clip_gradients_norm_is_accurate_on_a_large_float32_gradient():
    """A decoder-sized gradient: the norm agrees with float64 to float32 rounding.

    (PyTorch's float32 ``vector_norm`` on the CPU was off by about 3e-5 on this tensor
    with torch 2.13; clipping with it would scale every update by a wrong factor.)
    """
    grad = torch.randn(10_000, 200, generator=torch.Generator().manual_seed(0)) * 1e-3
    exact = grad.double().norm().item()
    assert clip_gradients(params_with_grads(grad), math.inf) == pytest.approx(
        exact, rel=1e-6)


def test_as_ids_makes_int64_tensors_from_arrays_lists_and_tensors():
    import numpy as np

    from utils.torch.core import as_ids
    for data in (np.array([[1, 2], [3, 4]], dtype=np.int32), [[1, 2], [3, 4]],
                 torch.tensor([[1, 2], [3, 4]])):
        ids = as_ids(data, "cpu")
        assert ids.dtype == torch.long and ids.tolist() == [[1, 2], [3, 4]]
