"""Datasets: where each one lives, how to fetch, verify, cache and unpack it, and readers.

Every dataset the book uses is described once, in ``REGISTRY``. A dataset is fetched
at most once into the cache folder (``$SEQBOOK_DATA``, default ``~/.cache/seqbook``);
a file already there with the right sha1, or an already unpacked folder, is used
without touching the network.

Downloads are atomic: bytes go to ``<name>.part`` and are renamed only after the sha1
matched, so an interrupted transfer never leaves a file that passes for a good one.
Archives are unpacked into a temporary folder that gets a completion marker
(``.complete``) and is then renamed into place; a folder without the marker (an
unpacking that was interrupted, or one made by hand) is never trusted: it is unpacked
again.

``prefill`` fills the cache from a folder of offline copies (a machine without
internet, CI) through the same checks: ``bash scripts/prefill_cache.sh SOURCE``.

This module imports no deep-learning framework.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:                # for the annotation of read_glove only
    import numpy as np
from dataclasses import dataclass, field
from pathlib import Path

from .runs import smoke_limit

CACHE_ENV_VAR = "SEQBOOK_DATA"
SMOKE_REVIEWS = 5_000  # IMDB reviews per class and split in a smoke run
DEFAULT_CACHE = Path("~/.cache/seqbook").expanduser()
COMPLETE_MARKER = ".complete"  # in an unpacked folder: the unpacking finished


@dataclass(frozen=True)
class RemoteFile:
    """One file to download: its URL (and mirrors), its sha1, its name in the cache."""

    url: str
    sha1: str
    filename: str
    mirrors: tuple[str, ...] = ()  # tried in order when ``url`` cannot be reached


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset is fetched and laid out in the cache.

    Attributes:
        name: the registry key.
        files: what to download.
        unpack: ``None`` (use the files as they are), ``"zip"`` or ``"tar"``.
        folder: the path, relative to the cache, that exists once the dataset is ready
            (a file for single-file datasets, the unpacked folder for archives).
        description: one line for error messages and listings.
    """

    name: str
    files: tuple[RemoteFile, ...]
    unpack: str | None
    folder: str
    description: str = ""
    expected: tuple[str, ...] = field(default_factory=tuple)


_D2L = "http://d2l-data.s3-accelerate.amazonaws.com/"
_WIKITEXT = (
    "https://raw.githubusercontent.com/pytorch/examples/main/"
    "word_language_model/data/wikitext-2/"
)

GLOVE_DIMS = (50, 100, 200, 300)  # the four sizes inside glove.6B.zip


REGISTRY: dict[str, DatasetSpec] = {
    "time_machine": DatasetSpec(
        name="time_machine",
        files=(RemoteFile(_D2L + "timemachine.txt",
                          "090b5e7e70c295757f55df93cb0a180b9691891a", "timemachine.txt"),),
        unpack=None,
        folder="timemachine.txt",
        description="H. G. Wells, The Time Machine (public domain)",
    ),
    "ptb": DatasetSpec(
        name="ptb",
        files=(RemoteFile(_D2L + "ptb.zip",
                          "319d85e578af0cdc590547f26231e4e31cdf1e42", "ptb.zip"),),
        unpack="zip",
        folder="ptb",
        description="Penn Treebank, Mikolov's preprocessed split",
        expected=("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"),
    ),
    "wikitext-2": DatasetSpec(
        name="wikitext-2",
        # The original wikitext-2-v1.zip bucket refuses downloads; pytorch/examples
        # serves byte-identical copies of the three token files.
        files=(
            RemoteFile(_WIKITEXT + "train.txt",
                       "863f29c46ef9d167fff4940ec821195882fe29d1", "wiki.train.tokens"),
            RemoteFile(_WIKITEXT + "valid.txt",
                       "0418625c8b4da6e4b5c7a0b9e78d4ae8f7ee5422", "wiki.valid.tokens"),
            RemoteFile(_WIKITEXT + "test.txt",
                       "c7b8ce0aa086fb34dab808c5c49224211eb2b172", "wiki.test.tokens"),
        ),
        unpack=None,
        folder="wikitext-2",
        description="WikiText-2 (tokenized), CC BY-SA 3.0",
        expected=("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"),
    ),
    # GloVe 6B vectors (Pennington et al., 2014): 400,000 lower-cased words trained on
    # Wikipedia 2014 + Gigaword 5, in Stanford's archive of 862,182,613 bytes holding
    # glove.6B.{50,100,200,300}d.txt. The sha1 is the one Apache MXNet's text API
    # checks the archive against (python/mxnet/contrib/text/_constants.py); its sha256,
    # 617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb, is the one
    # torchtext publishes. The archive stays zipped: read_glove reads one member.
    "glove.6B": DatasetSpec(
        name="glove.6B",
        files=(RemoteFile("https://nlp.stanford.edu/data/glove.6B.zip",
                          "b64e54f1877d2f735bdd000c1d7d771e25c7dfdc", "glove.6B.zip",
                          mirrors=("https://huggingface.co/stanfordnlp/glove/resolve/"
                                   "main/glove.6B.zip",)),),
        unpack=None,
        folder="glove.6B.zip",
        description="GloVe 6B word vectors, 50 to 300 dimensions (Pennington et al., "
                    "2014)",
    ),
    "aclImdb": DatasetSpec(
        name="aclImdb",
        files=(RemoteFile(_D2L + "aclImdb_v1.tar.gz",
                          "01ada507287d82875905620988597833ad4e0903", "aclImdb_v1.tar.gz"),),
        unpack="tar",
        folder="aclImdb",
        description="Large Movie Review Dataset (Maas et al., 2011)",
        expected=("train", "test"),
    ),
}


