"""PaddlePaddle text classifiers: an ``LSTMEncoder`` in the manner of PaddleNLP's, the
``LSTMModel`` classifier on top of it, a small network after a TensorLayerX example,
and their training and evaluation.

``paddle.nn.LSTM`` returns a vector *per time step* (and the final states); a
classifier needs one vector *per text*. ``LSTMEncoder`` is that last step: it runs
``paddle.nn.LSTM`` with each text's true length and reduces its outputs to one vector,
either the final hidden state (both final states, for a bidirectional LSTM) or a sum,
max or mean over the valid steps. PaddleNLP's encoder pools over every step and relies
on the LSTM writing zeros at padded steps; that is harmless for the sum and the mean,
but a max over vectors whose entries are all negative then picks the padding's 0. Here
every pooling masks the padded steps explicitly, so padding never changes the result.

Every model maps ``(X, lengths)`` (NumPy batches converted with ``to_tensor``) to
logits.
"""
from __future__ import annotations



from . import import_paddle
from ..classify_data import check_training_args
from .core import to_tensor
from ..runs import (SMOKE_BATCHES, SMOKE_EPOCHS, Accumulator, smoke_batches,
                    smoke_limit)

paddle = import_paddle()
nn = paddle.nn
F = paddle.nn.functional

DIRECTIONS = ("forward", "bidirect")
POOLING_TYPES = (None, "sum", "max", "mean")


def valid_mask(lengths, num_steps: int):
    """``mask[b, t]`` is true where step ``t`` lies inside sequence ``b``.

    Shape:
        ``lengths`` is ``(B,)``; returns ``(B, T)`` with ``T = num_steps``.
    """
    steps = paddle.arange(num_steps, dtype=lengths.dtype)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


