"""Shared set-up for the unit tests: they leave the process environment as they found it.

``pytest --nbval`` starts each chapter's kernel from the pytest process, so a variable
left in ``os.environ`` by a test, or by a library a test module imports, reaches every
chapter run after the unit tests. ``OMP_NUM_THREADS=1`` (which ``import paddle`` writes)
would run PyTorch on one thread, with different rounding than the committed outputs
were made with.
"""
import pytest

from utils.runs import environment_restored


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Undo what importing a test module wrote (``import mxnet``, ``import paddle``)."""
    with environment_restored():
        yield


@pytest.fixture(autouse=True)
def environment_left_as_found():
    """Undo what a test wrote into ``os.environ``."""
    with environment_restored():
        yield
