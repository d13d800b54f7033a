"""Reading `envs/*.hcl`: which files, their text, their HCL, and the error every problem becomes.

HCL would silently keep one of two keys given twice, and `*.hcl` silently skips a file named
`acceptance.hcl.txt`; both are refused here, before anything is merged or checked (loader.py).
"""

from __future__ import annotations

import pickle
import re
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import hcl2
import lark

_HCL_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
# The same, strings still in their quotes: what was written without them is a bare word.
_QUOTED = hcl2.SerializationOptions(strip_string_quotes=False, explicit_blocks=False, with_comments=False)

Path_ = tuple[str | int, ...]


def visible(text: str) -> str:
    """`text` with every character that prints as nothing, or as a plain space, escaped (`\\u200b`, `\\u00a0`)."""
    return "".join(
        f"\\u{ord(c):04x}" if c != " " and unicodedata.category(c) in ("Cf", "Cc", "Zs", "Zl", "Zp") else c
        for c in text
    )


class ConfigError(Exception):
    """A problem in one env file, at one key path (shown relative to the working directory when inside it).

    A value it quotes shows every invisible character escaped: `"staging\\u200b.littil.org"`, not a value that looks
    right."""

    def __init__(self, file: Path, key: str | None, problem: str) -> None:
        problem = visible(problem)
        self.file = file
        self.key = key
        self.problem = problem
        self.shown = shown(file)
        super().__init__(f"{self.shown}: {key}: {problem}" if key else f"{self.shown}: {problem}")


def shown(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)


