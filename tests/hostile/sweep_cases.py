"""The generated bad-input sweep: every CLI command fed the usual bad inputs.

Each command has a :class:`Command` entry: its minimal valid invocation, the data files,
columns, numbers and specs it takes. :func:`cases` turns every entry into cases: each data
file replaced by a faulty one (missing, empty, header only, wrong type in all or some rows,
NaN/inf, one row, an all-null column, latin-1 text, a folder, an unreadable file), each
column misspelled, each number given as NaN, inf, -1, 1e30 and text, each spec misspelled,
mistyped, unparseable, code-carrying (a python tag), empty, a list or a folder, each required
option left out, and an unknown output extension. A case either is an error (exit 2, one
``error:`` line, nothing written) or is declared ``usable`` (exit 0: the command is meant to
process such input, e.g. ``profile`` flags a single row) or ``refused`` (exit 1, one line: the
input is valid but the analysis cannot answer, e.g. no sample size reaches the power).

Arguments hold ``{placeholders}``: workspace files (``{ab}``, ``{model}``...), ``{bad}``
(the case's faulty file) and ``{out}`` (the ``-o`` path, inside a folder made for the case).

Unreadable files: ``chmod 000`` does not stop root, so as root the "unreadable" file is a
FIFO (a named pipe, with no writer), which no command may hang on or treat as data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

FAULTS = (
    "missing",
    "empty",
    "header_only",
    "wrong_type_all",
    "wrong_type_some",
    "nonfinite",
    "single_row",
    "all_null",
    "latin1",
    "folder",
    "unreadable",
)
NUMBERS = ("nan", "inf", "-1", "1e30", "abc")
SPEC_FAULTS = (
    "misspelled_key",
    "wrong_type",
    "yaml_syntax",
    "python_tag",
    "empty",
    "list",
    "missing",
    "folder",
    "latin1",
)


@dataclass(frozen=True)
class Case:
    command: str
    label: str
    args: tuple[str, ...]
    fault: tuple[str, str, str] | None = None  # (base table, fault, column) -> {bad}
    spec_fault: tuple[str, str, str] | None = None  # (spec, fault, key) -> {bad}
    usable: bool = False
    refused: bool = False  # an analysis that ran and could not answer: exit 1, one line
    slow: bool = False

    @property
    def id(self) -> str:
        return f"{self.command.replace(' ', '-')}:{self.label}"


@dataclass(frozen=True)
class Slot:
    """A data file the command reads: where it is in ``data_base``, which table it is, and
    the numeric and text columns the faults spoil."""

    placeholder: str
    table: str
    number: str
    text: str


@dataclass(frozen=True)
class Command:
    name: str
    base: tuple[str, ...]
    slots: tuple[Slot, ...] = ()
    data_base: tuple[str, ...] | None = None  # base for the data faults (default: base)
    columns: tuple[tuple[str, str], ...] = ()  # (option, good value) to misspell
    numbers: tuple[str, ...] = ()  # options whose value NUMBERS replace
    spec: tuple[str, str, str] | None = None  # (placeholder, spec name, a key to spoil)
    required: tuple[str, ...] = ()  # options to leave out, one at a time
    output: str | None = "{out}"  # where -o writes (None: the command has no -o)
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, args): hand-made cases
    usable: frozenset[str] = frozenset()  # labels meant to succeed
    refused: frozenset[str] = frozenset()  # labels meant to end in an analysis error (exit 1)
    slow: frozenset[str] = frozenset()  # labels that take seconds
    slow_data: bool = False  # every data fault takes seconds (the command fits models)


def _misspell(value: str) -> str:
    head, sep, tail = value.partition("=")
    return (head[:-1] if len(head) > 3 else head + "x") + sep + tail


def _with_value(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    out = list(args)
    if option in out:
        out[out.index(option) + 1] = value
        return tuple(out)
    return (*out, option, value)


def _without(args: tuple[str, ...], option: str) -> tuple[str, ...]:
    out = list(args)
    i = out.index(option)
    return tuple(out[:i] + out[i + 2 :])


def _generated(cmd: Command) -> Iterator[Case]:
    data_base = cmd.data_base or cmd.base
    for slot in cmd.slots:
        for fault in FAULTS:
            args = tuple(a.replace(slot.placeholder, "{bad}") for a in data_base)
            column = slot.text if fault == "latin1" else slot.number
            label = f"{slot.placeholder.strip('{}')}={fault}"
            yield Case(cmd.name, label, args, fault=(slot.table, fault, column))
    for option, value in cmd.columns:
        yield Case(
            cmd.name, f"{option}=misspelled", _with_value(cmd.base, option, _misspell(value))
        )
    for option in cmd.numbers:
        for number in NUMBERS:
            yield Case(cmd.name, f"{option}={number}", _with_value(cmd.base, option, number))
    if cmd.spec is not None:
        placeholder, spec, key = cmd.spec
        for fault in SPEC_FAULTS:
            args = tuple(a.replace(placeholder, "{bad}") for a in cmd.base)
            yield Case(cmd.name, f"spec={fault}", args, spec_fault=(spec, fault, key))
    for option in cmd.required:
        yield Case(cmd.name, f"without {option}", _without(cmd.base, option))
    yield Case(cmd.name, "unknown option", (*cmd.base, "--bogus-option", "1"))
    if cmd.output is not None:
        yield Case(cmd.name, "-o .xlsx", (*cmd.base, "-o", "{out_dir}/result.xlsx"))
        yield Case(cmd.name, "-o under a file", (*cmd.base, "-o", "{a_file}/result.json"))
        yield Case(cmd.name, "--format pdf", (*cmd.base, "--format", "pdf"))
    for label, args in cmd.extra:
        yield Case(cmd.name, label, args)


def cases(commands: tuple[Command, ...]) -> list[Case]:
    """Every case of every command, usable and slow ones marked as their command says."""
    out = []
    for cmd in commands:
        for case in _generated(cmd):
            args = case.args
            if cmd.output and "-o" not in args:
                args = (*args, "-o", cmd.output)
            out.append(
                replace(
                    case,
                    args=args,
                    usable=case.label in cmd.usable,
                    refused=case.label in cmd.refused,
                    slow=case.label in cmd.slow or (cmd.slow_data and case.fault is not None),
                )
            )
    return out


# --- the workspace: good files, and faulty ones made on demand ------------------------------


@dataclass
class Workspace:
    root: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    specs: dict[str, dict[str, object]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)

    def table(self, name: str, frame: pd.DataFrame) -> None:
        path = self.root / f"{name}.csv"
        frame.to_csv(path, index=False)
        self.tables[name] = frame
        self.paths[name] = str(path)

    def spec(self, name: str, body: dict[str, object]) -> None:
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(body))
        self.specs[name] = body
        self.paths[name] = str(path)

    def bad_table(self, table: str, fault: str, column: str, folder: Path) -> Path:
        """The table ``table`` spoiled by ``fault`` in ``column``, as a CSV in ``folder``."""
        path = folder / f"{table}_{fault}.csv"
        frame = self.tables[table].copy()
        if fault == "missing":
            return folder / "absent" / f"{table}.csv"
        if fault == "folder":
            (folder / "a_folder").mkdir()
            return folder / "a_folder"
        if fault == "unreadable":
            return _unreadable(path, frame)
        if fault == "empty":
            path.write_bytes(b"")
            return path
        _spoil(frame, fault, column).to_csv(
            path, index=False, encoding="latin-1" if fault == "latin1" else "utf-8"
        )
        return path

    def bad_spec(self, spec: str, fault: str, key: str, folder: Path) -> Path:
        """The spec ``spec`` spoiled by ``fault`` (at ``key`` where it names one)."""
        path = folder / f"{spec}_{fault}.yaml"
        body = dict(self.specs[spec])
        text = yaml.safe_dump(body)
        if fault == "misspelled_key":
            text = yaml.safe_dump({(_misspell(k) if k == key else k): v for k, v in body.items()})
        elif fault == "wrong_type":
            text = yaml.safe_dump({**body, key: {"a": [1, 2]}})
        elif fault == "yaml_syntax":
            text = text + "broken: [1, 2\nmore: {\n"
        elif fault == "python_tag":
            text = text + "extra: !!python/object/apply:os.system ['echo owned']\n"
        elif fault == "empty":
            text = ""
        elif fault == "list":
            text = yaml.safe_dump([body])
        elif fault == "missing":
            return folder / "absent.yaml"
        elif fault == "folder":
            (folder / "spec_folder.yaml").mkdir()
            return folder / "spec_folder.yaml"
        elif fault == "latin1":
            path.write_bytes(text.encode() + "name: caf\xe9\n".encode("latin-1"))
            return path
        path.write_text(text)
        return path


def _spoil(frame: pd.DataFrame, fault: str, column: str) -> pd.DataFrame:
    if fault == "header_only":
        return frame.head(0)
    if fault == "single_row":
        return frame.head(1)
    values = frame[column].astype(object)
    if fault == "wrong_type_all":
        values[:] = "abc"
    elif fault == "wrong_type_some":
        values[::7] = "abc"
    elif fault == "nonfinite":  # numbers: inf, -inf and NaN; other types: those words
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        values = frame[column].astype(float) if numeric else values
        values[::5], values[1::5], values[2::5] = np.inf, -np.inf, np.nan
    elif fault == "all_null":
        values[:] = None
    elif fault == "latin1":
        values[::3] = "caf\xe9"
    frame[column] = values
    return frame


def _unreadable(path: Path, frame: pd.DataFrame) -> Path:
    """A file this process cannot read: mode 000, or a FIFO when root ignores the mode."""
    if os.geteuid() == 0:
        os.mkfifo(path)
        return path
    frame.to_csv(path, index=False)
    path.chmod(0)
    return path
