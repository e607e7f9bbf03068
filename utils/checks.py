"""Argument checks at the door: a wrong type or value fails at once, naming the argument.

Every public function of ``utils`` checks what it is given before it does anything, so
that a mistake reads ``batch_size must be an int, got str '20'`` instead of a comparison
error deep inside NumPy, or, worse, no error at all (a negative clipping threshold that
silently reverses the gradient). These helpers raise ``TypeError`` for the wrong kind
of value and ``ValueError`` for a value out of range; each message names the argument,
what it got and what it accepts.

This module imports no deep-learning framework.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def _got(value) -> str:
    return f"{type(value).__name__} {value!r}"


def check_int(name: str, value, minimum: int | None = None) -> int:
    """``value`` as an int (``bool`` is refused), at least ``minimum`` when given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_got(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_number(name: str, value, *, minimum: float | None = None,
                 strictly_above: float | None = None, allow_inf: bool = False) -> float:
    """``value`` as a float: a real number (not ``bool``, not NaN), finite unless
    ``allow_inf``, ``>= minimum`` and ``> strictly_above`` when those are given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_got(value)}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be a finite number"
                         f"{' or inf' if allow_inf else ''}, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if strictly_above is not None and value <= strictly_above:
        raise ValueError(f"{name} must be greater than {strictly_above}, got {value}")
    return value


def check_lr_decay(name: str, value) -> float:
    """``value`` as a learning-rate decay *factor*, in (0, 1].

    Every framework of the book multiplies the learning rate by ``lr_decay`` when it
    decays (0.25 where pytorch/examples divides by 4). A value above 1 would make the
    rate grow, so it is refused with the fix in the message.
    """
    value = check_number(name, value, strictly_above=0.0)
    if value > 1.0:
        raise ValueError(f"{name} multiplies the learning rate and must be in (0, 1], "
                         f"got {value:g}; to divide the rate by {value:g}, write "
                         f"{1 / value:g}")
    return value


def check_bool(name: str, value) -> bool:
    """``value`` as a bool: ``True`` or ``False`` only (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_got(value)}")
    return value


def check_str(name: str, value, choices: Iterable[str] | None = None) -> str:
    """``value`` as a str, one of ``choices`` when given."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_got(value)}")
    if choices is not None and value not in tuple(choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_iterable(name: str, value, what: str) -> None:
    """``value`` must be iterable (``what`` says of what, for the message)."""
    if value is None or isinstance(value, (numbers.Number, bool)) or \
            not isinstance(value, Iterable):
        raise TypeError(f"{name} must be {what}, got {_got(value)}")
