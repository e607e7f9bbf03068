"""Text: cleaning, tokenization, and the ``Vocab`` that maps tokens to integer ids.

This module imports no deep-learning framework.
"""
from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence

from .checks import check_int, check_iterable, check_str

TOKEN_MODES = ("word", "char")


def clean_time_machine(text: str) -> str:
    """Lower-case the text and replace every run of non-letters with one space.

    This is the simple normalisation the character-level chapters use: 26 letters and
    the space, 27 symbols in all, so that every model sees the same small alphabet.
    """
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def tokenize(lines: str | Sequence[str], mode: str = "word") -> list[list[str]]:
    """Split each line into word or character tokens.

    Args:
        lines: one string (treated as a single line) or a sequence of lines.
        mode: ``"word"`` splits on whitespace; ``"char"`` keeps every character,
            spaces included.

    Returns:
        One list of tokens per line.
    """
    check_str("mode", mode, TOKEN_MODES)
    if isinstance(lines, str):
        lines = [lines]
    check_iterable("lines", lines, "a str or a sequence of str (lines of text)")
    lines = list(lines)
    for i, line in enumerate(lines):
        if not isinstance(line, str):
            raise TypeError(f"lines must hold str, got {type(line).__name__} "
                            f"{line!r} at index {i}")
    if mode == "word":
        return [line.split() for line in lines]
    return [list(line) for line in lines]


def flatten(tokens: Iterable[Iterable[str]] | Iterable[str]) -> list[str]:
    """Turn a list of token lists into one flat token list (a flat list is kept)."""
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], (list, tuple)):
        return [tok for line in tokens for tok in line]
    return tokens


def count_corpus(tokens) -> collections.Counter:
    """Token frequencies of a flat or nested token list."""
    return collections.Counter(flatten(tokens))


class Vocab:
    """A vocabulary: token ↔ id, with ``<unk>`` at id 0 for every unknown token.

    Ids are given in this order: ``<unk>``, the reserved tokens, then the remaining
    tokens by decreasing frequency (ties broken alphabetically, so that the ids do not
    depend on the order of the text).

    Args:
        tokens: a flat or nested list of tokens to count (a str counts its
            characters).
        min_freq: tokens seen fewer times than this map to ``<unk>``.
        reserved_tokens: tokens that get ids right after ``<unk>`` whatever their
            counts (e.g. ``<pad>``, ``<eos>``).
        unk_token: the spelling of the unknown token.
        max_size: keep at most this many ids in all (``<unk>`` and the reserved
            tokens included): the most frequent tokens win; ``None``: no cap.

    Example:
        >>> vocab = Vocab(["a", "b", "a"], reserved_tokens=["<pad>"])
        >>> vocab["a"], vocab[["b", "zzz"]], vocab.to_tokens([2, 0])
        (2, [3, 0], ['a', '<unk>'])
    """

    def __init__(self, tokens=(), min_freq: int = 1,
                 reserved_tokens: Sequence[str] = (), unk_token: str = "<unk>",
                 max_size: int | None = None):
        check_iterable("tokens", tokens, "a list of tokens or a list of token lists")
        check_int("min_freq", min_freq, minimum=1)
        check_iterable("reserved_tokens", reserved_tokens, "a sequence of str")
        if isinstance(reserved_tokens, str):
            raise TypeError(f"reserved_tokens must be a sequence of str, got the single "
                            f"str {reserved_tokens!r}: write [{reserved_tokens!r}]")
        check_str("unk_token", unk_token)
        if max_size is not None:
            check_int("max_size", max_size, minimum=1 + len(reserved_tokens))
        counter = count_corpus(tokens)
        self.token_freqs: list[tuple[str, int]] = sorted(
            counter.items(), key=lambda kv: (-kv[1], kv[0]))
        self.unk_token = unk_token
        self.idx_to_token: list[str] = [unk_token]
        for token in reserved_tokens:
            if token not in self.idx_to_token:
                self.idx_to_token.append(token)
        specials = set(self.idx_to_token)
        self.idx_to_token += [tok for tok, freq in self.token_freqs
                              if freq >= min_freq and tok not in specials]
        if max_size is not None:
            del self.idx_to_token[max_size:]  # ids follow frequency: the rarest go
        self.token_to_idx = {tok: idx for idx, tok in enumerate(self.idx_to_token)}

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def __getitem__(self, tokens):
        """The id of one token, or the list of ids of a list (or tuple) of tokens."""
        if isinstance(tokens, (list, tuple)):
            return [self.__getitem__(token) for token in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        """The token of one id, or the tokens of a sequence of ids."""
        if hasattr(indices, "tolist"):  # NumPy arrays and framework tensors
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self) -> int:
        """The id of the unknown token (always 0)."""
        return 0

    def __repr__(self) -> str:
        head = ", ".join(self.idx_to_token[:8])
        return f"Vocab(size={len(self)}, first tokens: [{head}, ...])"


