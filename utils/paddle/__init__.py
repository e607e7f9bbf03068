"""Import PaddlePaddle quietly, portably, and with its CPU kernels at full speed.

Three things happen around ``import paddle``:

* **The ccache warning.** Importing ``paddle`` warns that ``ccache`` is missing, a note
  about recompiling C++ extensions that the book never builds. The warning names an
  absolute path on the machine that ran it, so a notebook that let it through would
  print different text on every machine. It is silenced, and nothing else.
* **MKL on AMD processors.** Paddle's CPU wheels bundle Intel MKL 2019 (Update 5) for
  their matrix products. That MKL picks its code path from the processor's vendor, not
  from its features: on an AMD processor it runs its generic SSE kernels even when the
  processor has AVX2. MKL releases of that era honour the variable
  ``MKL_DEBUG_CPU_TYPE=5``, which selects the AVX2 kernels; later releases ignore it.
  On the two-core AMD EPYC machine this book is built on, it makes the decoder's
  ``700 x 200 @ 200 x 10,000`` product 2.1x faster. It is set only on an AMD processor
  with AVX2, only when the variable is not set already, and only before Paddle (and
  with it MKL) is first imported.
* **Threads.** Paddle's CPU kernels use one thread unless told otherwise; the book gives
  them every core this process may run on.
* **No trace in the environment.** ``import paddle`` writes ``OMP_NUM_THREADS=1`` and
  ``CUSTOM_DEVICE_ROOT`` into ``os.environ``. Every process started afterwards inherits
  them: a Jupyter kernel started by the same process would run PyTorch on one thread,
  slower and with different rounding. Both are put back as they were once Paddle is
  imported; Paddle has read them by then, and its threads are set explicitly. Only
  ``MKL_DEBUG_CPU_TYPE`` stays, because MKL reads it at its first product, not at import.
"""
from __future__ import annotations

import os
import sys
import warnings

from ..runs import environment_restored, usable_cores


def _cpu_flags_and_vendor(cpuinfo: str = "/proc/cpuinfo") -> tuple[set[str], str]:
    """The first processor's feature flags and vendor id (empty where unknown)."""
    flags, vendor = set(), ""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
                if vendor and flags:
                    break
    except OSError:  # not Linux: leave MKL to its own choice
        pass
    return flags, vendor


def wants_mkl_avx2_override(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this is an AMD processor with AVX2, where old MKL needs to be told so."""
    flags, vendor = _cpu_flags_and_vendor(cpuinfo)
    return vendor == "AuthenticAMD" and "avx2" in flags


# Variables that ``import paddle`` writes into ``os.environ`` (see the module's docstring).
PADDLE_IMPORT_WRITES = ("OMP_NUM_THREADS", "CUSTOM_DEVICE_ROOT")


def import_paddle(num_threads: int | None = None):
    """Import and return ``paddle``: quiet, with MKL's AVX2 kernels, on every core.

    Args:
        num_threads: threads for Paddle's CPU kernels; every usable core when ``None``.

    Raises:
        ImportError: PaddlePaddle is not installed; the message says how to install it.
    """
    warnings.filterwarnings("ignore", message=r".*No ccache found.*",
                            category=UserWarning)
    first_import = "paddle" not in sys.modules
    if first_import and "MKL_DEBUG_CPU_TYPE" not in os.environ \
            and wants_mkl_avx2_override():
        os.environ["MKL_DEBUG_CPU_TYPE"] = "5"  # MKL's AVX2 kernels (see above)
    with environment_restored(PADDLE_IMPORT_WRITES if first_import else ()):
        try:
            import paddle
        except ImportError as err:
            raise ImportError(
                "PaddlePaddle is not installed. Install the book's pinned version with "
                "`pip install -e '.[paddle]'` (or `pip install paddlepaddle==3.3.1`)."
            ) from err
    paddle.base.core.set_num_threads(num_threads or usable_cores())
    return paddle
