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
# What the chapters call as ``utils.<name>``; everything else is imported from its module.
from .bag_of_ngrams import NBLogisticRegression, select_C
from .baselines import char_ngram_baseline, unigram_perplexity
from .batching import (BPTTWindows, SeqDataLoader, bptt_batches, bptt_batchify,
                       bucket_batches, num_bptt_batches, seq_data_iter_random)
from .classify_data import (ClassifyLoader, confusion_matrix, load_imdb_ids,
                            stratified_subset)
from .datasets import (DatasetError, cache_dir, fetch, read_glove, read_imdb,
                       read_time_machine)
from .embeddings import pretrained_matrix
from .ngram import KneserNeyLM, NGramModel, kneser_ney_baselines
from .notebook import add_to_class
from .plot import (LiveCurves, perplexity_curves, plot_confusion, plot_lines,
                   show_saved_curves)
from .results import (curve_path, format_metric, largest_record, load_record,
                      make_record, provenance, provenance_lines, record_versus,
                      save_record, scale_table, versus)
from .runs import (PROFILE_TABLE, Timer, cpu_name, device_name, profile_note,
                   run_profile, set_seed, usable_cores)
from .text import (Vocab, load_corpus_time_machine, load_ptb_corpus, split_corpus,
                   time_machine_splits, tokenize, tokenize_review)

__all__ = [name for name in dir() if not name.startswith("_")]
