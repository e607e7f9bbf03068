"""Import PaddlePaddle quietly and portably.

Importing ``paddle`` warns that ``ccache`` is missing, a note about recompiling C++
extensions that the book never builds. The warning names an absolute path on the
machine that ran it, so a notebook that let it through would print different text on
every machine. ``import_paddle()`` silences that one warning and nothing else.
"""
from __future__ import annotations

import warnings


def import_paddle():
    """Import and return the ``paddle`` module without its "No ccache found" warning.

    Raises:
        ImportError: PaddlePaddle is not installed; the message says how to install it.
    """
    warnings.filterwarnings("ignore", message=r".*No ccache found.*",
                            category=UserWarning)
    try:
        import paddle
    except ImportError as err:
        raise ImportError(
            "PaddlePaddle is not installed. Install the book's pinned version with "
            "`pip install -e '.[paddle]'` (or `pip install paddlepaddle==3.3.1`).") from err
    return paddle
