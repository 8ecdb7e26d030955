"""Translate Vensim ``.mdl`` files (and XMILE ones, see :mod:`gscsd.xmile`) with PySD, once per content.

PySD turns a ``.mdl`` into a Python module. Translating takes a second or
more, so the result is kept in a cache directory outside the repository,
keyed by the content hash of the ``.mdl`` (and the PySD version, and the
folder the model lives in, because PySD resolves data files relative to it).
An edited ``.mdl`` has a new hash and is translated again on its next load.

Beside the module the cache keeps ``meta.json``: everything gscsd needs to
know about the model (variables, units, ranges, groups, defaults, time
settings), read once from PySD's parser and from the loaded model, so that
loading a cached model never parses anything again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InputError, ModelError, TranslationError, UnsupportedFunctionError
from .names import canonical
from .vensim import messages
from .xmile import SUFFIXES as XMILE_SUFFIXES
from .xmile import is_xmile

#: Bump when the layout of the cache entries or of ``meta.json`` changes.
CACHE_FORMAT = 6

#: The exact bytes a cache entry was translated from (the fast engine compiles these, never the file on disk),
#: whatever the model's format.
SOURCE_COPY = "source.mdl"

#: The model files gscsd reads: Vensim's ``.mdl`` and XMILE (:data:`gscsd.xmile.SUFFIXES`).
MODEL_SUFFIXES = (".mdl", *XMILE_SUFFIXES)

CONTROL_VARIABLES = ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER")

_SKETCH_MARK = "\\\\\\---///"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_root() -> Path:
    """Return the cache directory: ``$GSCSD_CACHE_DIR`` or the user cache dir."""
    explicit = os.environ.get("GSCSD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gscsd"


def content_hash(data: bytes) -> str:
    """Return the SHA-256 hex digest of a model file's bytes."""
    return hashlib.sha256(data).hexdigest()


def translate(mdl_path: Path, external_files: Mapping[str, str | Path] | None = None) -> tuple[Path, dict[str, Any]]:
    """Return the translated module and the metadata of ``mdl_path``.

    Translates on a cache miss; otherwise only reads ``meta.json``. ``external_files`` resolves the file aliases
    of GET XLS/DIRECT functions (``{"?data": "data.xlsx"}``, :mod:`gscsd.vensim.aliases`): the model is
    translated (and cached) with them written in.

    Raises
    ------
    InputError
        If the file does not exist or is not a model file (``.mdl``, ``.xmile``, ``.stmx``, ``.itmx``).
    TranslationError
        If PySD cannot parse or translate it (the message names the line).
    """
    mdl_path = Path(mdl_path)
    if not mdl_path.is_file():
        raise InputError(f"model file not found: {mdl_path}; give the path to a Vensim .mdl or an XMILE/Stella "
                         ".xmile, .stmx or .itmx file")
    if mdl_path.suffix.lower() not in MODEL_SUFFIXES:
        raise InputError(f"{mdl_path} is not a model file gscsd reads: give a Vensim .mdl or an XMILE/Stella "
                         ".xmile, .stmx or .itmx file")
    data = _read_text_model(mdl_path)
    if external_files and not is_xmile(mdl_path):
        from .vensim.aliases import rewrite

        data = rewrite(data, external_files, mdl_path.resolve().parent)
    digest = content_hash(data)
    entry = _entry_dir(mdl_path, digest)
    with _lock_for(str(entry)):
        meta_file = entry / "meta.json"
        if not meta_file.is_file():
            _translate_into(mdl_path, data, digest, entry)
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    return entry / meta["module"], meta