def load_corpus_time_machine(mode: str = "char", max_tokens: int = -1,
                             text: str | None = None):
    """The Time Machine as a flat list of token ids, and its ``Vocab``.

    Args:
        mode: ``"char"`` (27 symbols) or ``"word"``.
        max_tokens: keep only the first ``max_tokens`` tokens (all if negative).
        text: the raw text to use instead of reading the dataset (for tests).

    Returns:
        ``(corpus, vocab)``: ``corpus`` is a list of ids over the whole cleaned text.
    """
    from .datasets import read_time_machine

    raw = read_time_machine() if text is None else text
    cleaned = clean_time_machine(raw)
    tokens = tokenize(cleaned, mode)[0]
    vocab = Vocab(tokens)
    corpus = vocab[tokens]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def split_corpus(corpus: Sequence, valid_fraction: float = 0.1):
    """Split a token sequence into a training head and a held-out tail.

    The book's held-out split of The Time Machine is the last 10% of its tokens: the
    n-gram chapter and every recurrent chapter measure perplexity on the same tail.
    """
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    cut = int(round(len(corpus) * (1.0 - valid_fraction)))
    if cut == 0 or cut == len(corpus):
        raise ValueError(f"A corpus of {len(corpus)} tokens is too short to split with "
                         f"valid_fraction={valid_fraction}")
    return corpus[:cut], corpus[cut:]


def time_machine_splits(mode: str = "char", valid_fraction: float = 0.1
                        ) -> tuple[list[int], list[int], Vocab]:
    """The book's fixed split of The Time Machine: training head and held-out tail.

    The vocabulary is built on the whole cleaned text, so that ids mean the same thing
    in every chapter; the held-out tail is the last ``valid_fraction`` of the tokens
    (``split_corpus``). The n-gram chapter and the recurrent chapters all measure
    validation perplexity on this same tail.

    Args:
        mode: ``"char"`` (27 symbols plus ``<unk>``) or ``"word"``.
        valid_fraction: the share of tokens, taken from the end, held out.

    Returns:
        ``(train_ids, valid_ids, vocab)``.
    """
    corpus, vocab = load_corpus_time_machine(mode)
    train_ids, valid_ids = split_corpus(corpus, valid_fraction)
    return list(train_ids), list(valid_ids), vocab


def tokenize_with_eos(lines: Sequence[str], eos_token: str = "<eos>") -> list[str]:
    """Split lines into words and end every line with ``eos_token``, as one flat list.

    Word-level language models read a corpus as one stream; the end-of-sentence token
    keeps the line breaks, so that the model learns where sentences end (the standard
    Penn Treebank recipe of Mikolov et al. and Zaremba et al.).
    """
    return [tok for line in lines for tok in line.split() + [eos_token]]


def load_ptb_corpus(cache=None, eos_token: str = "<eos>"
                    ) -> tuple[list[int], list[int], list[int], Vocab]:
    """Penn Treebank as three flat id streams, with ``eos_token`` after every line.

    The vocabulary is built on the training split alone: ``<unk>`` (id 0, already in
    the text for rare words), ``eos_token`` (id 1), then the words by decreasing
    frequency, 10,000 entries in all. Validation and test words all occur in training.

    Args:
        cache: the data cache folder (default ``$SEQBOOK_DATA``).
        eos_token: the end-of-line token.

    Returns:
        ``(train_ids, valid_ids, test_ids, vocab)``; about 929k, 74k and 82k ids.
    """
    from .datasets import read_ptb

    splits = [tokenize_with_eos(read_ptb(split, cache), eos_token)
              for split in ("train", "valid", "test")]
    vocab = Vocab(splits[0], reserved_tokens=[eos_token])
    train_ids, valid_ids, test_ids = (vocab[tokens] for tokens in splits)
    return train_ids, valid_ids, test_ids, vocab


# A word is a run of letters or digits, possibly joined by apostrophes ("don't",
# "o'clock", "90's"); any other visible character is a token of its own.
_REVIEW_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def tokenize_review(text: str) -> list[str]:
    """Split a movie review into lower-case word and punctuation tokens.

    IMDB reviews are raw web text: line breaks are written ``<br />``, and punctuation
    sticks to words (``great!``). The rules, in order:

    1. lower-case everything (``Great`` and ``great`` are one word);
    2. replace each ``<br />`` (or ``<br>``, ``<br/>``) with a space;
    3. a word is a run of letters or digits, kept whole across inner apostrophes, so
       ``don't`` and ``isn't`` stay single tokens rather than ``don`` + ``t``;
    4. every other visible character (``.``, ``!``, ``?``, a quote, a hyphen) becomes
       a token of its own: ``!`` carries sentiment, and it must not make ``great!``
       a different word from ``great``.

    Args:
        text: one review.

    Returns:
        the tokens, possibly an empty list.

    Example:
        >>> tokenize_review("Don't miss it!<br /><br />A 10/10 film.")
        ["don't", 'miss', 'it', '!', 'a', '10', '/', '10', 'film', '.']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _REVIEW_TOKEN.findall(_HTML_BREAK.sub(" ", text.lower()))
