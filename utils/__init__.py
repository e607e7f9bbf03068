"""Shared code of the book *Sequence Models for Text*.

``import utils`` imports no deep-learning framework: the framework-specific helpers live
in ``utils.torch_*``, ``utils.mxnet_*`` and ``utils.paddle_*`` and are imported by the
chapters that use them. Importing has no side effects (no seeding, no downloads, no
plotting style).
"""
from .batching import (SeqDataLoader, bptt_batches, bptt_batchify, bucket_batches,
                       num_bptt_batches, pad_batch, seq_data_iter_random,
                       seq_data_iter_sequential, truncate_pad)
from .datasets import (CACHE_ENV_VAR, REGISTRY, DatasetError, cache_dir, fetch,
                       read_imdb, read_ptb, read_time_machine, read_wikitext2)
from .plot import LiveCurves, plot_lines
from .results import (format_metric, load_record, make_record, provenance,
                      save_record)
from .runs import (PROFILE_ENV_VAR, Accumulator, Timer, cuda_available, device_name,
                   run_profile, set_seed, torch_device)
from .text import (Vocab, clean_time_machine, count_corpus, flatten,
                   load_corpus_time_machine, split_corpus, tokenize)

__all__ = [name for name in dir() if not name.startswith("_")]
