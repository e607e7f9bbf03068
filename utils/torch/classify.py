"""PyTorch text classifiers: a bidirectional LSTM over packed sequences, a bag-of-words
baseline, and their training, evaluation and prediction.

Both models take a padded batch ``X`` of token ids and the true ``lengths`` and return
logits. Padding never changes a prediction: the LSTM reads packed sequences (it stops
at each review's last token), and every pooling looks at valid positions only. An empty
review (length 0) is read as one padding token, whose embedding is the zero vector.
"""
from __future__ import annotations


from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..classify_data import SENTIMENTS, _check_cut, check_training_args, encode_texts
from ..batching import pad_batch
from ..checks import check_bool, check_int, check_number
from ..runs import (SMOKE_BATCHES, SMOKE_EPOCHS, Accumulator, announce_long_run,
                    smoke_batches, smoke_limit)
from .core import clip_gradients

POOLINGS = ("last", "mean", "max")


def valid_mask(lengths: torch.Tensor, num_steps: int) -> torch.Tensor:
    """``mask[b, t]`` is true where step ``t`` lies inside sequence ``b``.

    Shape:
        ``lengths`` is ``(B,)``; returns ``(B, T)`` with ``T = num_steps``.
    """
    steps = torch.arange(num_steps, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def masked_pool(outputs: torch.Tensor, lengths: torch.Tensor, pooling: str
                ) -> torch.Tensor:
    """Mean or max of ``outputs`` over the valid steps of every sequence.

    Args:
        outputs: per-step vectors; what the padded steps hold does not matter.
        lengths: the valid steps of every sequence, each at least 1.
        pooling: ``"mean"`` or ``"max"``.

    Shape:
        ``outputs`` is ``(B, T, H)``, ``lengths`` is ``(B,)``; returns ``(B, H)``.
    """
    mask = valid_mask(lengths, outputs.shape[1]).unsqueeze(-1)      # (B, T, 1)
    if pooling == "mean":
        total = outputs.masked_fill(~mask, 0.0).sum(dim=1)          # (B, H)
        return total / lengths[:, None].to(outputs.dtype)
    if pooling == "max":
        return outputs.masked_fill(~mask, float("-inf")).amax(dim=1)
    raise ValueError(f"pooling must be 'mean' or 'max' here, got {pooling!r}")


class SentimentLSTM(nn.Module):
    """Embedding → (bidirectional) LSTM on packed sequences → pooling → linear.

    Args:
        vocab_size: ``V``.
        embed_size: ``E``.
        num_hiddens: ``H``, per direction.
        num_layers: stacked LSTM layers.
        pad_id: the padding id; its embedding is fixed at zero.
        pooling: how a review becomes one vector: ``"last"`` concatenates the final
            states of the top layer (forward after the last token, backward after the
            first), ``"mean"`` / ``"max"`` pool the top layer's outputs over the valid
            steps.
        bidirectional: read the review in both directions (``D = 2``) or forward only.
        dropout: dropout on the embeddings, between layers, and before the classifier.
        num_classes: output logits (2: negative, positive).

    Shape:
        ``X`` is ``(B, T)``, ``lengths`` is ``(B,)``; returns logits ``(B, num_classes)``.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 1, pad_id: int = 1, pooling: str = "max",
                 bidirectional: bool = True, dropout: float = 0.0,
                 num_classes: int = 2):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling, self.bidirectional = pooling, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.lstm = nn.LSTM(embed_size, num_hiddens, num_layers, batch_first=True,
                            bidirectional=bidirectional,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        num_directions = 2 if bidirectional else 1
        self.decoder = nn.Linear(num_directions * num_hiddens, num_classes)

    def encode(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One vector per review, ``(B, D * H)``."""
        lengths = lengths.clamp(min=1)  # an empty review is one padding token
        embeddings = self.dropout(self.embedding(X))                 # (B, T, E)
        # Packing tells the LSTM where each review ends: it never reads the padding,
        # and its final states are those after each review's true last token.
        packed = pack_padded_sequence(embeddings, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        packed_outputs, (h, _) = self.lstm(packed)    # h: (num_layers * D, B, H)
        if self.pooling == "last":
            # The top layer's final forward state, then its final backward state.
            return torch.cat([h[-2], h[-1]], dim=-1) if self.bidirectional else h[-1]
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True)  # (B, T', D*H)
        return masked_pool(outputs, lengths.to(outputs.device), self.pooling)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.dropout(self.encode(X, lengths)))  # (B, num_classes)


