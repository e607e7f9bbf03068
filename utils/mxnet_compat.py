"""Import MXNet 1.9 and GluonNLP 0.10 on a current Python and NumPy.

MXNet 1.9.1 was released before two changes it trips over:

* NumPy 1.24 removed the alias ``np.bool``, which MXNet still reads when it is
  imported. The alias is restored (as the builtin ``bool``, which it always was).
* Python 3.12 no longer ships ``distutils``, which MXNet imports. ``setuptools``
  carries a copy; importing ``setuptools`` first makes ``import distutils`` find it.

Nothing happens when this module is imported: the shims are applied by
``import_mxnet()``, which the MXNet chapters call instead of ``import mxnet``.
"""
from __future__ import annotations

import importlib
import importlib.util

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

    Raises:
        ImportError: MXNet or GluonNLP is missing or fails to import; the message
            says how to install them.
    """
    apply_shims()
    try:
        mx = importlib.import_module("mxnet")
        nlp = importlib.import_module("gluonnlp")
    except (ImportError, OSError) as err:  # OSError: a broken shared library
        raise ImportError(f"MXNet/GluonNLP could not be imported ({err}). "
                          f"{INSTALL_HINT}") from err
    return mx, nlp
