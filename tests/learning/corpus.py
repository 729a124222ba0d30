"""A small three-domain corpus built from files every Debian machine with Python has.

Licence texts (/usr/share/common-licenses), Python standard-library code (its
docstrings and comments removed: prose belongs to the docs domain), and
Python's own documentation of other standard-library modules as pydoc renders it
for its web server (HTML): prose, code, and marked-up reference text. Each
file is cut to ``size`` bytes so training stays short.
"""

from __future__ import annotations

import ast
import pydoc
import sysconfig
from pathlib import Path

LICENCES = ("GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-2.1", "Artistic", "GFDL-1.3")
SOURCES = ("textwrap.py", "shlex.py", "fractions.py", "heapq.py", "csv.py", "ipaddress.py")
PYDOC = ("json", "string", "fnmatch", "glob", "colorsys", "calendar")
DOMAINS = ("licences", "python", "pydoc")


def code_only(source: str) -> str:
    """Python source without comments and docstrings (ast round trip)."""
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


def build_corpus(root: Path, size: int = 12_000) -> Path:
    """Write licences/, python/ and pydoc/ sub-folders of *.txt files under root."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = {
        "licences": [(n, Path("/usr/share/common-licenses", n).read_text()) for n in LICENCES],
        "python": [(n, code_only((stdlib / n).read_text())) for n in SOURCES],
        "pydoc": [(n, pydoc.html.page(n, pydoc.html.document(__import__(n)))) for n in PYDOC],
    }
    for domain, files in texts.items():
        (root / domain).mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (root / domain / f"{name}.txt").write_text(text[:size])
    return root
