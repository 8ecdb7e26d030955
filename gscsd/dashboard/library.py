"""The models the dashboard offers, reloaded when their file changes.

A modeler edits ``models/gsc.mdl`` while the dashboard runs: the next page or
run that uses the model sees a new content hash and loads (re-translates) it.
If the edit does not load, the last good version keeps serving and the error
is reported with it, so the page can show a banner naming the problem.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..model import Model, load_model
from ..translate import MODEL_SUFFIXES, content_hash

#: The model shown first when the folder has it.
PREFERRED = "gsc.mdl"
#: Model versions kept for pages built before an edit (each a few hundred kB of metadata).
KEEP_VERSIONS = 16


@dataclass(frozen=True)
class Loaded:
    """The outcome of asking for a model.

    Attributes
    ----------
    model : Model or None
        The current version, or the last good one if the file is broken now;
        ``None`` if it never loaded.
    error : str or None
        Why the file on disk cannot be used right now (one line), else ``None``.
    loaded_at : float
        When ``model`` was loaded (Unix seconds).
    """

    model: Model | None
    error: str | None = None
    loaded_at: float = 0.0


class ModelLibrary:
    """The model files of a folder (or one file), loaded on demand.

    Parameters
    ----------
    location : str or Path
        A folder whose model files (Vensim ``*.mdl``, XMILE/Stella ``*.xmile``,
        ``*.stmx``, ``*.itmx``) are offered, or a single model file.
    """

    def __init__(self, location: str | Path) -> None:
        location = Path(location)
        self.single = location if location.suffix.lower() in MODEL_SUFFIXES else None
        self.folder = location.parent if self.single else location
        self._good: dict[str, tuple[str, Model, float]] = {}  # file -> (hash, model, loaded at)
        self._failed: dict[str, tuple[str, str]] = {}  # file -> (hash, error)
        self._versions: OrderedDict[str, Model] = OrderedDict()  # hash -> model, recent versions served
        self._lock = threading.Lock()

    def files(self) -> list[str]:
        """File names of the models offered, sorted (the preferred one first)."""
        if self.single is not None:
            return [self.single.name] if self.single.is_file() else []
        if not self.folder.is_dir():
            return []
        root = self.folder.resolve()
        # Only files of the folder itself: a link to a file elsewhere (/etc/passwd.mdl) is not offered.
        names = sorted(p.name for p in self.folder.iterdir()
                       if p.suffix.lower() in MODEL_SUFFIXES and p.is_file() and p.resolve().parent == root)
        return sorted(names, key=lambda n: n != PREFERRED)

    def default(self) -> str | None:
        """The model to show when none is asked for."""
        files = self.files()
        return files[0] if files else None

    def path(self, file: str) -> Path:
        """The path of an offered file; InputError for anything else (no path tricks)."""
        from ..errors import InputError

        if file not in self.files():
            offered = ", ".join(self.files()) or "none"
            raise InputError(f"no model '{file}' in {self.folder}; offered: {offered}")
        return self.folder / file

    def get(self, file: str) -> Loaded:
        """The model in ``file``, reloaded if its content changed since last time."""
        try:
            path = self.path(file)
            digest = content_hash(path.read_bytes())
        except Exception as exc:
            return self._fallback(file, self._public(str(exc)))
        good = self._good.get(file)
        if good is not None and good[0] == digest:  # the common case: unchanged file, no lock
            return Loaded(good[1], None, good[2])
        # One loader per library at a time: translation is CPU-bound anyway, and
        # two sessions noticing the same edit must not translate it twice.
        with self._lock:
            good = self._good.get(file)
            if good is not None and good[0] == digest:
                return Loaded(good[1], None, good[2])
            failed = self._failed.get(file)
            if failed is not None and failed[0] == digest:
                return self._fallback(file, failed[1])
            try:
                model = load_model(path)
            except Exception as exc:  # a broken edit: report it, keep serving the last good version
                message = self._public(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                self._failed[file] = (digest, message)
                return self._fallback(file, message)
            now = time.time()
            self._good[file] = (model.hash, model, now)
            self._versions[model.hash] = model
            while len(self._versions) > KEEP_VERSIONS:
                self._versions.popitem(last=False)
            self._failed.pop(file, None)
            return Loaded(model, None, now)

    def version(self, digest: str) -> Model | None:
        """A model version this library served, by content hash (``None`` if never)."""
        return self._versions.get(digest)

    def current(self, digest: str) -> Model | None:
        """The model whose file has content hash ``digest`` now, loading the files it does not know yet.

        Another server process may have built the page: this one then has not served that version, but
        finds the file by its content hash and loads that one only.
        """
        found = self.version(digest)
        if found is not None:
            return found
        for file in self.files():
            try:
                same = content_hash(self.path(file).read_bytes()) == digest
            except OSError:
                continue
            if same:
                loaded = self.get(file)
                return loaded.model if loaded.model is not None and loaded.model.hash == digest else None
        return None

    def _public(self, message: str) -> str:
        """``message`` without the server's folders: a page shows file names, never where they live."""
        for folder in {str(self.folder.resolve()), str(self.folder)}:
            message = message.replace(folder.rstrip("/") + "/", "")
        return message

    def _fallback(self, file: str, error: str) -> Loaded:
        good = self._good.get(file)
        if good is None:
            return Loaded(None, error)
        return Loaded(good[1], error, good[2])
