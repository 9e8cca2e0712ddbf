"""Errors in the command line's own words: library parameter names become the options that set them.

The library's messages follow one style, ``"<func>: <name> must be ...,
got <value>"``, and name Python parameters (``ndim``, ``max_kernel``,
``identical=True``, ``padding=((5, 5),)``).  Every command module declares
``PARAMETERS``, a mapping from the library's parameter names to its options
(``{"ndim": "--dims", "identical=True": "--identical"}``), and
:func:`in_cli_words` rewrites a message with it, in one place
(:func:`upconv.cli.main`), for every command:

* leading function names (``"plan: "``, ``"conv_transpose_geometry: "``,
  ``"upconv explain: "``) are dropped: the CLI names the command itself
  (a message that starts ``"argument --option: "`` with no function name
  after it is the CLI's own and is left alone);
* a message about one parameter (``"ndim must be >= 1, got 0"``) becomes
  ``"argument --dims: must be >= 1, got 0"``, as argparse writes;
* ``name=value`` becomes ``--option value`` (tuples as ``3,4``, symmetric
  ``(begin, end)`` pairs as one number, ``name=True`` as the flag) and a
  parameter name with an underscore in the text becomes its option.

A missing optional dependency (``ModuleNotFoundError``) is completed with
the ``pip install`` command of the extra that provides it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

__all__ = ["EXTRAS", "in_cli_words", "missing_extra"]

#: Top-level module -> the upconv extra that installs it.
EXTRAS = {
    "PIL": "image", "matplotlib": "image", "tifffile": "image",
    "sympy": "symbolic", "onnx": "onnx", "onnxruntime": "onnx",
}

_ARGUMENT = re.compile(r"argument ([^:]+): ")
_FUNC = re.compile(r"(?:upconv [a-z]+(?: --[a-z]+)?|[A-Za-z_][\w.]*): ")
_NAME = re.compile(r"[A-Za-z_]\w*")


def in_cli_words(message: str, parameters: Mapping[str, str]) -> str:
    """``message`` with function prefixes dropped and parameter names replaced by the options in ``parameters``."""
    prefix = ""
    m = _ARGUMENT.match(message)
    if m:
        prefix, message = m.group(0), message[m.end():]
        if not _FUNC.match(message):  # the CLI's own words already: left as they are
            return prefix + message
    while m := _FUNC.match(message):
        message = message[m.end():]
    if not prefix:  # "<name> must be ..." / "<name>=... is too small": an error about that option
        m = _NAME.match(message)
        if m and m.group(0) in parameters and message[m.end():m.end() + 1] in (" ", "="):
            option = parameters[m.group(0)]
            prefix = f"argument {option}: "
            if message[m.end()] == " ":
                message = message[m.end() + 1:]
    elif message.startswith("path "):  # "argument --figure: path must end in ..."
        message = message[len("path "):]
    return prefix + _replace(message, parameters)


def _replace(text: str, parameters: Mapping[str, str]) -> str:
    out, pos = [], 0
    for m in re.finditer(r"(?<![\w.\-'\"])([A-Za-z_]\w*)(?![\w'\"(])", text):
        name, end = m.group(1), m.end()
        if m.start() < pos:
            continue
        replacement = None
        if text.startswith("=", end):  # name=value
            literal, after = _literal(text, end + 1)
            if f"{name}={literal}" in parameters:  # identical=True -> --identical
                replacement = parameters[f"{name}={literal}"]
            elif name in parameters:
                replacement = f"{parameters[name]} {_value(literal)}"
        elif name in parameters and text.startswith(" (", end):  # "input (2, 3)": a parameter and its value
            literal, after = _literal(text, end + 1)
            if _is_numbers(literal):
                replacement = f"{parameters[name]} {_value(literal)}"
        if replacement is None and "_" in name and name in parameters:  # max_kernel -> --max-kernel
            replacement, after = parameters[name], end
        if replacement is not None:
            out.append(text[pos:m.start()] + replacement)
            pos = after
    out.append(text[pos:])
    return "".join(out)


def _literal(text: str, start: int) -> tuple[str, int]:
    """The Python literal starting at ``start`` (balanced brackets, or up to a space or comma) and its end."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and ch in " ,;":
            break
        i += 1
    return text[start:i], i


def _is_numbers(literal: str) -> bool:
    """Whether ``literal`` is a tuple of numbers (or of number pairs)."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return False
    flat = [x for item in value for x in (item if isinstance(item, tuple) else (item,))] \
        if isinstance(value, tuple) else []
    return bool(flat) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat)


def _value(literal: str) -> str:
    """``"(3, 4)" -> "3,4"``, ``"((5, 5),)" -> "5"``, ``"(2, 2)" -> "2"``; anything else as written."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal
    if isinstance(value, (tuple, list)):
        items = list(value)
        if items and all(isinstance(p, (tuple, list)) and len(p) == 2 and p[0] == p[1] for p in items):
            items = [p[0] for p in items]  # symmetric (begin, end) pairs: the CLI's single padding
        if items and all(isinstance(x, (int, float)) for x in items):
            return str(items[0]) if len(set(items)) == 1 else ",".join(str(x) for x in items)
    return str(value) if isinstance(value, (int, float, str)) else literal


def missing_extra(exc: ImportError) -> str:
    """The message of ``exc``, with the install command when the missing module belongs to an extra."""
    message = str(exc)
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = EXTRAS.get(name)
    if extra is None or "pip install" in message:
        return message
    return f"{message}; install it with: pip install 'upconv[{extra}]'"
