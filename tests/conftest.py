"""Shared set-up for the unit tests: they leave the process environment as they found it.

``pytest --nbval`` starts each chapter's kernel from the pytest process, so a variable
left in ``os.environ`` by a test, or by a library a test module imports, reaches every
chapter run after the unit tests. ``OMP_NUM_THREADS=1`` (which ``import paddle`` writes)
would run PyTorch on one thread, with different rounding than the committed outputs
were made with.
"""
import os

import pytest

ENVIRONMENT_BEFORE_COLLECTION = dict(os.environ)


def restore_environment(saved: dict[str, str]) -> None:
    """Make ``os.environ`` equal to ``saved`` again."""
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def pytest_collection_finish(session):
    """Undo what importing the test modules wrote (``import mxnet``, ``import paddle``)."""
    restore_environment(ENVIRONMENT_BEFORE_COLLECTION)


@pytest.fixture(autouse=True)
def environment_left_as_found():
    """Undo what a test wrote into ``os.environ``."""
    saved = dict(os.environ)
    yield
    restore_environment(saved)