def _read_text_model(mdl_path: Path) -> bytes:
    """The bytes of a ``.mdl``; InputError for a file too large or not text (Vensim's binary .vmf/.vpm)."""
    from .limits import MAX_MODEL_BYTES

    with mdl_path.open("rb") as file:
        data = file.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise InputError(f"{mdl_path} is larger than {MAX_MODEL_BYTES:,} bytes; gscsd reads model files up to that")
    sample = data[:65536]
    try:
        sample.decode("utf-8")
        text = True
    except UnicodeDecodeError as exc:  # a cut multi-byte character at the end is still text
        text = exc.start >= len(sample) - 3 and len(sample) == 65536
        if not text:  # older models are Windows-1252: text, with few control characters
            controls = sum(b < 32 and b not in b"\t\n\r\f" or b == 127 for b in sample)
            text = controls <= len(sample) // 100
    if (b"\0" in sample or not text) and is_xmile(mdl_path):
        raise InputError(f"{mdl_path} is not a text file; an XMILE/Stella model is saved as XML text (Stella 10 "
                         "and later; older Stella files are binary: save them again from Stella)")
    if b"\0" in sample or not text:
        raise InputError(f"{mdl_path} is not a text file; a Vensim model is saved as text (.mdl), "
                         "not in Vensim's binary formats (.vmf, .vpm)")
    return data


