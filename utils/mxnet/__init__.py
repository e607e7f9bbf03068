"""Import MXNet 1.9 and GluonNLP 0.10 on a current Python and NumPy.

MXNet 1.9.1 was released before three changes it trips over:

* NumPy 1.24 removed the alias ``np.bool``, which MXNet still reads when it is
  imported. The alias is restored (as the builtin ``bool``, which it always was).
* NumPy 2.0 removed about 35 more names that MXNet's Python code refers to when it
  is imported (``np.PZERO``, ``np.float_``, ``np.alltrue``, the financial functions
  such as ``np.pmt``...). ``NUMPY2_ALIASES`` restores each as what it stood for;
  the financial functions, which MXNet only registers and the book never calls,
  become stubs that raise ``NotImplementedError`` when called. A name NumPy still
  has is never touched, and on NumPy 1.26 only ``np.bool`` is added.
* Python 3.12 no longer ships ``distutils``, which MXNet imports. ``setuptools``
  carries a copy; importing ``setuptools`` first makes ``import distutils`` find it.

MXNet's OpenMP kernels also use only half of the cores unless ``OMP_NUM_THREADS``
says otherwise (it assumes two hardware threads per core). On a 2-core machine that
is one thread: a training step of the WikiText-2 model took 0.98 s that way and
0.67 s with ``OMP_NUM_THREADS=2``. MXNet reads the variable once, when it loads, so
``import_mxnet`` sets it to the usable cores for the import only, unless it is set
already, and then removes it again: the process environment is left as it was, and
the processes it starts (and other libraries, such as Paddle, which warns when the
variable is set) do not inherit it.

Nothing happens when this module is imported: the shims are applied by
``import_mxnet()``, which the MXNet chapters call instead of ``import mxnet``.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from ..runs import environment_restored, usable_cores

INSTALL_HINT = ("Install them without their requirements (their metadata caps NumPy "
                "below 2; they run on NumPy 2 with the names restored here):  pip "
                "install --no-deps --use-pep517 -r requirements-no-deps.txt")


def _numpy2_aliases(np) -> dict:
    """What each name NumPy 1.24 and 2.0 removed stood for, built from ``np`` itself."""
    def removed(name):
        def stub(*args, **kwargs):
            raise NotImplementedError(
                f"numpy.{name} was removed in NumPy 2.0 (it lives on in the package "
                f"numpy-financial); this stub only lets MXNet 1.9 import.")
        stub.__name__ = name
        return stub

    aliases = {
        # builtin types that NumPy once re-exported
        "bool": bool, "int": int, "float": float, "complex": complex,
        "object": object, "str": str,
        # constants
        "PZERO": 0.0, "NZERO": -0.0, "PINF": float("inf"), "NINF": float("-inf"),
        "NaN": float("nan"), "NAN": float("nan"), "Inf": float("inf"),
        "Infinity": float("inf"), "infty": float("inf"),
        # scalar types under their old names
        "float_": np.float64, "complex_": np.complex128, "unicode_": np.str_,
        "string_": np.bytes_, "longfloat": np.longdouble, "singlecomplex": np.complex64,
        "cfloat": np.complex128, "longcomplex": np.clongdouble,
        "clongfloat": np.clongdouble,
        # functions under their old names
        "alltrue": np.all, "sometrue": np.any, "product": np.prod,
        "cumproduct": np.cumprod, "round_": np.round,
        "msort": lambda a: np.sort(a, axis=0),
        "asfarray": lambda a, dtype=np.float64: np.asarray(
            a, dtype=dtype if np.issubdtype(dtype, np.inexact) else np.float64),
        "issubclass_": lambda arg1, arg2: isinstance(arg1, type) and issubclass(arg1,
                                                                               arg2),
        "mat": np.asmatrix,
        "fastCopyAndTranspose": lambda a: np.array(np.transpose(a)),
        "sctypes": {"int": [np.int8, np.int16, np.int32, np.int64],
                    "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
                    "float": [np.float16, np.float32, np.float64, np.longdouble],
                    "complex": [np.complex64, np.complex128, np.clongdouble],
                    "others": [bool, object, bytes, str, np.void]},
    }
    for name in ("fv", "ipmt", "irr", "mirr", "nper", "npv", "pmt", "ppmt", "pv",
                 "rate"):
        aliases[name] = removed(name)
    return aliases


NUMPY2_ALIASES = ("bool", "int", "float", "complex", "object", "str", "PZERO", "NZERO",
                  "PINF", "NINF", "NaN", "NAN", "Inf", "Infinity", "infty", "float_",
                  "complex_", "unicode_", "string_", "longfloat", "singlecomplex",
                  "cfloat", "longcomplex", "clongfloat", "alltrue", "sometrue",
                  "product", "cumproduct", "round_", "msort", "asfarray", "issubclass_",
                  "mat", "fastCopyAndTranspose", "sctypes", "fv", "ipmt", "irr", "mirr",
                  "nper", "npv", "pmt", "ppmt", "pv", "rate")


def restore_numpy_names(np=None) -> list[str]:
    """Give ``np`` (default: NumPy) back the names MXNet 1.9 reads; return those added.

    On NumPy 1.x only ``np.bool`` is restored: MXNet 1.9 runs on NumPy 1.26 with that
    alone, and nothing more of the process changes. On NumPy 2 every name of
    ``NUMPY2_ALIASES`` that is missing is added; what NumPy still has is left alone.
    Accessing a removed name on NumPy 2 raises ``AttributeError`` through the module's
    ``__getattr__``, so presence is tested on the module's ``__dict__``.
    """
    if np is None:
        import numpy as np
    major = int(str(np.__version__).split(".")[0])
    added = []
    aliases = _numpy2_aliases(np)
    for name in (NUMPY2_ALIASES if major >= 2 else ("bool",)):
        if name not in np.__dict__:
            setattr(np, name, aliases[name])
            added.append(name)
    return added


def apply_shims() -> None:
    """Restore the NumPy names and make ``distutils`` importable, as MXNet 1.9 expects."""
    restore_numpy_names()
    if importlib.util.find_spec("distutils") is None:
        importlib.import_module("setuptools")  # registers its bundled distutils


def import_mxnet():
    """Import MXNet and GluonNLP after applying the shims; return ``(mx, nlp)``.

    For the first import only, ``OMP_NUM_THREADS`` is set to the usable cores when it
    is not set; the environment is restored afterwards (see the module's docstring).

    Raises:
        ImportError: MXNet or GluonNLP is missing or fails to import; the message
            says how to install them.
    """
    apply_shims()
    with environment_restored(["OMP_NUM_THREADS"]):  # read at load time; no trace left
        if "mxnet" not in sys.modules and "OMP_NUM_THREADS" not in os.environ:
            os.environ["OMP_NUM_THREADS"] = str(usable_cores())  # MXNet would use half
        try:
            mx = importlib.import_module("mxnet")
            nlp = importlib.import_module("gluonnlp")
        except (ImportError, OSError) as err:  # OSError: a broken shared library
            raise ImportError(f"MXNet/GluonNLP could not be imported ({err}). "
                              f"{INSTALL_HINT}") from err
    return mx, nlp
