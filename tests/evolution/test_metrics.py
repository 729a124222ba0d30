"""Soup measurements: entropy, brotli size, high-order entropy, diversity, top programs."""

from __future__ import annotations

import brotli
import numpy as np

from holomind.evolution import metrics


def test_shannon_entropy_of_known_histograms() -> None:
    assert metrics.shannon_entropy(np.arange(256, dtype=np.uint8)) == 8.0
    assert metrics.shannon_entropy(np.zeros(100, dtype=np.uint8)) == 0.0
    assert metrics.shannon_entropy(np.array([1, 2, 1, 2], dtype=np.uint8)) == 1.0
    assert metrics.shannon_entropy(np.array([], dtype=np.uint8)) == 0.0


def test_brotli_size_is_the_length_of_a_decodable_stream() -> None:
    data = np.tile(np.arange(64, dtype=np.uint8), (512, 1))
    size = metrics.brotli_size(data)
    assert 0 < size < 200  # 512 copies of one program compress to almost nothing
    random = np.random.default_rng(0).integers(0, 256, size=(512, 64), dtype=np.uint8)
    assert metrics.brotli_size(random) > random.size  # incompressible data grows a little
    packed = brotli.compress(random.tobytes(), mode=brotli.MODE_GENERIC, quality=2, lgwin=24)
    assert metrics.brotli_size(random) == len(packed)
    assert brotli.decompress(packed) == random.tobytes()


def test_higher_entropy_is_rounded_like_a_c_float() -> None:
    assert metrics.higher_entropy(8.0, 1024, 1024) == 0.0
    value = metrics.higher_entropy(7.999970358652059, 8388776, 1 << 23)
    assert f"{value:f}" == "-0.000190"  # the first row of cubff's bff_noheads log
    assert value == float(np.float32(value))


def test_measure_a_soup_of_copies_is_a_transitioned_soup() -> None:
    soup = np.tile(np.arange(64, dtype=np.uint8), (1024, 1))
    m = metrics.measure(soup)
    assert m.h0 == 6.0
    assert m.higher_entropy > metrics.TRANSITION_ENTROPY


def test_diversity_and_most_common() -> None:
    soup = np.zeros((5, 64), dtype=np.uint8)
    soup[1] = 1
    soup[2] = 1
    soup[3] = 2
    soup[4] = 1
    assert metrics.diversity(soup) == 3 / 5
    top = metrics.most_common(soup, 2)
    assert top == [(bytes([1] * 64), 3), (bytes(64), 1)]


def test_render_program_shows_instructions() -> None:
    assert metrics.render_program(b"[>{]\x00a") == "[>{]␀·"