def _entry_dir(mdl_path: Path, digest: str) -> Path:
    import pysd

    folder = hashlib.sha256(str(mdl_path.resolve().parent).encode()).hexdigest()[:10]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", mdl_path.stem)[:40]
    name = f"{stem}-{digest[:20]}-{folder}-pysd{pysd.__version__}-f{CACHE_FORMAT}"
    if is_xmile(mdl_path):  # gscsd's fixes to PySD's XMILE translator change the translation too
        from .xmile import TRANSLATOR_VERSION

        name += f"-x{TRANSLATOR_VERSION}"
    else:  # and so do its rewrites of a .mdl's text (gscsd.vensim)
        from .vensim import TRANSLATOR_VERSION as VENSIM_VERSION

        name += f"-v{VENSIM_VERSION}"
    return cache_root() / "translations" / name


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _translate_into(mdl_path: Path, data: bytes, digest: str, entry: Path) -> None:
    """Translate into a scratch folder, then move it into place atomically.

    Several processes (dashboard workers, Dask workers) may translate the same
    model at once; whoever renames first wins and the others drop their copy.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".tmp-{uuid.uuid4().hex[:8]}-", dir=entry.parent))
    try:
        (scratch / SOURCE_COPY).write_bytes(data)
        translate_file = _translate_file
        if is_xmile(mdl_path):  # XMILE and Stella models: gscsd.xmile, into the same kind of entry
            from .xmile import translate_file
        meta = translate_file(mdl_path, data, scratch, digest)
        (scratch / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            os.rename(scratch, entry)
        except OSError:
            if not (entry / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _translate_file(original: Path, data: bytes, scratch: Path, digest: str) -> dict[str, Any]:
    """Translate ``data`` (the bytes of ``original``) with PySD, writing the Python modules into ``scratch``.

    PySD parses the text as if it were read from ``original``, so that
    subscripts read from data files (GET XLS SUBSCRIPT) resolve next to it;
    only its output goes to the cache.
    """
    from pysd.builders.python.python_model_builder import ModelBuilder

    from .vensim import aliases, decode, open_vensim, pysd_gaps, read_settings

    raw = decode(data)
    with warnings.catch_warnings(record=True) as caught:
        # PySD warns about things it handles (no {UTF-8} marker, :CONSTRAINT:
        # reality checks it ignores, ...); only unsupported functions matter here.
        warnings.simplefilter("always")
        vensim = open_vensim(raw, original)
        _parse(vensim, original, raw)
        problem: Exception | None = None  # why PySD cannot run the model, if it cannot
        abstract = vensim.get_abstract_model()
        for name, alias in aliases.unresolved(abstract):
            line = messages.definition_line(raw, name)
            raise TranslationError(
                f"{original}:{line}: '{name}' reads its data from the file alias '{alias}', "
                f"which the model's settings do not resolve; give the file: gscsd.load_model(path, "
                f"external_files={{'{alias}': FILE}}) or --external-file '{alias}=FILE'")
        for name, reason in pysd_gaps.refusals(abstract):
            raise TranslationError(f"{original}:{messages.definition_line(raw, name)}: '{name}': {reason}")
        gaps = pysd_gaps.problems(abstract)  # PySD would build these and run them wrongly or not at all
        if gaps:
            problem = TranslationError(f"{original}: {gaps[0]}")
        else:
            try:
                builder = ModelBuilder(abstract)
                for section in builder.sections:  # write into the cache, not beside the model
                    section.path, section.root = scratch / section.path.name, scratch
                py_file = Path(builder.build_model())
            except (RecursionError, Exception) as exc:  # PySD raises plain exceptions of many kinds
                problem = TranslationError(messages.build_failure(original, raw, exc, _line_of))
                problem.__cause__ = exc
    for warning in caught if problem is None else ():
        match = re.search(r"translate '([^']+)' which it is not implemented", str(warning.message))
        if match:
            function = match.group(1)
            line = _line_of(raw, function)
            variable = messages.variable_at(raw, line)
            known = messages.hint(function)
            todo = known[1] if known else "rewrite the equation with supported functions (docs/engine.md lists them)"
            problem = UnsupportedFunctionError(
                f"{original}:{line}: Vensim function {function} is not supported by the translator (in '{variable}'); "
                f"{todo}"
            )
            break
    if problem is None:
        for module in scratch.glob("*.py"):
            _point_data_root(module, original.resolve().parent)
        try:
            meta = _metadata(vensim, py_file, raw, original)
        except ModelError as exc:  # PySD's module fails to initialise
            problem = exc
    if problem is not None:
        # PySD parsed the model but cannot run it: where the fast engine, working from the same parse, runs it,
        # its analysis gives the metadata (gscsd.engines.fast.metadata); else PySD's error stands.
        meta, py_file = _metadata_without_pysd(vensim, raw, original, scratch, problem)
    settings = read_settings(raw)
    meta["time"].update(method=settings.method, vensim_method=settings.vensim_method)
    meta.update(module=py_file.name, source=str(original.resolve()), hash=digest,
                differences=list(settings.differences))
    return meta


def _metadata_without_pysd(vensim: Any, raw: str, original: Path, scratch: Path,
                           problem: Exception) -> tuple[dict[str, Any], Path]:
    """The metadata of a model PySD cannot run, from the fast engine's analysis; raise ``problem`` if the fast
    engine cannot run it either."""
    from .engines.fast import metadata as fast_metadata

    section = vensim.sections[0]
    equations, limits = _equations(section)
    from .vensim.mappings import fix as fix_mappings

    abstract = fix_mappings(vensim.get_abstract_model(), raw)
    meta = fast_metadata.describe(abstract, original.resolve().parent, equations, limits, _groups(raw))
    if meta is None:
        refusal = fast_metadata.refusal(abstract, original.resolve().parent)
        lacks = re.match(r"(.*?): Vensim function (.+?) is not supported by the translator", str(problem))
        # unless the fast engine lacks the same function, its reason says what to change
        if refusal and lacks and f"function {lacks.group(2)} is not supported by the fast engine" not in refusal:
            raise UnsupportedFunctionError(f"{lacks.group(1)}: the fast engine cannot run this model: {refusal} "
                                           f"(and PySD's translator lacks Vensim's {lacks.group(2)})") from problem
        raise problem
    first = str(problem).split("; ")[0] or type(problem).__name__
    reason = re.sub(r"^.*?: (?=\S)", "", first, count=1)  # without the file name: the placeholder is in the cache
    meta["pysd"] = reason
    return meta, fast_metadata.write_placeholder(scratch, reason)


def _parse(vensim: Any, original: Path, raw: str) -> None:
    """Run PySD's parser, turning its errors into one line naming file and line."""
    try:
        vensim.parse(parse_all=False)
    except Exception as exc:
        raise TranslationError(f"{original}:{_error_line(exc)}: malformed model file: {_first_line(exc)}") from exc
    for section in vensim.sections:
        try:
            section.parse()
        except Exception as exc:
            failed = _failing_element(section)
            if failed is None:
                raise TranslationError(f"{original}: malformed model file: {_first_line(exc)}") from exc
            snippet, equation, error = failed
            raise TranslationError(
                messages.parse_failure(original, _line_of(raw, snippet), snippet, equation, error)
            ) from exc


