"""What the chapters need to show the package's code as code cells they can run.

A chapter shows a method of a package class in a code cell of its own, between the
paragraphs that explain it; ``add_to_class`` attaches the function the cell defines
to the class, so that an edit made in the notebook changes what the chapter runs.
"""
from __future__ import annotations

from typing import Callable


def add_to_class(cls: type) -> Callable:
    """A decorator that sets the decorated function as a method of ``cls``.

    ``@add_to_class(RNNLM)`` above ``def forward(self, X, state=None): ...`` makes it
    ``RNNLM.forward``, for existing instances too; the function is returned
    unchanged, so the name stays bound in the notebook.
    """
    if not isinstance(cls, type):
        raise TypeError(f"cls must be a class, got {type(cls).__name__} {cls!r}")

    def attach(function: Callable) -> Callable:
        if not callable(function) or not hasattr(function, "__name__"):
            raise TypeError(f"add_to_class decorates a function, got "
                            f"{type(function).__name__}")
        setattr(cls, function.__name__, function)
        return function

    return attach