class BagOfEmbeddings(nn.Module):
    """The baseline: the mean of a review's word embeddings, then a linear layer.

    Word order is thrown away: the model sees which words occur and how often, which
    is what a bag-of-words classifier sees.

    Shape:
        ``X`` is ``(B, T)``, ``lengths`` is ``(B,)``; returns logits ``(B, num_classes)``.
    """

    def __init__(self, vocab_size: int, embed_size: int, pad_id: int = 1,
                 num_classes: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.decoder = nn.Linear(embed_size, num_classes)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pooled = masked_pool(self.embedding(X), lengths.clamp(min=1), "mean")  # (B, E)
        return self.decoder(pooled)


def _to_tensors(batch, device):
    X, lengths, y = batch
    return (torch.as_tensor(X, device=device), torch.as_tensor(lengths, device=device),
            torch.as_tensor(y, device=device))


def discriminative_param_groups(layer_groups: Sequence[Sequence[nn.Parameter]],
                                lr: float, lr_factor: float) -> list[dict]:
    """Adam parameter groups whose learning rate shrinks by ``lr_factor`` per group down.

    The top group (the last of ``layer_groups``, next to the output) trains at
    ``lr``, the one below at ``lr / lr_factor``, the next at ``lr / lr_factor**2``, and
    so on: the layers nearest the input, which hold the most general features, move
    least (Howard & Ruder, 2018, who use ``lr_factor=2.6``).

    Args:
        layer_groups: the model's parameters in groups, from the input up.
        lr: the top group's learning rate (> 0).
        lr_factor: the ratio between neighbouring groups (>= 1; 1: one rate for all).
    """
    lr = check_number("lr", lr, strictly_above=0.0)
    lr_factor = check_number("lr_factor", lr_factor, minimum=1.0)
    groups = check_layer_groups(layer_groups)
    top = len(groups) - 1
    return [{"params": list(group), "lr": lr / lr_factor ** (top - i)}
            for i, group in enumerate(groups)]


def unfreeze_top(layer_groups: Sequence[Sequence[nn.Parameter]], num_trainable: int
                 ) -> None:
    """Train the top ``num_trainable`` groups of ``layer_groups`` and freeze the rest.

    Gradual unfreezing (Howard & Ruder, 2018) calls this with 1, 2, 3, ... at the
    start of successive epochs: the new, randomly initialised head learns first,
    while the pretrained layers below stay fixed, so that its first, large and noisy
    gradients do not wreck what pretraining put there.
    """
    groups = check_layer_groups(layer_groups)
    num_trainable = check_int("num_trainable", num_trainable, minimum=1)
    for i, group in enumerate(groups):
        for param in group:
            param.requires_grad_(i >= len(groups) - num_trainable)


def check_layer_groups(layer_groups) -> list[list[nn.Parameter]]:
    if isinstance(layer_groups, nn.Module) or not isinstance(layer_groups, Sequence) \
            or not layer_groups:
        raise TypeError(f"layer_groups must be a non-empty list of parameter lists "
                        f"(from the input up), got {type(layer_groups).__name__}")
    groups = [list(group) for group in layer_groups]
    for i, group in enumerate(groups):
        if not group or not all(isinstance(p, nn.Parameter) for p in group):
            raise TypeError(f"layer_groups[{i}] must be a non-empty list of "
                            f"nn.Parameter, got {group!r:.80}")
    return groups


def train_classifier(model: nn.Module, train_iter, num_epochs: int, lr: float,
                     device, valid_iter=None, curves=None, weight_decay: float = 0.0,
                     clip: float | None = None, keep_best: bool = True,
                     layer_groups: Sequence[Sequence[nn.Parameter]] | None = None,
                     lr_factor: float = 1.0, gradual_unfreezing: bool = False
                     ) -> list[dict]:
    """Train with Adam and cross-entropy; return one dict of metrics per epoch.

    After every epoch the model is scored on ``valid_iter``, a validation split carved
    from the *training* reviews (``load_imdb_ids(..., valid_fraction=...)``). With
    ``keep_best`` the model ends with the weights of its best validation epoch (the
    earliest among ties), which is how the number of epochs is chosen. The test split
    has no place here: score it once, after training.

    Args:
        model: maps ``(X, lengths)`` to logits.
        train_iter: an iterable of ``(X, lengths, y)`` NumPy batches, re-iterated
            every epoch (e.g. ``utils.classify_data.ClassifyLoader``).
        num_epochs: passes over ``train_iter`` (an int >= 1).
        lr, weight_decay: Adam's learning rate (> 0) and L2 penalty (>= 0).
        device: where to train.
        valid_iter: held-out batches from the training data; ``None`` trains blind
            (and keeps the last epoch's weights).
        curves: a ``LiveCurves`` with legend (train loss, train acc, valid acc).
        clip: if given (> 0), clip the gradients' global norm to it.
        keep_best: restore the weights of the best validation epoch at the end.
        layer_groups: the model's parameters in groups from the input up (e.g.
            ``LMClassifier.layer_groups()``); needed by the next two settings.
        lr_factor: discriminative learning rates: the top group trains at ``lr``,
            each group below at ``1 / lr_factor`` of the one above
            (``discriminative_param_groups``); 1.0: one rate for all.
        gradual_unfreezing: epoch ``e`` trains the top ``e`` groups only
            (``unfreeze_top``); from epoch ``len(layer_groups)`` on, all of them.

    Returns:
        ``[{"epoch", "train_loss", "train_acc", "valid_acc"}, ...]``; ``train_acc``
        is measured on the fly, while the weights change during the epoch, and
        ``valid_acc`` is ``None`` without ``valid_iter``. ``best_epoch(history)``
        (``utils.classify_data``) names the epoch whose weights were kept.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_training_args(num_epochs, lr, weight_decay, clip, keep_best)
    if layer_groups is None and (lr_factor != 1.0 or gradual_unfreezing):
        raise ValueError(f"lr_factor={lr_factor!r} and gradual_unfreezing="
                         f"{gradual_unfreezing!r} need layer_groups (the model's "
                         f"parameters in groups from the input up), got None")
    check_bool("gradual_unfreezing", gradual_unfreezing)
    model.to(device)
    params = (model.parameters() if layer_groups is None
              else discriminative_param_groups(layer_groups, lr, lr_factor))
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    history, best_acc, best_state = [], -1.0, None
    num_epochs = smoke_limit(num_epochs, SMOKE_EPOCHS)  # unchanged but in a smoke run
    for epoch in range(1, num_epochs + 1):
        if gradual_unfreezing:
            unfreeze_top(layer_groups, min(epoch, len(layer_groups)))
        model.train()
        metric = Accumulator(3)  # summed loss, correct predictions, examples
        batches = smoke_batches(train_iter, SMOKE_BATCHES)  # all but in a smoke run
        if epoch == 1 and hasattr(train_iter, "__len__"):   # a long run says so
            what = f"training {num_epochs} epoch" + "s" * (num_epochs != 1)
            batches = announce_long_run(batches, len(train_iter) * num_epochs, what)
        for batch in batches:
            X, lengths, y = _to_tensors(batch, device)
            logits = model(X, lengths)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                clip_gradients(model.parameters(), clip)  # frozen: no grad, skipped
            optimizer.step()
            metric.add(loss.item() * len(y), int((logits.argmax(1) == y).sum()), len(y))
        row = {"epoch": epoch, "train_loss": metric[0] / metric[2],
               "train_acc": metric[1] / metric[2], "valid_acc": None}
        if valid_iter is not None:
            row["valid_acc"] = evaluate_accuracy(model, valid_iter, device)
            if keep_best and row["valid_acc"] > best_acc:
                best_acc = row["valid_acc"]
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        history.append(row)
        if curves is not None:
            curves.add(epoch, [row["train_loss"], row["train_acc"], row["valid_acc"]])
    if gradual_unfreezing:
        unfreeze_top(layer_groups, len(layer_groups))  # leave nothing frozen
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


@torch.no_grad()
def predict_logits(model: nn.Module, data_iter, device) -> tuple[np.ndarray, np.ndarray]:
    """The true labels ``(N,)`` and the model's logits ``(N, C)`` over a whole iterator,
    in its order (for two classes, ``logits[:, 1] - logits[:, 0]`` is the log-odds)."""
    model.eval()
    y_true, logits = [], []
    for batch in smoke_batches(data_iter):            # all of them but in a smoke run
        X, lengths, y = _to_tensors(batch, device)
        logits.append(model(X, lengths).float().cpu().numpy())
        y_true.append(y.cpu().numpy())
    return np.concatenate(y_true), np.concatenate(logits)


def predict_batches(model: nn.Module, data_iter, device
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The true labels and the predicted labels over a whole iterator, in its order."""
    y_true, logits = predict_logits(model, data_iter, device)
    return y_true, logits.argmax(1)


def evaluate_accuracy(model: nn.Module, data_iter, device) -> float:
    """The share of correct predictions over a whole iterator."""
    y_true, y_pred = predict_batches(model, data_iter, device)
    return float((y_true == y_pred).mean())


@torch.no_grad()
def predict_sentiment(model: nn.Module, vocab, texts: list[str], max_len: int,
                      device, pad_id: int = 1, keep: str = "first"
                      ) -> list[tuple[str, float]]:
    """The sentiment of new reviews: ``[(label, probability of positive), ...]``.

    Every text goes through ``tokenize_review`` and the training vocabulary: unknown
    words become ``<unk>``; a text longer than ``max_len`` tokens keeps its first
    ``max_len`` (``keep="first"``) or its last ones (``keep="last"``), as in training;
    an empty text (or one of spaces) is read as a single padding token, so the model
    still answers, with whatever its bias says.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a list of strings; wrap one text as [text]")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if max_len is None:
        raise TypeError("max_len must be an int (the training cut), got None")
    _check_cut(max_len, keep)
    model.to(device).eval()
    X, lengths = pad_batch(encode_texts(texts, vocab, max_len, keep), pad_id)  # (B, T)
    logits = model(torch.as_tensor(X, device=device),
                   torch.as_tensor(lengths, device=device))
    prob_positive = torch.softmax(logits, dim=1)[:, 1].cpu().tolist()
    return [(SENTIMENTS[int(p > 0.5)], p) for p in prob_positive]