def _failing_element(section: Any) -> tuple[str, str, Exception] | None:
    """Name (or equation start), equation and error of the first element of ``section`` that fails to parse.

    PySD parses a whole section at once and its errors give positions inside
    one whitespace-collapsed equation; re-parsing element by element tells
    which definition is broken, so the message can give its line in the file.
    """
    for element in section.elements or []:
        equation = getattr(element, "equation", "")
        try:
            if hasattr(element, "equation"):  # not parsed yet
                label = element.equation.split("=")[0].split("(")[0].strip() or element.equation[:40]
                element = element.parse()
            else:
                label = element.name
            if hasattr(element, "parse"):
                element.parse()
        except Exception as exc:
            return label, equation, exc
    return None


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _error_line(exc: Exception) -> str:
    match = re.search(r"line (\d+)", str(exc))
    return match.group(1) if match else "?"


def _line_of(raw: str, snippet: str) -> int | str:
    """Return the 1-based line of ``raw`` where ``snippet`` starts (any spacing)."""
    words = [re.escape(w) for w in re.split(r"[\s_]+", snippet.strip()) if w]
    if not words:
        return "?"
    match = re.search(r"[\s_]+".join(words), raw, flags=re.IGNORECASE)
    return raw.count("\n", 0, match.start()) + 1 if match else "?"


def _point_data_root(py_file: Path, folder: Path) -> None:
    """Make data files (GET XLS, GET DIRECT DATA) resolve next to the original.

    PySD's modules find data files and macro modules through ``_root``: data
    lives beside the ``.mdl``, macro modules beside the translation.
    """
    text = py_file.read_text(encoding="utf-8")
    text = text.replace("_root = Path(__file__).parent", f"_root = Path({str(folder)!r})", 1)
    text = re.sub(r'_root\.joinpath\(("[^"]+\.py")\)', r"Path(__file__).parent.joinpath(\1)", text)
    py_file.write_text(text, encoding="utf-8")


def _metadata(vensim: Any, py_file: Path, raw: str, original: Path) -> dict[str, Any]:
    """Collect the facts about every variable that the rest of gscsd uses."""
    equations, limits = _equations(vensim.sections[0])
    return describe(py_file, original, equations, limits, _groups(raw))


def _equations(section: Any) -> tuple[dict[str, list[str]], dict[str, tuple]]:
    """Each variable's equations (one per definition, with its subscripts) and its range, by canonical name."""
    equations: dict[str, list[str]] = {}
    for component in section.components:
        key = canonical(component.name)
        subs = component.subscripts[0] if component.subscripts else []
        rhs = str(component.expression).strip()
        equations.setdefault(key, []).append(f"[{','.join(subs)}] {rhs}" if subs else rhs)
    limits = {canonical(c.name): c.limits for c in section.components if c.limits}
    return equations, limits


