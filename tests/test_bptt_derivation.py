"""The BPTT sums that chapter 3 derives and writes in NumPy, checked against autograd.

The NumPy code lives in the chapter (the cell tagged ``bptt-numpy``), where readers see
and edit it; this test runs that cell's source, so that the chapter's derivation is
checked on its own, independently of executing the notebook.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "03-rnn.ipynb"


@pytest.fixture(scope="module")
def bptt():
    cells = [cell for cell in json.loads(CHAPTER.read_text())["cells"]
             if "bptt-numpy" in cell.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "chapter 3 must have one cell tagged bptt-numpy"
    namespace = {"np": np}
    exec("".join(cells[0]["source"]), namespace)  # noqa: S102 (the chapter's own code)
    return namespace


def _problem(T, B, V, H, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, size=(T + 1, B))
    params = {"H0": rng.normal(size=(B, H)), "W_xh": rng.normal(size=(V, H)),
              "W_hh": rng.normal(size=(H, H)) / np.sqrt(H), "b_h": rng.normal(size=H),
              "W_hq": rng.normal(size=(H, V)), "b_q": rng.normal(size=V)}
    return np.eye(V)[ids[:-1]], ids[1:], params


def _autograd(bptt, X, Y, params):
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    _, O = bptt["rnn_forward"](torch.tensor(X), **tensors, xp=torch)
    F.cross_entropy(O.reshape(-1, O.shape[-1]), torch.tensor(Y).reshape(-1)).backward()
    return {k: t.grad.numpy() for k, t in tensors.items()}


@pytest.mark.parametrize("T, B, V, H, seed", [(1, 1, 3, 2, 0), (7, 3, 6, 5, 1),
                                              (30, 2, 4, 8, 2)])
def test_derived_gradients_match_autograd(bptt, T, B, V, H, seed):
    X, Y, params = _problem(T, B, V, H, seed)
    derived = bptt["bptt_numpy"](X, Y, **params)
    expected = _autograd(bptt, X, Y, params)
    assert set(derived) == set(expected)
    for name, grad in expected.items():
        np.testing.assert_allclose(derived[name], grad, rtol=1e-6,
                                   atol=1e-9 * np.abs(grad).max(), err_msg=name)