def reject_skipped_files(envs_dir: Path) -> None:
    """A file meant as an environment that `*.hcl` would not read (hidden files, such as editors' swap files, aside)."""
    for path in sorted(envs_dir.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        if name != name.strip():
            raise ConfigError(
                path, None, f"would be skipped: the name has spaces around it; rename it {name.strip()!r}"
            )
        if ".hcl" in name.lower() and not name.endswith(".hcl"):
            stem = name[: name.lower().index(".hcl")]
            raise ConfigError(
                path, None, f"would be skipped: environment files end in lower-case .hcl (rename it {stem}.hcl)"
            )
        if not name.endswith(".hcl"):
            raise ConfigError(
                path, None, "would be skipped: envs/ holds environment files (<name>.hcl) only; move it elsewhere"
            )


def read_hcl(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(path, None, f"cannot read file: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(path, None, f"is not UTF-8 text (line {line}); save it as UTF-8 in your editor") from None
    if text.startswith("\ufeff"):
        raise ConfigError(path, None, "starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM")
    if text in _READ:  # the tests and the rehearsal load the same text many times; lark's parse is the slow part
        copied: dict[str, Any] = pickle.loads(_READ[text])  # a copy of its own for each caller (quicker than deepcopy)
        return copied
    try:
        tree = hcl2.parses_to_tree(text)
    except lark.exceptions.UnexpectedInput as error:
        raise ConfigError(path, None, syntax_error(text, error.line, error.column)) from None
    except lark.exceptions.LarkError as error:
        raise ConfigError(path, None, f"HCL syntax error: {str(error).splitlines()[0]}") from None
    _reject_repeated_keys(tree, (), path)
    transformed = hcl2.transform(tree)
    _reject_bare_words(hcl2.serialize(transformed, serialization_options=_QUOTED), (), path)
    parsed = hcl2.serialize(transformed, serialization_options=_HCL_OPTIONS)
    normalized = _unwrap_blocks(parsed, (), path)
    assert isinstance(normalized, dict)
    _READ[text] = pickle.dumps(normalized)
    return normalized


def _reject_bare_words(value: Any, path: Path_, file: Path) -> None:
    """`region = eu-west-1`: python-hcl2 reads a string, Terraform and every other HCL tool a reference."""
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_bare_words(item, (*path, key), file)
    elif isinstance(value, list):
        blocks = value and all(isinstance(item, dict) for item in value)
        for index, item in enumerate(value):
            _reject_bare_words(item, path if blocks else (*path, index), file)
    elif isinstance(value, str) and not value.startswith(('"', "<<")):
        problem = f'{value} is a bare word, which HCL reads as a reference: put it in quotes, "{value}"'
        raise ConfigError(file, format_key(path), problem)


_CURLY_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"


def syntax_error(text: str, line: int, column: int) -> str:
    """A syntax error at the line where the broken construct began, with its likely cause."""
    lines = text.splitlines()
    for number, content in enumerate(lines, 1):
        code = content.split("#", 1)[0]
        if any(quote in code for quote in _CURLY_QUOTES):
            return f'HCL syntax error at line {number}: curly quotes; type straight ones (")'
        if re.search(r"=\s*-?\d{1,3}(,\d{3})+\s*$", code):
            return f"HCL syntax error at line {number}: a thousands separator; write the number without it (1000)"
        if re.fullmatch(r"\s*[A-Za-z_][\w-]*\s+(\"|\d|true\b|false\b|\[)(.*)", code):
            return f"HCL syntax error at line {number}: a missing '=' between the key and its value"
    opened: list[int] = []
    for number, content in enumerate(lines, 1):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', content.split("#", 1)[0])
        for char in code:
            if char == "{":
                opened.append(number)
            elif char == "}" and opened:
                opened.pop()
            elif char == "}":
                return f"HCL syntax error at line {number}: a '}}' that closes nothing"
    if opened:
        return f"HCL syntax error at line {opened[-1]}: the '{{' opened there is never closed (a missing '}}')"
    return f"HCL syntax error at line {line}, column {column}"


# Text of an env file that parsed cleanly -> what it holds (a problem names the file, so it is never kept).
_READ: dict[str, bytes] = {}


def _reject_repeated_keys(node: lark.Tree[Any], path: Path_, file: Path) -> None:
    """A key given twice in one block, in any form (attribute, block, or both): one would silently replace the other."""
    bodies = (
        [node] if node.data == "body" else [c for c in node.children if isinstance(c, lark.Tree) and c.data == "body"]
    )
    if not bodies:
        return  # an empty file
    (body,) = bodies
    seen: dict[str, int] = {}
    for child in body.children:
        if not isinstance(child, lark.Tree) or child.data not in ("attribute", "block"):
            continue
        token = child.children[0].children[0]
        _note_once(seen, str(token), getattr(token, "line", 0), (*path, str(token)), file)
        if child.data == "block":
            inner = next(part for part in child.children if isinstance(part, lark.Tree) and part.data == "body")
            _reject_repeated_keys(inner, (*path, str(token)), file)
        for value in child.find_data("object"):  # database = { ... }: its keys too
            keys: dict[str, int] = {}
            for element in value.children:
                if isinstance(element, lark.Tree) and element.data == "object_elem":
                    key = next(element.children[0].scan_values(lambda v: isinstance(v, lark.Token)))
                    name = str(key).strip('"')
                    _note_once(keys, name, getattr(key, "line", 0), (*path, str(token), name), file)


def _note_once(seen: dict[str, int], name: str, line: int, key_path: Path_, file: Path) -> None:
    if name in seen:
        raise ConfigError(file, format_key(key_path), f"given twice (lines {seen[name]} and {line}); give it once")
    seen[name] = line


# python-hcl2 returns a heredoc as written, markers included: `<<EOT\n...\nEOT`.
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_]\w*)\n(.*?)\n?[ \t]*\2", re.S)


def _heredoc_text(value: str) -> str:
    """A heredoc's text as Terraform reads it: the lines between the markers, each ending in a newline; `<<-`
    removes the indentation the lines share."""
    found = _HEREDOC.fullmatch(value)
    if found is None:
        return value
    text = found.group(3) + "\n" if found.group(3) else ""
    return textwrap.dedent(text) if found.group(1) else text


def _unwrap_blocks(value: Any, path: Path_, file: Path) -> Any:
    """python-hcl2 returns each block as a list of one dict; make it the dict. Heredocs become their text."""
    if isinstance(value, str):
        return _heredoc_text(value)
    if isinstance(value, dict):
        return {key: _unwrap_blocks(item, (*path, key), file) for key, item in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            if len(value) > 1:
                raise ConfigError(file, format_key(path), f"block appears {len(value)} times; give it once")
            return _unwrap_blocks(value[0], path, file)
        return [_unwrap_blocks(item, (*path, index), file) for index, item in enumerate(value)]
    return value


def format_key(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
