"""Tests of utils.datasets: the real download path against a local HTTP server.

The server runs on 127.0.0.1 on a port the system picks, in a thread, and serves
small files and archives the tests make. Nothing here reaches the internet.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from utils import datasets
from utils.datasets import DatasetError, DatasetSpec, RemoteFile


# ------------------------------------------------------------------ a local server


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (body, mode); mode "ok" or "short"."""

    def do_GET(self):  # noqa: N802 (the name http.server asks for)
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, mode = self.server.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode == "short":  # promise twice the bytes, send half, hang up
            self.send_header("Content-Length", str(2 * len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2 + 1])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output quiet
        pass


class LocalServer:
    """An HTTP server on an ephemeral 127.0.0.1 port that stops by itself."""

    def __init__(self, lifetime: float = 60.0):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes, self.httpd.requests = {}, []
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.watchdog = threading.Timer(lifetime, self.stop)
        self.watchdog.daemon = True
        self._stopped = False

    def __enter__(self):
        self.thread.start()
        self.watchdog.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self.watchdog.cancel()
            self.httpd.shutdown()
            self.httpd.server_close()

    def serve(self, path: str, body: bytes, mode: str = "ok") -> str:
        self.httpd.routes[path] = (body, mode)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _tar_gz_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ cache_dir, names


