"""Import MXNet 1.9 and GluonNLP 0.10 on a current Python and NumPy.

MXNet 1.9.1 was released before two changes it trips over:

* NumPy 1.24 removed the alias ``np.bool``, which MXNet still reads when it is
  imported. The alias is restored (as the builtin ``bool``, which it always was).
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

from .runs import usable_cores

INSTALL_HINT = ('Install the MXNet extra with  pip install -e ".[mxnet]"  (it pins '
                "mxnet 1.9.1, gluonnlp 0.10.0 and numpy 1.26.4).")


def apply_shims() -> None:
    """Restore ``np.bool`` and make ``distutils`` importable, as MXNet 1.9 expects."""
    import numpy as np

    if "bool" not in np.__dict__:
        np.bool = bool  # the alias NumPy 1.24 removed; MXNet 1.9 still reads it
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
    set_threads = "mxnet" not in sys.modules and "OMP_NUM_THREADS" not in os.environ
    if set_threads:
        os.environ["OMP_NUM_THREADS"] = str(usable_cores())  # MXNet would use half
    try:
        mx = importlib.import_module("mxnet")
        nlp = importlib.import_module("gluonnlp")
    except (ImportError, OSError) as err:  # OSError: a broken shared library
        raise ImportError(f"MXNet/GluonNLP could not be imported ({err}). "
                          f"{INSTALL_HINT}") from err
    finally:
        if set_threads:
            del os.environ["OMP_NUM_THREADS"]  # read at load time; leave no trace
    return mx, nlp
