"""Refuse a regression formula that would run code, before patsy or statsmodels sees it.

Patsy evaluates each term of a formula as Python, so ``I(__import__('os').system(...))``
runs a shell command. :func:`check_formula` accepts only the formula language: column
names, ``Q("column name")``, numbers, the operators ``~ + - * / : ** ^ ( ) |``, comparisons
and boolean operators inside ``I()``, and calls of the functions in :data:`FUNCTIONS`
(``np.`` / ``numpy.`` prefixed for the NumPy ones). Anything else (attribute access,
subscripts, lambdas, f-strings, dunder names, other calls) is refused with a
:class:`~sds.errors.ParameterError` naming the piece. :func:`eval_env` is the namespace the
accepted formula is evaluated in: those functions and nothing of sds's own.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sds.errors import ParameterError

NUMPY_FUNCTIONS = ("log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "abs", "square")
PATSY_FUNCTIONS = ("C", "I", "Q", "center", "standardize", "scale", "bs", "cr", "cc", "te")
CONTRASTS = ("Treatment", "Sum", "Diff", "Poly", "Helmert")
FUNCTIONS = frozenset((*PATSY_FUNCTIONS, *NUMPY_FUNCTIONS, *CONTRASTS))
KEYWORDS = frozenset(
    {
        "levels", "reference", "omit", "scores", "center", "rescale", "ddof", "df",
        "degree", "knots", "include_intercept", "lower_bound", "upper_bound", "constraints",
    }
)  # fmt: skip
_NUMPY = ("np", "numpy")
_CONSTANTS = ("True", "False", "None")
# formula operators become Python binary operators so the whole formula parses as one
# expression; only the node types matter to the check, not the precedence.
_OPERATORS = {"~": "|", ":": "*", "|": "|", "^": "^"}
_PYTHON_OPS = {"+", "-", "*", "/", "**", "(", ")", ",", "=", "==", "!=", "<", ">", "<=", ">="}
_PYTHON_OPS |= {"[", "]", "."}  # list displays and np.log; the tree check refuses the rest
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Constant,
    ast.Name, ast.Call, ast.keyword, ast.Tuple, ast.List, ast.Load,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip


def allowed_text() -> str:
    """The allowed functions, for error messages and help."""
    patsy = ", ".join(f"{f}()" for f in PATSY_FUNCTIONS)
    return f"{patsy}, {', '.join(NUMPY_FUNCTIONS)} (also as np.log, ...)"


def _refuse(piece: str, why: str, parameter: str) -> Exception:
    return ParameterError(
        f"the formula may not contain {why}",
        parameter=parameter,
        found=repr(piece[:80]),
        expected="column names, numbers, ~ + - * / : ** ^ ( ) | and the functions "
        + allowed_text(),
        hint="A formula is evaluated as code; only the formula language is accepted.",
    )


@dataclass(frozen=True)
class _Rules:
    parameter: str
    functions: frozenset[str]
    keywords: frozenset[str]


def check_formula(
    formula: str,
    *,
    parameter: str = "formula",
    functions: Collection[str] = (),
    keywords: Collection[str] = (),
) -> None:
    """Raise a ParameterError unless ``formula`` uses only the formula language.

    ``functions`` and ``keywords`` add to :data:`FUNCTIONS` and :data:`KEYWORDS` (e.g.
    pyfixest's ``i(x, ref=0)`` for a formula sds builds itself).
    """
    if "\x00" in formula or "\n" in formula or "\r" in formula:
        raise _refuse(formula, "line breaks or control characters", parameter)
    rules = _Rules(parameter, FUNCTIONS | set(functions), KEYWORDS | set(keywords))
    _check_node(_parse(_as_python(formula, parameter), formula, parameter), rules)


def _as_python(formula: str, parameter: str) -> str:
    """The formula with its operators mapped to Python ones, token by token."""
    out: list[str] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise _refuse(
            formula, f"unbalanced or unreadable text ({exc.args[0]})", parameter
        ) from None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.OP:
            if tok.string not in _OPERATORS and tok.string not in _PYTHON_OPS:
                raise _refuse(tok.string, f"the operator {tok.string!r}", parameter)
            unary = tok.string == "~" and not out  # '~ x': a one-sided formula
            out.append("~" if unary else _OPERATORS.get(tok.string, tok.string))
        elif tok.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
            _check_token(tok, parameter)
            out.append(tok.string)
        else:  # f-strings, comments, error tokens (backticks, '$', '{'), ...
            piece = tok.string.strip() or tok.line[tok.start[1] :].strip() or formula
            raise _refuse(piece, "this text", parameter)
    return " ".join(out)


def _check_token(tok: tokenize.TokenInfo, parameter: str) -> None:
    text = tok.string
    if "__" in text:
        raise _refuse(text, "double-underscore names", parameter)
    if tok.type == tokenize.STRING and any(c in "fFbB" for c in text[: text.index(text[-1])]):
        raise _refuse(text, "f-strings or byte strings", parameter)
    allowed_keywords = (*_CONSTANTS, "and", "or", "not", "in")
    if tok.type == tokenize.NAME and keyword.iskeyword(text) and text not in allowed_keywords:
        raise _refuse(text, f"the Python keyword {text!r}", parameter)


def _parse(python: str, formula: str, parameter: str) -> ast.Expression:
    if not python:
        raise _refuse(formula, "nothing but blanks", parameter)
    try:
        return ast.parse(python, mode="eval")
    except SyntaxError as exc:
        raise ParameterError(
            "the formula cannot be evaluated: it is not valid formula syntax",
            parameter=parameter,
            found=f"{exc.msg} in {formula!r}",
            expected="e.g. 'revenue ~ price + C(region)'",
        ) from None


def _check_node(node: ast.AST, rules: _Rules) -> None:
    """Check ``node`` and everything under it; a call's function is checked by name."""
    parameter = rules.parameter
    if isinstance(node, ast.Call):
        _check_call(node, rules)
        children: list[ast.AST] = [*node.args, *node.keywords]
    elif isinstance(node, ast.Attribute):
        raise _refuse(ast.unparse(node), "attribute access", parameter)
    elif isinstance(node, ast.Name) and "__" in node.id:
        raise _refuse(node.id, "double-underscore names", parameter)
    elif not isinstance(node, _ALLOWED_NODES):
        what = type(node).__name__.lower()
        raise _refuse(ast.unparse(node) if isinstance(node, ast.expr) else what, what, parameter)
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        _check_node(child, rules)


def _check_call(node: ast.Call, rules: _Rules) -> None:
    parameter = rules.parameter
    name = _function_name(node.func)
    if name is None or name not in rules.functions:
        piece = ast.unparse(node.func)
        raise _refuse(piece, "a call of anything but the allowed functions", parameter)
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise _refuse(ast.unparse(arg), "*arguments", parameter)
    for kw in node.keywords:
        if kw.arg is None or kw.arg not in rules.keywords:
            raise _refuse(f"{kw.arg or '**'}=", "this keyword argument", parameter)


def _function_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in _NUMPY
        and func.attr in NUMPY_FUNCTIONS
    ):
        return func.attr
    return None


def eval_env() -> Any:
    """The namespace an accepted formula is evaluated in: the allowed NumPy functions (patsy
    adds its own C, I, Q, center, ...), instead of the calling module's globals.

    statsmodels 0.15 takes a dict (and deprecates patsy's EvalEnvironment); 0.14 needs one.
    """
    import re

    import numpy as np
    import statsmodels

    names: dict[str, Any] = {f: getattr(np, f) for f in NUMPY_FUNCTIONS}
    names |= {"np": np, "numpy": np}
    if tuple(int(p) for p in re.findall(r"\d+", statsmodels.__version__)[:2]) >= (0, 15):
        return names
    from patsy import EvalEnvironment  # type: ignore[import-untyped]

    return EvalEnvironment([names])