def test_cache_dir_reads_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.CACHE_ENV_VAR, str(tmp_path / "here"))
    assert datasets.cache_dir() == tmp_path / "here"
    assert datasets.cache_dir(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv(datasets.CACHE_ENV_VAR)
    assert datasets.cache_dir() == datasets.DEFAULT_CACHE


def test_unknown_dataset_name_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no-such-set"):
        datasets.fetch("no-such-set", tmp_path)


def test_registry_entries_are_consistent():
    for name, spec in datasets.REGISTRY.items():
        assert spec.name == name
        assert spec.unpack in (None, "zip", "tar")
        for remote in spec.files:
            assert len(remote.sha1) == 40 and int(remote.sha1, 16) >= 0
            assert remote.url.startswith(("http://", "https://"))


# ------------------------------------------------------------------ download


def test_download_caches_verifies_and_then_stays_offline(server, tmp_path):
    body = b"It was a dark and stormy night.\n" * 100
    remote = RemoteFile(server.serve("/story.txt", body), _sha1(body), "story.txt")
    path = datasets.download(remote, tmp_path, progress=False)
    assert path == tmp_path / "story.txt"
    assert path.read_bytes() == body
    assert datasets.sha1_of(path) == remote.sha1
    assert server.requests == ["/story.txt"]
    assert _files_in(tmp_path) == ["story.txt"]  # no .part file left behind
    server.stop()  # a second call must not need the server
    assert datasets.download(remote, tmp_path, progress=False) == path
    assert server.requests == ["/story.txt"]


def test_checksum_mismatch_says_expected_and_got_and_leaves_nothing(server, tmp_path):
    body = b"these are not the bytes you are looking for"
    wrong = "0" * 40
    remote = RemoteFile(server.serve("/bad.txt", body), wrong, "bad.txt")
    with pytest.raises(DatasetError) as info:
        datasets.download(remote, tmp_path, progress=False)
    message = str(info.value)
    assert wrong in message and _sha1(body) in message
    assert "expected" in message and "got" in message
    assert _files_in(tmp_path) == []


def test_transfer_cut_off_half_way_leaves_no_file(server, tmp_path):
    body = bytes(range(256)) * 400
    remote = RemoteFile(server.serve("/big.bin", body, mode="short"), _sha1(body),
                        "big.bin")
    with pytest.raises(DatasetError, match="big.bin"):
        datasets.download(remote, tmp_path, progress=False)
    assert _files_in(tmp_path) == []


def test_no_network_names_url_cache_and_manual_fix(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/timemachine.txt"
    remote = RemoteFile(url, "1" * 40, "timemachine.txt")
    with pytest.raises(DatasetError) as info:
        datasets.download(remote, tmp_path, timeout=5, progress=False)
    message = str(info.value)
    assert url in message
    assert str(tmp_path) in message
    assert str(tmp_path / "timemachine.txt") in message  # where to put it by hand
    assert datasets.CACHE_ENV_VAR in message
    assert _files_in(tmp_path) == []


def test_http_error_is_a_dataset_error(server, tmp_path):
    url = server.serve("/exists.txt", b"x").replace("exists", "missing")
    with pytest.raises(DatasetError, match="missing.txt"):
        datasets.download(RemoteFile(url, "2" * 40, "missing.txt"), tmp_path,
                          progress=False)
    assert _files_in(tmp_path) == []


def test_a_bad_cached_file_is_downloaded_again(server, tmp_path):
    body = b"the real content\n"
    remote = RemoteFile(server.serve("/f.txt", body), _sha1(body), "f.txt")
    (tmp_path / "f.txt").write_bytes(b"stale")
    assert datasets.download(remote, tmp_path, progress=False).read_bytes() == body
    assert server.requests == ["/f.txt"]


# ------------------------------------------------------------------ fetch and unpack


def _register(monkeypatch, spec: DatasetSpec) -> None:
    monkeypatch.setitem(datasets.REGISTRY, spec.name, spec)


def test_fetch_zip_archive(server, tmp_path, monkeypatch):
    archive = _zip_bytes({"toy/a.train.txt": b"a b c\n", "toy/a.valid.txt": b"d e\n"})
    remote = RemoteFile(server.serve("/toy.zip", archive), _sha1(archive), "toy.zip")
    _register(monkeypatch, DatasetSpec("toy", (remote,), "zip", "toy",
                                       expected=("a.train.txt", "a.valid.txt")))
    folder = datasets.fetch("toy", tmp_path, progress=False)
    assert folder == tmp_path / "toy"
    assert (folder / "a.train.txt").read_bytes() == b"a b c\n"
    assert _files_in(tmp_path) == ["toy", "toy.zip", "toy/.complete", "toy/a.train.txt",
                                   "toy/a.valid.txt"]  # no staging folder left
    server.stop()
    assert datasets.fetch("toy", tmp_path, progress=False) == folder
    assert server.requests == ["/toy.zip"]


def test_fetch_tar_gz_archive(server, tmp_path, monkeypatch):
    archive = _tar_gz_bytes({"reviews/train/pos/0_9.txt": b"great",
                             "reviews/test/neg/1_2.txt": b"awful"})
    remote = RemoteFile(server.serve("/reviews.tar.gz", archive), _sha1(archive),
                        "reviews.tar.gz")
    _register(monkeypatch, DatasetSpec("reviews", (remote,), "tar", "reviews",
                                       expected=("train", "test")))
    folder = datasets.fetch("reviews", tmp_path, progress=False)
    assert (folder / "train" / "pos" / "0_9.txt").read_text() == "great"
    assert (folder / "test" / "neg" / "1_2.txt").read_text() == "awful"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_fetch_several_plain_files_into_a_folder(server, tmp_path, monkeypatch):
    bodies = {"x.train": b"one\n", "x.valid": b"two\n"}
    remotes = tuple(RemoteFile(server.serve(f"/{name}", body), _sha1(body), name)
                    for name, body in bodies.items())
    _register(monkeypatch, DatasetSpec("x", remotes, None, "x",
                                       expected=tuple(bodies)))
    folder = datasets.fetch("x", tmp_path, progress=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == bodies
    server.stop()
    assert datasets.fetch("x", tmp_path, progress=False) == folder


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_corrupt_archive_names_it_and_leaves_no_folder(server, tmp_path, monkeypatch,
                                                        kind):
    good = (_zip_bytes if kind == "zip" else _tar_gz_bytes)({"toy/a.txt": b"a" * 500})
    corrupt = good[: len(good) // 2]  # registered with its own sha1: it downloads fine
    name = "toy.zip" if kind == "zip" else "toy.tar.gz"
    remote = RemoteFile(server.serve(f"/{name}", corrupt), _sha1(corrupt), name)
    _register(monkeypatch, DatasetSpec("toy", (remote,), kind, "toy",
                                       expected=("a.txt",)))
    with pytest.raises(DatasetError, match=name):
        datasets.fetch("toy", tmp_path, progress=False)
    assert not (tmp_path / "toy").exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no staging folder


def test_archive_without_the_expected_folder(server, tmp_path, monkeypatch):
    archive = _zip_bytes({"other/a.txt": b"a"})
    remote = RemoteFile(server.serve("/toy.zip", archive), _sha1(archive), "toy.zip")
    _register(monkeypatch, DatasetSpec("toy", (remote,), "zip", "toy",
                                       expected=("a.txt",)))
    with pytest.raises(DatasetError, match="toy/"):
        datasets.fetch("toy", tmp_path, progress=False)
    assert _files_in(tmp_path) == ["toy.zip"]


def test_an_interrupted_unpacking_is_not_trusted(server, tmp_path, monkeypatch):
    archive = _zip_bytes({"toy/a.txt": b"whole", "toy/b.txt": b"also whole"})
    remote = RemoteFile(server.serve("/toy.zip", archive), _sha1(archive), "toy.zip")
    _register(monkeypatch, DatasetSpec("toy", (remote,), "zip", "toy",
                                       expected=("a.txt",)))
    (tmp_path / "toy").mkdir()                      # what an interrupted unpack leaves:
    (tmp_path / "toy" / "a.txt").write_bytes(b"wh")  # the expected file, cut short
    folder = datasets.fetch("toy", tmp_path, progress=False)
    assert (folder / "a.txt").read_bytes() == b"whole"
    assert (folder / "b.txt").read_bytes() == b"also whole"
    assert (folder / datasets.COMPLETE_MARKER).is_file()


# ------------------------------------------------------------------ offline copies


def _offline_copies(tmp_path, monkeypatch):
    """A source folder with one canonical archive and one tarball listed in SHA1SUMS."""
    source = tmp_path / "source"
    source.mkdir()
    archive = _zip_bytes({"toy/a.txt": b"alpha"})
    (source / "toy.zip").write_bytes(archive)
    _register(monkeypatch, DatasetSpec(
        "toy", (RemoteFile("http://127.0.0.1:9/toy.zip", _sha1(archive), "toy.zip"),),
        "zip", "toy", expected=("a.txt",)))
    tarball = _tar_gz_bytes({"reviews/train/1.txt": b"good", "reviews/test/2.txt": b"bad"})
    (source / "reviews.tar.gz").write_bytes(tarball)
    _register(monkeypatch, DatasetSpec(
        "reviews", (RemoteFile("http://127.0.0.1:9/r.tar.gz", "0" * 40, "r.tar.gz"),),
        "tar", "reviews", expected=("train", "test")))
    (source / "SHA1SUMS").write_text(f"{_sha1(tarball)}  reviews.tar.gz\n")
    return source


def test_prefill_copies_checks_and_unpacks(tmp_path, monkeypatch):
    source = _offline_copies(tmp_path, monkeypatch)
    before = _files_in(source)
    cache = tmp_path / "cache"
    done = datasets.prefill(source, cache, names=["toy", "reviews"])
    assert done == {"toy": "copied and unpacked",
                    "reviews": "unpacked from reviews.tar.gz"}
    assert (cache / "toy" / "a.txt").read_bytes() == b"alpha"
    assert (cache / "reviews" / "train" / "1.txt").read_bytes() == b"good"
    assert (cache / "reviews" / datasets.COMPLETE_MARKER).is_file()
    assert _files_in(source) == before  # the source is only read
    assert datasets.prefill(source, cache, names=["toy", "reviews"]) == {
        "toy": "already in the cache", "reviews": "already in the cache"}
    assert datasets.fetch("reviews", cache) == cache / "reviews"  # no network needed


def test_prefill_refuses_a_copy_with_the_wrong_sha1(tmp_path, monkeypatch):
    source = _offline_copies(tmp_path, monkeypatch)
    (source / "toy.zip").write_bytes(b"not the archive")
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError, match="(?s)Checksum mismatch.*toy.zip"):
        datasets.prefill(source, cache, names=["toy"])
    assert _files_in(cache) == []


def test_prefill_wants_a_listed_tarball(tmp_path, monkeypatch):
    source = _offline_copies(tmp_path, monkeypatch)
    (source / "SHA1SUMS").write_text("")
    with pytest.raises(DatasetError, match="not listed in"):
        datasets.prefill(source, tmp_path / "cache", names=["reviews"])
    (source / "SHA1SUMS").write_text(f"{'1' * 40}  reviews.tar.gz\n")
    with pytest.raises(DatasetError, match="Checksum mismatch"):
        datasets.prefill(source, tmp_path / "cache", names=["reviews"])
    assert not (tmp_path / "cache" / "reviews").exists()


def test_prefill_reports_what_it_cannot_fill(tmp_path, monkeypatch):
    source = _offline_copies(tmp_path, monkeypatch)
    (source / "toy.zip").unlink()
    done = datasets.prefill(source, tmp_path / "cache", names=["toy"])
    assert done["toy"].startswith("no copy in")


def test_prefill_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="folder of offline dataset copies"):
        datasets.prefill(tmp_path / "missing", tmp_path / "cache")
    with pytest.raises(ValueError, match="Unknown dataset names"):
        datasets.prefill(tmp_path, tmp_path / "cache", names=["mnist"])


def test_read_sha1sums(tmp_path):
    listing = tmp_path / "SHA1SUMS"
    listing.write_text(f"{'A' * 40}  one.txt\n\n{'b' * 40} *two.tar.gz\n")
    assert datasets.read_sha1sums(listing) == {"one.txt": "a" * 40,
                                               "two.tar.gz": "b" * 40}


# ------------------------------------------------------------------ the real data

_REAL = datasets.cache_dir()
# The datasets the chapters train on, which CI's cache holds; the GloVe vectors are
# optional (downloaded where there is internet) and are tested on archives made here.
_CHAPTER_DATA = ("time_machine", "ptb", "wikitext-2", "aclImdb")
_HAVE_REAL = all((_REAL / datasets.REGISTRY[name].folder).exists()
                 for name in _CHAPTER_DATA)


@pytest.mark.skipif(not _HAVE_REAL, reason=f"the datasets are not in the cache {_REAL} "
                    f"(set ${datasets.CACHE_ENV_VAR} to a filled cache to run this)")
def test_every_dataset_in_the_cache_is_used_without_network(monkeypatch):
    def offline(*args, **kwargs):
        raise AssertionError("fetch() tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    for name in _CHAPTER_DATA:
        assert (datasets.fetch(name, progress=False)
                == _REAL / datasets.REGISTRY[name].folder)
    assert "Time Traveller" in datasets.read_time_machine()
    assert len(datasets.read_ptb("valid")) == 3370
    assert datasets.read_wikitext2("test")[0].strip() == "= Robert <unk> ="
    texts, labels = datasets.read_imdb("test")
    assert len(texts) == len(labels) and set(labels) == {0, 1}


# ------------------------------------------------------------------ GloVe


def _glove_archive(files: dict[int, list[str]]) -> bytes:
    """A small glove.6B.zip: one ``glove.6B.<dim>d.txt`` member per entry."""
    return _zip_bytes({f"glove.6B.{dim}d.txt": ("\n".join(lines) + "\n").encode()
                       for dim, lines in files.items()})


def _register_glove(monkeypatch, server, archive: bytes, sha1: str | None = None,
                    mirrors: tuple[str, ...] = ()):
    """Point the real GloVe entry at the local server, keeping its name and layout."""
    real = datasets.REGISTRY["glove.6B"]
    remote = RemoteFile(server.serve("/glove.6B.zip", archive), sha1 or _sha1(archive),
                        real.files[0].filename, mirrors=mirrors)
    _register(monkeypatch, DatasetSpec(real.name, (remote,), real.unpack, real.folder))


def test_the_glove_entry_is_stanfords_archive():
    spec = datasets.REGISTRY["glove.6B"]
    assert spec.files[0].url == "https://nlp.stanford.edu/data/glove.6B.zip"
    assert spec.files[0].filename == spec.folder == "glove.6B.zip"
    assert len(spec.files[0].sha1) == 40 and spec.unpack is None


def test_read_glove_fetches_checks_and_parses(server, tmp_path, monkeypatch):
    lines = ["3 50", "the " + " ".join(["0.5"] * 50), "movie " + " ".join(["-1"] * 50),
             "bad 1 2", "great " + " ".join(str(i) for i in range(50))]
    other = ["the " + " ".join(["2"] * 100)]
    _register_glove(monkeypatch, server, _glove_archive({50: lines, 100: other}))
    words, vectors = datasets.read_glove(50, tmp_path)
    assert words == ["the", "movie", "great"]      # the header and the short line skipped
    assert vectors.shape == (3, 50) and vectors.dtype.name == "float32"
    assert vectors[2, 49] == 49.0 and vectors[1].sum() == -50.0
    assert datasets.read_glove(50, tmp_path, max_words=2)[0] == ["the", "movie"]
    assert (tmp_path / "glove.6B.zip").is_file()   # kept zipped, read member by member
    server.stop()                                   # from now on, the cache alone
    assert datasets.read_glove(50, tmp_path)[0] == words
    words100, vectors100 = datasets.read_glove(100, tmp_path)
    assert words100 == ["the"] and vectors100.shape == (1, 100) and vectors100[0, 0] == 2


def test_read_glove_falls_back_to_a_mirror(server, tmp_path, monkeypatch):
    archive = _glove_archive({50: ["a " + " ".join(["1"] * 50)]})
    mirror = server.serve("/mirror/glove.6B.zip", archive)
    real = datasets.REGISTRY["glove.6B"]
    missing = server.serve("/missing/glove.6B.zip", b"")
    del server.httpd.routes["/missing/glove.6B.zip"]          # a 404 there
    remote = RemoteFile(missing, _sha1(archive),
                        real.files[0].filename, mirrors=(mirror,))
    _register(monkeypatch, DatasetSpec(real.name, (remote,), real.unpack, real.folder))
    assert datasets.read_glove(50, tmp_path)[0] == ["a"]
    assert server.requests == ["/missing/glove.6B.zip", "/mirror/glove.6B.zip"]


def test_read_glove_refuses_a_checksum_mismatch(server, tmp_path, monkeypatch):
    archive = _glove_archive({100: ["a " + " ".join(["1"] * 100)]})
    _register_glove(monkeypatch, server, archive, sha1="0" * 40)
    with pytest.raises(DatasetError, match="Checksum mismatch .* expected sha1 0{40}"):
        datasets.read_glove(100, tmp_path)
    assert list(tmp_path.iterdir()) == []          # nothing left that passes for good


def test_read_glove_names_a_corrupt_archive(server, tmp_path, monkeypatch):
    archive = _glove_archive({50: ["a " + " ".join(["1"] * 50)] * 40})
    corrupt = archive[: len(archive) // 2]          # its sha1 is what the entry expects
    _register_glove(monkeypatch, server, corrupt)
    with pytest.raises(DatasetError, match="glove.6B.zip is corrupt"):
        datasets.read_glove(50, tmp_path)


def test_read_glove_names_an_archive_without_that_size(server, tmp_path, monkeypatch):
    _register_glove(monkeypatch, server, _glove_archive({50: ["a " + " ".join(["1"] * 50)]}))
    with pytest.raises(DatasetError, match="holds no glove.6B.300d.txt"):
        datasets.read_glove(300, tmp_path)


def test_read_glove_without_vectors_of_that_size_says_so(server, tmp_path, monkeypatch):
    _register_glove(monkeypatch, server, _glove_archive({50: ["a 1 2 3"]}))
    with pytest.raises(DatasetError, match="holds no word with 50 numbers"):
        datasets.read_glove(50, tmp_path)


def test_read_glove_offline_says_how_to_supply_it(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError, match="glove.6B.zip .*huggingface.*save it as"):
        datasets.read_glove(100, tmp_path)


@pytest.mark.parametrize("kwargs, message", [({"dim": 64}, "dim must be one of"),
                                             ({"dim": True}, "dim must be one of"),
                                             ({"max_words": 0}, "max_words must be")])
def test_read_glove_checks_its_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.read_glove(cache=tmp_path, **kwargs)


def test_split_names_are_checked(tmp_path):
    with pytest.raises(ValueError, match="split"):
        datasets.read_ptb("dev", tmp_path)
    with pytest.raises(ValueError, match="split"):
        datasets.read_imdb("valid", tmp_path)
