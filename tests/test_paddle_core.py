"""utils.paddle.core: the device and the one converter at Paddle's edge."""
import numpy as np
import pytest

core = pytest.importorskip("utils.paddle.core")


def test_to_tensor_makes_contiguous_int64_tensors():
    ids = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]     # not contiguous
    tensor = core.to_tensor(ids)
    assert str(tensor.dtype).endswith("int64") and tensor.shape == [3, 2]
    assert tensor.numpy().tolist() == [[0, 2], [4, 6], [8, 10]]


def test_select_device_names_the_cpu_here():
    import paddle
    name = core.select_device()
    if not paddle.device.is_compiled_with_cuda():
        assert name.startswith("CPU (") and paddle.get_device() == "cpu"
