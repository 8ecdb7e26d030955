"""The command line on hostile or careless input: one clear line and the documented exit code, never a traceback.

Before: a binary .mdl gave ``internal error: TypeError`` (exit 1), a 5,000-digit integer or deep JSON in a
scenario file exit 1 with Python's own message, ``/dev/zero`` as a scenario read forever, and
``gscsd levers --format json | head -1`` ended with ``internal error: BrokenPipeError``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from gscsd import InputError, load_model
from gscsd.cli import EXIT_BROKEN_PIPE, main

from .conftest import write_mdl

MODEL = """
Stock = INTEG(Rate, 0) ~ Widget ~ A stock. |
Rate = 1 ~ Widget/Year [0, 10] ~ A lever. |
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_mdl(tmp_path_factory.mktemp("cli-input"), "small.mdl", MODEL)


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err  # one line, never a traceback
    assert "internal error" not in lines[0] and "Traceback" not in lines[0]
    return code, lines[0]


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 20,  # NUL bytes
    bytes(range(128, 256)) * 20 + b"\x01\x02\x03" * 50,  # no NUL, not UTF-8, control characters
])
def test_a_binary_mdl_is_bad_input(tmp_path, capsys, content):
    path = tmp_path / "binary.mdl"
    path.write_bytes(content)
    for command in ("run", "levers", "check"):
        code, line = cli(capsys, command, path)
        assert code == 2
        assert line == (f"gscsd: error: {path} is not a text file; a Vensim model is saved as text (.mdl), "
                        "not in Vensim's binary formats (.vmf, .vpm)")


def test_a_windows_1252_mdl_is_still_text(tmp_path):
    path = tmp_path / "latin.mdl"
    text = "{UTF-8}\n" + MODEL.replace("A stock.", "A stock of caf\xe9s and cr\xe8mes.") + (
        "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 10 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")
    path.write_bytes(text.replace("{UTF-8}\n", "").encode("cp1252"))
    assert [lever.name for lever in load_model(path).levers] == ["Rate"]


def test_an_oversized_mdl_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import gscsd.limits

    monkeypatch.setattr(gscsd.limits, "MAX_MODEL_BYTES", 100)
    path = write_mdl(tmp_path, "big.mdl", MODEL)
    with pytest.raises(InputError, match=r"big.mdl is larger than 100 bytes"):
        load_model(path)


def _scenario(tmp_path, text: str | bytes):
    path = tmp_path / "scenario.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('{"levers": {"Rate": ' + "1" * 5000 + "}}", r"the number '1111.* \(5,000 characters\) is too large"),
    ('{"final_time": 1e400}', r"the number '1e400' \(5 characters\) is too large"),
    ('{"levers": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested too deeply"),
    ('{"levers": {"Rate": NaN}}', "lever 'Rate' needs a finite number, got nan"),
    ('{"levers": {"Rate": "' + "9" * 400 + '"}}', r"lever 'Rate' needs a finite number, got '9999.*\.\.\.$"),
    ('{"levers": {"Rate": [1]}}', r"lever 'Rate' needs a number, got \[1.0\]"),
    ('{"name": "' + "n" * 201 + '"}', "'name' has 201 characters; at most 200 are kept"),
    ('{"notes": "' + "n" * 20_001 + '"}', "'notes' has 20,001 characters; at most 20,000 are kept"),
    (json.dumps({"levers": {f"L{i}": 1 for i in range(1001)}}), "1,001 levers; a scenario sets at most 1,000"),
    # Control characters in a name never break the line.
    ('{"levers": {"Ra\\nte": 1}}', r"unknown lever 'Ra te' in small.mdl"),
    (b'{"name": "\xff"}', "is not UTF-8 text"),
    # Unicode line breaks (NEL, LINE SEPARATOR) in a field name: found by tests/test_fuzz_cli.py.
    ('{"\\u0085": null, "\\u2028": 1}', r"unknown field\(s\) '\\x85', '\\u2028'; allowed: "),
    ("[1, 2]", "a scenario must be a JSON object"),
    ("{", "not valid JSON"),
])
def test_bad_scenario_files_are_bad_input(model, tmp_path, capsys, text, message):
    code, line = cli(capsys, "run", model, "--scenario", _scenario(tmp_path, text))
    assert code == 2 and line.startswith("gscsd: error: ")
    assert re.search(message, line), line


def test_a_scenario_file_without_end_is_read_no_further_than_the_limit(model, capsys):
    code, line = cli(capsys, "run", model, "--scenario", "/dev/zero")
    assert code == 2 and line == ("gscsd: error: scenario file /dev/zero is larger than 1,000,000 bytes; "
                                  "a scenario is a small JSON object")


def test_a_scenario_file_just_under_the_size_limit_is_read(model, tmp_path, capsys):
    text = json.dumps({"levers": {"Rate": 2}, "notes": ""})
    text = text[:-1] + " " * (1_000_000 - len(text)) + "}"
    assert main(["run", str(model), "--scenario", str(_scenario(tmp_path, text))]) == 0
    assert "Stock" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["levers", "{model}", "--format", "json"],
    ["run", "{model}"],
])
def test_a_closed_pipe_ends_quietly_with_the_documented_code(model, args):
    """`gscsd ... | head -1`: the reader leaves before gscsd writes."""
    command = [sys.executable, "-m", "gscsd", *(a.format(model=model) for a in args)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy()) as process:
        process.stdout.close()  # before the child has imported anything: its first write meets a closed pipe
        err = process.stderr.read().decode()
        assert process.wait(timeout=120) == EXIT_BROKEN_PIPE == 141
    assert err == ""


def test_shell_pipe_into_head(model):
    done = subprocess.run(f"set -o pipefail; {sys.executable} -m gscsd levers {model} --format json | head -c1",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120)
    assert done.stdout == "[" and done.stderr == ""
    assert done.returncode in (0, EXIT_BROKEN_PIPE)  # 0 when gscsd finished writing before head left
