"""utils.mxnet: the names NumPy removed that MXNet 1.9 reads, restored.

These tests use a stand-in module shaped like NumPy 2 (the real NumPy's types and
functions, without the removed names), so they run on any installed NumPy and need
no MXNet.
"""
import math
import types

import numpy as np
import pytest

import utils.mxnet as mxnet_compat


def _numpy_like(version: str) -> types.ModuleType:
    fake = types.ModuleType("numpy")
    kept = ("float64", "complex128", "complex64", "str_", "bytes_", "longdouble",
            "clongdouble", "all", "any", "prod", "cumprod", "round", "sort", "asarray",
            "issubdtype", "inexact", "asmatrix", "array", "transpose", "int8", "int16",
            "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
            "float32", "void")
    for name in kept:
        setattr(fake, name, getattr(np, name))
    fake.__version__ = version
    return fake


def test_numpy2_gets_every_name_back_with_its_old_meaning():
    fake = _numpy_like("2.1.3")
    added = mxnet_compat.restore_numpy_names(fake)
    assert set(added) == set(mxnet_compat.NUMPY2_ALIASES)
    assert fake.bool is bool and fake.object is object and fake.float_ is np.float64
    assert fake.unicode_ is np.str_ and fake.string_ is np.bytes_
    assert fake.PZERO == 0.0 and math.copysign(1, fake.NZERO) == -1
    assert fake.NINF == -math.inf and math.isnan(fake.NaN)
    assert fake.alltrue([True, True]) and not fake.sometrue([False])
    assert fake.product([2, 3]) == 6 and list(fake.cumproduct([2, 3])) == [2, 6]
    np.testing.assert_array_equal(fake.msort(np.array([[3, 1], [2, 4]])),
                                  [[2, 1], [3, 4]])
    assert fake.asfarray([1, 2]).dtype == np.float64
    assert fake.issubclass_(bool, int) and not fake.issubclass_(3, int)
    np.testing.assert_array_equal(fake.fastCopyAndTranspose([[1, 2]]), [[1], [2]])
    assert np.float32 in fake.sctypes["float"]
    with pytest.raises(NotImplementedError, match="numpy.pmt was removed"):
        fake.pmt(0.05, 10, 1000)


def test_names_numpy_still_has_are_left_alone_and_a_second_call_adds_nothing():
    fake = _numpy_like("2.0.2")
    fake.round_ = "kept"
    mxnet_compat.restore_numpy_names(fake)
    assert fake.round_ == "kept"
    assert mxnet_compat.restore_numpy_names(fake) == []


def test_numpy1_gets_only_the_bool_alias():
    fake = _numpy_like("1.26.4")
    assert mxnet_compat.restore_numpy_names(fake) == ["bool"]
    assert not hasattr(fake, "float_") and not hasattr(fake, "pmt")
