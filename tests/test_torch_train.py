"""Tests of utils.torch.core (gradient clipping, ids) and of utils.torch.train's
TrainConfig, which refuses a wrong setting when it is built."""
import math

import pytest
import torch

from utils.torch.core import clip_gradients, full_float32


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


@pytest.mark.parametrize("changes, error, pattern", [
    (dict(num_epochs=0), ValueError, r"TrainConfig.num_epochs must be at least 1"),
    (dict(num_epochs=2.0), TypeError, r"TrainConfig.num_epochs must be an int"),
    (dict(lr="0.1"), TypeError, r"TrainConfig.lr must be a number, got str"),
    (dict(lr=-1.0), ValueError, r"TrainConfig.lr must be greater than 0"),
    (dict(optimizer="adamw"), ValueError, r"TrainConfig.optimizer must be one of"),
    (dict(clip=-1.0), ValueError, r"TrainConfig.clip must be greater than 0"),
    (dict(weight_decay=-0.1), ValueError, r"TrainConfig.weight_decay must be at least"),
    (dict(lr_schedule="step"), ValueError, r"TrainConfig.lr_schedule must be one of"),
    (dict(lr_schedule="plateau", lr_decay=4.0), ValueError, r"write 0.25"),
    (dict(lr_decay=0.5), ValueError, r"acts only with lr_schedule='plateau'"),
    (dict(reset_state=1), TypeError, r"TrainConfig.reset_state must be True or False"),
    (dict(bf16="yes"), TypeError, r"TrainConfig.bf16 must be True or False"),
    (dict(eval_num_steps=0), ValueError, r"TrainConfig.eval_num_steps must be at least"),
])
def test_train_config_refuses_wrong_settings(changes, error, pattern):
    from utils.torch.train import TrainConfig
    settings = dict(num_epochs=2, lr=0.1)
    settings.update(changes)
    with pytest.raises(error, match=pattern):
        TrainConfig(**settings)


def test_fit_wants_a_train_config():
    from utils.torch.train import fit
    with pytest.raises(TypeError, match="cfg must be a TrainConfig"):
        fit(torch.nn.Linear(2, 2), [], None, {"num_epochs": 1}, "cpu")


def test_as_ids_passes_a_long_tensor_on_its_device_through():
    from utils.torch.core import as_ids
    ids = torch.arange(6).reshape(2, 3)
    assert as_ids(ids, "cpu") is ids
    assert as_ids(ids.int(), "cpu").dtype == torch.long


def test_select_device_is_the_gpu_when_there_is_one():
    from utils.torch.core import select_device
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device() == torch.device(expected)


def test_full_float32_turns_tf32_off_and_restores_it():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        with full_float32():
            assert not torch.backends.cuda.matmul.allow_tf32
            assert not torch.backends.cudnn.allow_tf32
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
