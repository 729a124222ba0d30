"""Text domains present on every Debian machine with Python, for training without downloads.

Three domains, each a folder of ``*.txt`` files: **licences** (the licence texts
in /usr/share/common-licenses), **python** (standard-library modules' code,
docstrings and comments removed, so prose stays with the other domains) and
**pydoc** (Python's own documentation of other standard-library modules, as
pydoc renders it for its web server: HTML with prose, signatures and markup).
The tests and the continual-learning benchmark learn them in sequence.
"""

from __future__ import annotations

import ast
import importlib
import pydoc
import sysconfig
from collections.abc import Sequence
from pathlib import Path

LICENCES = ("GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-2.1", "Artistic", "GFDL-1.3")
SOURCES = ("textwrap", "shlex", "fractions", "heapq", "csv", "ipaddress")
PYDOC = ("json", "string", "fnmatch", "glob", "colorsys", "calendar")
DOMAINS = ("licences", "python", "pydoc")

# Larger selections, for the benchmark (every name exists in Debian's base system / CPython 3.11)
ALL_LICENCES = (
    *LICENCES,
    "GPL-2",
    "GPL-1",
    "LGPL-2",
    "LGPL-3",
    "MPL-1.1",
    "GFDL-1.2",
    "CC0-1.0",
    "BSD",
)
MORE_SOURCES = (
    *SOURCES,
    "argparse",
    "calendar",
    "difflib",
    "dataclasses",
    "enum",
    "statistics",
    "tokenize",
    "configparser",
    "gettext",
    "inspect",
    "pprint",
    "random",
)
MORE_PYDOC = (
    *PYDOC,
    "collections",
    "functools",
    "itertools",
    "pathlib",
    "shutil",
    "threading",
    "datetime",
    "decimal",
    "logging",
    "operator",
)


def code_only(source: str) -> str:
    """Python source without comments and docstrings (an ast round trip)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def domain_texts(
    domain: str,
    licences: Sequence[str] = LICENCES,
    sources: Sequence[str] = SOURCES,
    docs: Sequence[str] = PYDOC,
) -> list[tuple[str, str]]:
    """(file name, text) pairs of one domain."""
    if domain == "licences":
        return [(n, Path("/usr/share/common-licenses", n).read_text()) for n in licences]
    if domain == "python":
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        return [(n, code_only((stdlib / f"{n}.py").read_text())) for n in sources]
    if domain == "pydoc":
        return [
            (n, pydoc.html.page(n, pydoc.html.document(importlib.import_module(n)))) for n in docs
        ]
    raise ValueError(f"unknown domain {domain!r}; use one of {DOMAINS}")


def build_corpus(
    root: Path,
    size: int = 12_000,
    domains: Sequence[str] = DOMAINS,
    **selection: Sequence[str],
) -> Path:
    """Write ``root/<domain>/<name>.txt`` for each domain, each file cut to ``size`` bytes."""
    for domain in domains:
        (root / domain).mkdir(parents=True, exist_ok=True)
        for name, text in domain_texts(domain, **selection):
            (root / domain / f"{name}.txt").write_text(text[:size])
    return root