# What a failed transfer raises: no network, HTTP errors, a connection cut off, a bad URL.
_TRANSFER_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


class DatasetError(RuntimeError):
    """A dataset could not be fetched, verified or unpacked. The message says what to do."""


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The data cache folder: ``cache`` if given, else ``$SEQBOOK_DATA``, else the default."""
    if cache is None:
        cache = os.environ.get(CACHE_ENV_VAR) or DEFAULT_CACHE
    return Path(cache).expanduser()


def sha1_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """The hex sha1 of a file, read in chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _manual_hint(remote: RemoteFile, cache: Path) -> str:
    return (f"To supply it by hand, download {remote.url} on a machine with internet "
            f"access and save it as {cache / remote.filename} (or point ${CACHE_ENV_VAR} "
            f"at a folder that already holds the dataset, or fill the cache from a "
            f"folder of offline copies with scripts/prefill_cache.sh).")


def download(remote: RemoteFile, cache: str | os.PathLike | None = None, *,
             timeout: float = 60.0, progress: bool = True) -> Path:
    """Download one file into the cache, verify its sha1, and return its path.

    A file already in the cache with the right sha1 is returned without any network.

    Raises:
        DatasetError: offline or HTTP failure (names the URL, the cache folder and how to
            place the file by hand), or a checksum mismatch (the bad file is removed).
    """
    cache = cache_dir(cache)
    target = cache / remote.filename
    if target.is_file() and sha1_of(target) == remote.sha1:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    urls = (remote.url, *remote.mirrors)
    for attempt, url in enumerate(urls, start=1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                _copy_with_progress(response, partial, total, remote.filename, progress)
            if total is not None and partial.stat().st_size != total:
                raise DatasetError(
                    f"The download of {url} stopped after {partial.stat().st_size} of "
                    f"{total} bytes. Run the cell again to retry. "
                    f"{_manual_hint(remote, cache)}")
            break
        except _TRANSFER_ERRORS as err:
            partial.unlink(missing_ok=True)
            if attempt == len(urls):
                tried = " nor ".join(urls)
                raise DatasetError(
                    f"Could not download {tried} into the cache folder {cache}: {err}. "
                    f"Check your internet connection. {_manual_hint(remote, cache)}"
                ) from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    got = sha1_of(partial)
    if got != remote.sha1:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"Checksum mismatch for {remote.url}: expected sha1 {remote.sha1}, got {got}. "
            f"The downloaded file was removed; run the cell again to retry. "
            f"{_manual_hint(remote, cache)}")
    os.replace(partial, target)
    return target