def describe(py_file: Path, original: Path, equations: dict[str, list[str]], limits: dict[str, tuple],
             groups: dict[str, str]) -> dict[str, Any]:
    """The metadata of a translated model (``meta.json`` without the entry's own fields).

    ``equations`` (in the order the file writes them, which the variables
    keep), ``limits`` (``(min, max[, step])``, ``None`` for an open side) and
    ``groups`` are by canonical variable name, as the model file states them;
    everything else is read from PySD's loaded module. Shared by the Vensim
    and the XMILE translations.
    """
    import pysd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = pysd.load(str(py_file))
        except Exception as exc:
            known = messages.hint(str(exc))
            todo = f"{known[0]}: {known[1]}" if known else "check the equations it names"
            raise ModelError(f"{original}: the translated model fails to initialize ({_first_line(exc)}); {todo}") \
                from exc
    doc = model.doc
    variables = []
    for row in doc.itertuples(index=False):
        name = row[0]
        if not isinstance(row.Type, str):  # 'Time' has no type
            continue
        key = canonical(name)
        value = None
        if row.Type == "Constant" and not row.Subscripts:
            value = _scalar(getattr(model.components, row[1]))
        variables.append(
            {
                "name": name,
                "py_name": row[1],
                "units": row.Units if isinstance(row.Units, str) else "",
                "comment": row.Comment if isinstance(row.Comment, str) else "",
                "type": row.Type,
                "subtype": row.Subtype if isinstance(row.Subtype, str) else "",
                "subscripts": list(row.Subscripts or []),
                "limits": _limits(limits.get(key)),
                "equation": "\n".join(equations.get(key, [])),
                "group": groups.get(key),
                "value": value,
            }
        )
    # PySD's doc is sorted by name, quotes included ("PM2.5 X" before "Air Y"); the model file's order is the
    # modeller's: key outputs, charts and the documentation follow it.
    written = {key: i for i, key in enumerate(equations)}
    variables.sort(key=lambda v: written.get(canonical(v["name"]), len(written)))
    time = {
        "initial": _scalar(model.components.initial_time),
        "final": _scalar(model.components.final_time),
        "step": _scalar(model.components.time_step),
        "saveper": _scalar(model.components.saveper),
        "units": next((v["units"] for v in variables if v["name"].upper() == "TIME STEP"), ""),
    }
    subscripts = {name: list(values) for name, values in model.subscripts.items()}
    group_order = list(dict.fromkeys(g for g in groups.values() if g))
    return {
        "variables": variables,
        "time": time,
        "subscripts": subscripts,
        "groups": group_order,
        "pysd_version": pysd.__version__,
    }


def _scalar(function: Any) -> float | None:
    try:
        value = float(function())
    except Exception:  # subscripted or not evaluable at load time
        return None
    return value if math.isfinite(value) else None


def _limits(limits: tuple | None) -> list[float | None] | None:
    if not limits:
        return None
    # Vensim writes open sides as '?'; files exported by other tools use inf or nan.
    out = [float(v) if v is not None and math.isfinite(float(v)) else None for v in limits]
    return out if any(v is not None for v in out) else None


_GROUP_HEADER = re.compile(r"^\*+\s*(?P<name>[^*~]+?)\s*\*+\s*~", re.S)
_LHS_END = re.compile(r"[=(\[~:]|<->")


def _groups(raw: str) -> dict[str, str]:
    """Map each variable (canonical name) to the Vensim group it is defined in.

    PySD's parser drops the group headers (``****\\n.Talent\\n****~ ... |``),
    which Vensim uses to organise equations; the dashboard groups sliders by
    them, so we read them here.
    """
    text = raw.split(_SKETCH_MARK, 1)[0]
    text = re.sub(r"^\s*\{[^}]*\}", "", text)  # {UTF-8} marker
    current = None
    found: dict[str, str] = {}
    for chunk in text.split("|"):
        chunk = chunk.strip()
        if not chunk:
            continue
        header = _GROUP_HEADER.match(chunk)
        if header:
            current = header.group("name").strip().lstrip(".").strip() or None
            continue
        if chunk.startswith(":MACRO:") or current is None:
            continue
        lhs = _LHS_END.split(chunk, 1)[0].strip()
        if lhs:
            found.setdefault(canonical(lhs), current)
    return found
