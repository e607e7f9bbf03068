"""Shared code of the book *Sequence Models for Text*.

``import utils`` imports no deep-learning framework. The framework layer has one
subpackage per framework, each with the same slots, imported by the chapters that use
it:

* ``utils.torch``: ``core`` (ids at the edge, clipping, state detaching, sampling),
  ``rnn`` (the from-scratch RNN, GRU and LSTM), ``lstm`` (LSTM cells and stacks),
  ``train`` (the character models' loop), ``lm`` (the word models and their loop),
  ``classify``, ``reference`` (the framework comparison's trainer), ``distributed``;
* ``utils.mxnet``: its ``__init__`` imports MXNet with the shims it needs
  (``import_mxnet``); ``lm``;
* ``utils.paddle``: its ``__init__`` imports Paddle quietly, with MKL and threads set
  (``import_paddle``); ``core`` (the device, ids as tensors), ``lm``, ``classify``.

Importing ``utils`` has no side effects (no seeding, no downloads, no plotting style).
"""
from . import chapters  # the table of chapters the intro and scripts read
from .bag_of_ngrams import NBLogisticRegression, nb_log_count_ratio, select_C
from .baselines import char_ngram_baseline, unigram_perplexity
from .batching import (BPTTWindows, SeqDataLoader, bptt_batches, bptt_batchify,
                       bucket_batches, num_bptt_batches, pad_batch, seq_data_iter_random,
                       seq_data_iter_sequential, truncate_pad)
from .classify_data import (ClassifyLoader, confusion_matrix, encode_texts,
                            load_imdb_ids, stratified_subset, train_valid_indices,
                            train_valid_split)
from .datasets import (CACHE_ENV_VAR, REGISTRY, DatasetError, cache_dir, fetch,
                       read_glove, read_imdb, read_ptb, read_time_machine,
                       read_wikitext2)
from .embeddings import pretrained_matrix
from .ngram import KneserNeyLM, NGramModel, kneser_ney_baselines, select_eps
from .notebook import add_to_class
from .plot import (LiveCurves, perplexity_curves, plot_confusion, plot_lines,
                   show_saved_curves)
from .results import (curve_path, format_metric, largest_record, load_record,
                      make_record, provenance, provenance_lines, save_record,
                       saved_curves, scale_table)
from .runs import (FRAMEWORKS, PROFILE_ENV_VAR, PROFILE_TABLE, PROFILES, Accumulator,
                   Timer, cpu_name, cuda_available, device_name, framework_sees_gpu,
                   profile_note, run_profile, set_seed, usable_cores)
from .text import (Vocab, clean_time_machine, count_corpus, flatten,
                   load_corpus_time_machine, load_ptb_corpus, split_corpus,
                   time_machine_splits, tokenize, tokenize_review,
                   tokenize_with_eos)

__all__ = [name for name in dir() if not name.startswith("_")]
