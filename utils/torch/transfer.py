"""A pretrained language model turned into a classifier (Howard & Ruder, 2018).

``LMClassifier`` keeps the embedding and the LSTM of a ``WordLM`` (the encoder,
everything pretraining taught) and puts a new head on top: the LSTM's outputs over a
review are pooled three ways (the last step, the maximum and the mean, concatenated)
and a linear layer maps them to the classes. The decoder of the language model, which
scored next words, is dropped.

``layer_groups`` lists the parameters from the input up (embedding, each LSTM layer,
head), the groups that discriminative learning rates and gradual unfreezing act on
(``utils.torch.classify.train_classifier``).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..checks import check_int, check_number
from .classify import masked_pool
from .lm import WordLM


class LMClassifier(nn.Module):
    """A language model's encoder with a concat-pooling classification head.

    Args:
        vocab_size, embed_size, num_hiddens, num_layers: the encoder's sizes, those of
            the ``WordLM`` it is loaded from (``from_lm``).
        dropout: on the embeddings, between LSTM layers and on the pooled vector.
        num_classes: output logits (2: negative, positive).

    Shape:
        ``X`` is ``(B, T)``, ``lengths`` is ``(B,)``; returns logits ``(B, num_classes)``.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 1, dropout: float = 0.3, num_classes: int = 2):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embed_size", embed_size),
                            ("num_hiddens", num_hiddens), ("num_layers", num_layers)):
            check_int(name, value, minimum=1)
        check_number("dropout", dropout, minimum=0.0)
        if dropout >= 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        check_int("num_classes", num_classes, minimum=2)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.LSTM(embed_size, num_hiddens, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(3 * num_hiddens, num_classes)

    @classmethod
    def from_lm(cls, lm: WordLM, dropout: float = 0.3, num_classes: int = 2
                ) -> "LMClassifier":
        """A classifier whose embedding and LSTM are copies of ``lm``'s."""
        if not isinstance(lm, WordLM):
            raise TypeError(f"lm must be a WordLM, got {type(lm).__name__}")
        model = cls(lm.embedding.num_embeddings, lm.embedding.embedding_dim,
                    lm.num_hiddens, lm.num_layers, dropout, num_classes)
        model.embedding.load_state_dict(lm.embedding.state_dict())
        model.rnn.load_state_dict(lm.rnn.state_dict())
        return model.to(lm.embedding.weight.device)

    def encode(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One vector per review: ``[last; max; mean]`` of the top layer, ``(B, 3H)``."""
        lengths = lengths.clamp(min=1)
        embs = self.dropout(self.embedding(X))                        # (B, T, E)
        packed = pack_padded_sequence(embs, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        packed_outputs, (h, _) = self.rnn(packed)                     # h: (L, B, H)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True)  # (B, T', H)
        lengths = lengths.to(outputs.device)
        return torch.cat([h[-1], masked_pool(outputs, lengths, "max"),
                          masked_pool(outputs, lengths, "mean")], dim=-1)

    def forward(self, X: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.encode(X, lengths)))      # (B, num_classes)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """The parameters from the input up: embedding, LSTM layer 1, ..., head."""
        layers = [[p for name, p in self.rnn.named_parameters()
                   if name.endswith(f"_l{k}")] for k in range(self.rnn.num_layers)]
        return [list(self.embedding.parameters()), *layers, list(self.head.parameters())]