class LSTMEncoder(nn.Layer):
    """``paddle.nn.LSTM`` plus the reduction of its per-step outputs to one vector.

    Args:
        input_size: ``E``, the size of each input vector.
        hidden_size: ``H``, per direction.
        num_layers: stacked LSTM layers.
        direction: ``"forward"`` or ``"bidirect"`` (``D`` = 1 or 2).
        dropout: dropout between stacked layers.
        pooling_type: ``None`` for the final hidden state of the top layer (for
            ``"bidirect"`` the final forward state, after the last token, joined to the
            final backward state, after the first); or ``"sum"``, ``"max"``,
            ``"mean"`` over the top layer's outputs at the valid steps.

    Shape:
        ``inputs`` is ``(B, T, E)``, ``sequence_length`` is ``(B,)`` (each at least 1);
        returns ``(B, D * H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 direction: str = "forward", dropout: float = 0.0,
                 pooling_type: str | None = None):
        super().__init__()
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if pooling_type not in POOLING_TYPES:
            raise ValueError(f"pooling_type must be one of {POOLING_TYPES}, "
                             f"got {pooling_type!r}")
        self.direction, self.pooling_type = direction, pooling_type
        self.input_size, self.hidden_size = input_size, hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, direction=direction,
                            dropout=dropout if num_layers > 1 else 0.0)

    def get_output_dim(self) -> int:
        """``D * H``: the size of the vector returned per text."""
        return self.hidden_size * (2 if self.direction == "bidirect" else 1)

    def forward(self, inputs, sequence_length):
        # outputs: (B, T, D*H); h: (num_layers * D, B, H)
        outputs, (h, _) = self.lstm(inputs, sequence_length=sequence_length)
        if self.pooling_type is None:
            if self.direction == "bidirect":
                return paddle.concat([h[-2], h[-1]], axis=-1)    # (B, 2H)
            return h[-1]                                         # (B, H)
        mask = valid_mask(sequence_length, outputs.shape[1]).unsqueeze(-1)  # (B, T, 1)
        if self.pooling_type == "max":
            # argmax over the valid steps, then a gather: the same value and gradient
            # as .max(axis=1), whose backward pass is very slow on Paddle's CPU build.
            very_negative = paddle.full_like(outputs, float("-inf"))
            where_max = paddle.where(mask, outputs, very_negative).argmax(
                axis=1, keepdim=True)                            # (B, 1, D*H)
            return paddle.take_along_axis(outputs, where_max, axis=1).squeeze(1)
        total = paddle.where(mask, outputs, paddle.zeros_like(outputs)).sum(axis=1)
        if self.pooling_type == "sum":
            return total                                         # (B, D*H)
        return total / sequence_length.unsqueeze(-1).astype(total.dtype)


class LSTMModel(nn.Layer):
    """Embedding → ``LSTMEncoder`` → linear + tanh → linear: PaddleNLP's classifier shape.

    Args:
        vocab_size: ``V``.
        num_classes: output logits.
        embed_size: ``E``.
        pad_id: the padding id; its embedding is fixed at zero.
        hidden_size, num_layers, direction, dropout, pooling_type: the encoder's.
        fc_hidden_size: the width of the tanh layer.

    Shape:
        ``X`` is ``(B, T)``, ``lengths`` is ``(B,)``; returns ``(B, num_classes)``. An
        empty text (length 0) is read as one padding token.
    """

    def __init__(self, vocab_size: int, num_classes: int = 2, embed_size: int = 128,
                 pad_id: int = 1, hidden_size: int = 128, num_layers: int = 1,
                 direction: str = "forward", dropout: float = 0.0,
                 pooling_type: str | None = None, fc_hidden_size: int = 96):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=pad_id)
        self.encoder = LSTMEncoder(embed_size, hidden_size, num_layers, direction,
                                   dropout, pooling_type)
        self.fc = nn.Linear(self.encoder.get_output_dim(), fc_hidden_size)
        self.output_layer = nn.Linear(fc_hidden_size, num_classes)

    def forward(self, X, lengths):
        lengths = paddle.clip(lengths, min=1)       # an empty text: one padding token
        text_vector = self.encoder(self.embedding(X), lengths)    # (B, D*H)
        return self.output_layer(paddle.tanh(self.fc(text_vector)))


class MeanOverTimeLSTM(nn.Layer):
    """The small network of TensorLayerX's IMDB example, in Paddle.

    Embedding → LSTM → mean of the outputs over all ``T`` steps → linear + ReLU →
    linear. Like the original it ignores the true lengths: the reviews are cut or
    padded to one fixed length, and the padded steps count in the mean.

    Shape:
        ``X`` is ``(B, T)``; ``lengths`` is accepted (and ignored) so that the same
        training loop serves every model; returns ``(B, num_classes)``.
    """

    def __init__(self, vocab_size: int, embed_size: int = 64, hidden_size: int = 64,
                 fc_hidden_size: int = 64, num_classes: int = 2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size)
        self.fc = nn.Linear(hidden_size, fc_hidden_size)
        self.output_layer = nn.Linear(fc_hidden_size, num_classes)

    def forward(self, X, lengths=None):
        outputs, _ = self.lstm(self.embedding(X))                 # (B, T, H)
        return self.output_layer(F.relu(self.fc(outputs.mean(axis=1))))


def _to_tensors(batch):
    X, lengths, y = batch
    return to_tensor(X), to_tensor(lengths), to_tensor(y)


def train_classifier(model: nn.Layer, train_iter, num_epochs: int, lr: float,
                     valid_iter=None, curves=None, keep_best: bool = True
                     ) -> list[dict]:
    """Train with Adam and cross-entropy; return one dict of metrics per epoch.

    After every epoch the model is scored on ``valid_iter``, a validation split carved
    from the *training* reviews (``load_imdb_ids(..., valid_fraction=...)``). With
    ``keep_best`` the model ends with the weights of its best validation epoch (the
    earliest among ties): that is how the number of epochs is chosen. The test split
    has no place here: score it once, after training.

    Args:
        model: maps ``(X, lengths)`` to logits.
        train_iter: an iterable of ``(X, lengths, y)`` NumPy batches, re-iterated
            every epoch (e.g. ``utils.classify_data.ClassifyLoader``).
        num_epochs: passes over ``train_iter`` (an int >= 1).
        lr: Adam's learning rate (> 0).
        valid_iter: held-out batches from the training data; ``None`` trains blind
            (and keeps the last epoch's weights).
        curves: a ``LiveCurves`` with legend (train loss, train acc, valid acc).
        keep_best: restore the weights of the best validation epoch at the end.

    Returns:
        ``[{"epoch", "train_loss", "train_acc", "valid_acc"}, ...]``; ``train_acc``
        is measured on the fly, while the weights change during the epoch, and
        ``valid_acc`` is ``None`` without ``valid_iter``. ``best_epoch(history)``
        (``utils.classify_data``) names the epoch whose weights were kept.
    """
    if not isinstance(model, nn.Layer):
        raise TypeError(f"model must be a paddle.nn.Layer, got {type(model).__name__}")
    check_training_args(num_epochs, lr, keep_best=keep_best)
    optimizer = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    history, best_acc, best_state = [], -1.0, None
    for epoch in range(1, smoke_limit(num_epochs, SMOKE_EPOCHS) + 1):
        model.train()
        metric = Accumulator(3)  # summed loss, correct predictions, examples
        for batch in smoke_batches(train_iter, SMOKE_BATCHES):  # all but in a smoke run
            X, lengths, y = _to_tensors(batch)
            logits = model(X, lengths)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            correct = int((logits.argmax(axis=1) == y).astype("int64").sum())
            metric.add(float(loss) * len(batch[2]), correct, len(batch[2]))
        row = {"epoch": epoch, "train_loss": metric[0] / metric[2],
               "train_acc": metric[1] / metric[2], "valid_acc": None}
        if valid_iter is not None:
            row["valid_acc"] = evaluate_accuracy(model, valid_iter)
            if keep_best and row["valid_acc"] > best_acc:
                best_acc = row["valid_acc"]
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
        history.append(row)
        if curves is not None:
            curves.add(epoch, [row["train_loss"], row["train_acc"], row["valid_acc"]])
    if best_state is not None:
        model.set_state_dict(best_state)
    return history


@paddle.no_grad()
def evaluate_accuracy(model: nn.Layer, data_iter) -> float:
    """The share of correct predictions over a whole iterator."""
    model.eval()
    correct = total = 0
    for batch in smoke_batches(data_iter):            # all of them but in a smoke run
        X, lengths, y = _to_tensors(batch)
        pred = model(X, lengths).argmax(axis=1).numpy()
        correct += int((pred == batch[2]).sum())
        total += len(batch[2])
    return correct / total