def _copy_with_progress(response, path: Path, total: int | None, label: str,
                        progress: bool) -> None:
    bar = None
    if progress:
        from tqdm.auto import tqdm  # only shown while something is downloaded
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {label}")
    try:
        with open(path, "wb") as out:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def _unpack(archive: Path, kind: str, spec: DatasetSpec, cache: Path) -> None:
    """Unpack ``archive`` so that ``cache / spec.folder`` appears atomically."""
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=cache))
    try:
        try:
            if kind == "zip":
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(staging)
            else:
                with tarfile.open(archive) as tf:
                    tf.extractall(staging, filter="data")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as err:
            raise DatasetError(
                f"The archive {archive} for dataset '{spec.name}' is corrupt ({err}). "
                f"Delete it and run the cell again to download it anew.") from err
        unpacked = staging / spec.folder
        if not unpacked.is_dir():
            raise DatasetError(
                f"The archive {archive} does not contain the folder '{spec.folder}/' that "
                f"dataset '{spec.name}' needs. Delete it and download it again.")
        (unpacked / COMPLETE_MARKER).write_text(f"unpacked from {archive.name}\n")
        final = cache / spec.folder
        if final.exists():
            if _is_ready(spec, cache):  # another process finished first
                return
            shutil.rmtree(final)  # left by an interrupted unpacking: not to be trusted
        os.replace(unpacked, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_ready(spec: DatasetSpec, cache: Path) -> bool:
    path = cache / spec.folder
    if spec.unpack is None and not spec.expected:
        return path.is_file() and sha1_of(path) == spec.files[0].sha1
    if spec.unpack is None:  # several plain files in one folder
        return all((path / f.filename).is_file() and sha1_of(path / f.filename) == f.sha1
                   for f in spec.files)
    return (path.is_dir() and (path / COMPLETE_MARKER).is_file()
            and all((path / name).exists() for name in spec.expected))


def fetch(name: str, cache: str | os.PathLike | None = None, *,
          progress: bool = True) -> Path:
    """Make dataset ``name`` available in the cache and return its path.

    Returns the file for single-file datasets and the folder otherwise.

    Args:
        name: a key of ``REGISTRY`` (``time_machine``, ``ptb``, ``wikitext-2``,
            ``aclImdb``, ``glove.6B``).
        cache: the cache folder; defaults to ``$SEQBOOK_DATA`` or ``~/.cache/seqbook``.
        progress: show a progress bar while downloading.
    """
    if name not in REGISTRY:
        raise ValueError(f"Unknown dataset name={name!r}; known: {sorted(REGISTRY)}")
    spec = REGISTRY[name]
    cache = cache_dir(cache)
    if _is_ready(spec, cache):
        return cache / spec.folder
    if spec.unpack is None and spec.expected:  # plain files inside a folder
        folder = cache / spec.folder
        for remote in spec.files:
            download(remote, folder, progress=progress)
        return folder
    archive = download(spec.files[0], cache, progress=progress)
    if spec.unpack is not None:
        _unpack(archive, spec.unpack, spec, cache)
    return cache / spec.folder


# ------------------------------------------------------------- offline copies


def read_sha1sums(path: str | os.PathLike) -> dict[str, str]:
    """A ``sha1sum`` listing (``<hex>  <name>`` per line) as ``{name: hex}``."""
    sums = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, name = line.strip().partition(" ")
            sums[name.strip().lstrip("*")] = digest.lower()
    return sums


def _copy_verified(source: Path, sha1: str, target: Path) -> Path:
    """Copy ``source`` to ``target`` atomically, if and only if its sha1 is ``sha1``."""
    got = sha1_of(source)
    if got != sha1:
        raise DatasetError(f"Checksum mismatch for the offline copy {source}: expected "
                           f"sha1 {sha1}, got {got}. Nothing was copied; replace the "
                           f"file with a good copy.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def prefill(source: str | os.PathLike, cache: str | os.PathLike | None = None,
            names: list[str] | None = None) -> dict[str, str]:
    """Fill the cache from a folder of offline copies, through a download's checks.

    ``source`` is only read. For each dataset it looks for, in this order:

    1. the files the dataset downloads, under their cache names (``timemachine.txt``,
       ``ptb.zip``, ``aclImdb_v1.tar.gz``...): each must have the registry's sha1,
       as a download must, and is copied into the cache; an archive is then unpacked
       as ``fetch`` unpacks it;
    2. a tarball ``<folder>.tar.gz`` of the dataset's unpacked folder (e.g.
       ``wikitext-2.tar.gz``): its sha1 must match the source folder's ``SHA1SUMS``
       listing; it is unpacked atomically, with the completion marker, and files the
       registry knows are checked against their sha1.

    A dataset already complete in the cache is left alone; one with no copy in
    ``source`` is reported and left to ``fetch``.

    Args:
        source: a folder of offline copies (and optionally its ``SHA1SUMS``).
        cache: the cache folder (default: ``$SEQBOOK_DATA`` or ``~/.cache/seqbook``).
        names: the datasets to fill (default: all of ``REGISTRY``).

    Returns:
        ``{name: what happened}``, one short phrase per dataset.

    Raises:
        ValueError: ``source`` is not a folder, or a name is unknown.
        DatasetError: a copy fails its checksum or is not listed in ``SHA1SUMS``, or
            an archive is corrupt; nothing incomplete is left in the cache.
    """
    if not isinstance(source, (str, os.PathLike)) or not Path(source).is_dir():
        raise ValueError(f"source must be a folder of offline dataset copies, got "
                         f"{source!r}")
    names = list(REGISTRY) if names is None else list(names)
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise ValueError(f"Unknown dataset names {unknown}; known: {sorted(REGISTRY)}")
    source, cache = Path(source), cache_dir(cache)
    cache.mkdir(parents=True, exist_ok=True)
    listing = source / "SHA1SUMS"
    sums = read_sha1sums(listing) if listing.is_file() else {}
    done = {}
    for name in names:
        spec = REGISTRY[name]
        if _is_ready(spec, cache):
            done[name] = "already in the cache"
            continue
        if all((source / f.filename).is_file() for f in spec.files):
            target = cache / spec.folder if spec.unpack is None and spec.expected \
                else cache
            for remote in spec.files:
                _copy_verified(source / remote.filename, remote.sha1,
                               target / remote.filename)
            if spec.unpack is not None:
                _unpack(cache / spec.files[0].filename, spec.unpack, spec, cache)
            done[name] = "copied" + (" and unpacked" if spec.unpack else "")
            continue
        tarball = source / f"{spec.folder}.tar.gz"
        if not tarball.is_file():
            done[name] = f"no copy in {source}: fetch() will download it"
            continue
        if tarball.name not in sums:
            raise DatasetError(f"{tarball} is not listed in {listing}, so it cannot be "
                               f"checked; add its sha1 there (sha1sum {tarball.name}).")
        got = sha1_of(tarball)
        if got != sums[tarball.name]:
            raise DatasetError(f"Checksum mismatch for the offline copy {tarball}: "
                               f"{listing} says sha1 {sums[tarball.name]}, got {got}.")
        _unpack(tarball, "tar", spec, cache)
        if not _is_ready(spec, cache):  # plain files whose registry sha1 differs
            shutil.rmtree(cache / spec.folder, ignore_errors=True)
            raise DatasetError(f"{tarball} unpacked, but its files do not match the "
                               f"sha1 of dataset '{name}' in the registry; removed.")
        done[name] = f"unpacked from {tarball.name}"
    return done


# ---------------------------------------------------------------------------- readers


def read_time_machine(cache: str | os.PathLike | None = None) -> str:
    """The raw text of *The Time Machine*, as one string."""
    return fetch("time_machine", cache).read_text(encoding="utf-8")


def read_ptb(split: str = "train", cache: str | os.PathLike | None = None) -> list[str]:
    """The lines of one Penn Treebank split (``train``, ``valid`` or ``test``).

    Each line is one sentence of space-separated words; rare words are already ``<unk>``
    and numbers ``N`` (Mikolov's preprocessing).
    """
    split = _check_split(split)
    return _read_lines(fetch("ptb", cache) / f"ptb.{split}.txt")


def read_wikitext2(split: str = "train",
                   cache: str | os.PathLike | None = None) -> list[str]:
    """The non-empty lines of one WikiText-2 split (``train``, ``valid`` or ``test``)."""
    split = _check_split(split)
    lines = _read_lines(fetch("wikitext-2", cache) / f"wiki.{split}.tokens")
    return [line for line in lines if line.strip()]


def read_imdb(split: str = "train", cache: str | os.PathLike | None = None
              ) -> tuple[list[str], list[int]]:
    """The reviews and labels (1 positive, 0 negative) of one IMDB split.

    Reviews are read in sorted file order, negatives first. The counts come from the
    files on disk: the copy used offline has 49,996 reviews, not 50,000. A smoke run
    (``utils.runs.smoke_run``) reads the first ``SMOKE_REVIEWS`` of each class: enough
    for every profile's subsets, in a fraction of the time.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = fetch("aclImdb", cache) / split
    texts, labels = [], []
    for label, sub in ((0, "neg"), (1, "pos")):
        paths = sorted((root / sub).glob("*.txt"))
        for path in paths[:smoke_limit(None, SMOKE_REVIEWS)]:  # all but in a smoke run
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(label)
    return texts, labels


def read_glove(dim: int = 100, cache: str | os.PathLike | None = None,
               max_words: int | None = None) -> tuple[list[str], "np.ndarray"]:
    """GloVe 6B vectors: ``(words, vectors)``, ``vectors`` of shape ``(N, dim)``.

    Fetches Stanford's ``glove.6B.zip`` once (822 MB, sha1-checked) and reads the
    member ``glove.6B.<dim>d.txt`` straight from the archive. The words come in the
    file's order (by decreasing frequency in the training corpus), lower-cased. Lines
    that do not hold a word and ``dim`` numbers (a header, say) are skipped.

    Args:
        dim: 50, 100, 200 or 300, the size of each vector.
        cache: the data cache (default ``$SEQBOOK_DATA`` or ``~/.cache/seqbook``).
        max_words: keep only the first ``max_words`` words (``None``: all 400,000).

    Raises:
        DatasetError: the archive cannot be fetched (the message says how to supply
            it by hand), it is corrupt, or it holds no vector of size ``dim``.
    """
    import io

    import numpy as np

    if isinstance(dim, bool) or dim not in GLOVE_DIMS:
        raise ValueError(f"dim must be one of {GLOVE_DIMS}, got {dim!r}")
    if max_words is not None and (isinstance(max_words, bool)
                                  or not isinstance(max_words, int) or max_words < 1):
        raise ValueError(f"max_words must be a positive int or None, got {max_words!r}")
    archive = fetch("glove.6B", cache)
    member = f"glove.6B.{dim}d.txt"
    words, rows = [], []
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as raw:
            for line in io.TextIOWrapper(raw, encoding="utf-8"):
                fields = line.rstrip().split(" ")
                if len(fields) != dim + 1:
                    continue
                words.append(fields[0])
                rows.append(np.asarray(fields[1:], dtype=np.float32))
                if max_words is not None and len(words) == max_words:
                    break
    except KeyError as err:
        raise DatasetError(f"The archive {archive} holds no {member}: it is not "
                           f"Stanford's glove.6B.zip. Delete it and run the cell again "
                           f"to download it anew.") from err
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"The archive {archive} is corrupt ({err}). Delete it and "
                           f"run the cell again to download it anew.") from err
    if not words:
        raise DatasetError(f"{member} in {archive} holds no word with {dim} numbers; "
                           f"delete the archive and run the cell again to fetch it "
                           f"anew.")
    return words, np.stack(rows)


def _check_split(split: str) -> str:
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    return split


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def main(argv: list[str] | None = None) -> None:
    """The command line of ``scripts/prefill_cache.sh``: ``prefill SOURCE [CACHE]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="prefill_cache.sh",
        description="Fill the book's data cache from a folder of offline copies.")
    sub = parser.add_subparsers(dest="command", required=True)
    fill = sub.add_parser("prefill", help="copy, check and unpack offline copies")
    fill.add_argument("source", help="a folder of dataset copies (with SHA1SUMS)")
    fill.add_argument("cache", nargs="?", default=None,
                      help=f"the cache folder (default ${CACHE_ENV_VAR}, then "
                           f"{DEFAULT_CACHE})")
    args = parser.parse_args(argv)
    for name, what in prefill(args.source, args.cache).items():
        print(f"{name:12s} {what}")
    print(f"data cache ready in {cache_dir(args.cache)}")
