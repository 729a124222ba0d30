"""A picture of a run, drawn from what the workspace carried: spike raster, rate curve, modulations.

`Recorder` subscribes to ``neuro/spikes`` and ``neuro/state`` while a
simulation runs; `Recorder.save_png` draws the raster of the first neurons
(top), the population rate per chunk with the modulator's target band (bottom),
and a tick where each modulation was applied (green: increase, red: decrease,
grey: maintain), as ``neuro/state`` reports it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from holomind.files import replacing
from holomind.workspace import GlobalWorkspace

MAX_SPIKES = 500_000  # raster points kept; later spikes are counted, not drawn
_COLOURS = {"increase": (0, 150, 0), "decrease": (200, 0, 0), "maintain": (150, 150, 150)}


class Recorder:
    """Keeps what the simulation publishes for one picture."""

    def __init__(
        self, workspace: GlobalWorkspace, band_hz: tuple[float, float] | None = None
    ) -> None:
        self.band_hz = band_hz
        self.spikes: list[tuple[float, int]] = []  # (t_ms, neuron)
        self.dropped = 0
        self.neurons = 0
        self.rates: list[tuple[float, float]] = []  # (t_s at chunk end, Hz)
        self.modulations: list[tuple[float, str]] = []  # (t_s applied, action)
        self.title = ""
        self._lock = threading.Lock()
        self._workspace = workspace
        self._subs = [
            (key, workspace.subscribe(key, cb).callback)
            for key, cb in (("neuro/spikes", self._on_spikes), ("neuro/state", self._on_state))
        ]

    def _on_spikes(self, value: dict[str, Any]) -> None:
        with self._lock:
            self.neurons = max(self.neurons, int(value.get("neurons", 0)))
            room = MAX_SPIKES - len(self.spikes)
            pairs = list(zip(value.get("t_ms", []), value.get("i", []), strict=False))
            self.spikes.extend(pairs[: max(room, 0)])
            self.dropped += max(len(pairs) - max(room, 0), 0)

    def _on_state(self, value: dict[str, Any]) -> None:
        with self._lock:
            self.rates.append((float(value["t_s"]), float(value["rate_hz"])))
            self.title = f"{value.get('network')} network, {value.get('neurons')} neurons"
            mod = value.get("modulation")
            if isinstance(mod, dict) and isinstance(mod.get("t_s"), int | float):
                applied = (float(mod["t_s"]), str(mod.get("action")))
                if not self.modulations or self.modulations[-1] != applied:
                    self.modulations.append(applied)

    def close(self) -> None:
        """Stop recording (waits for what was already published)."""
        self._workspace.flush(timeout=5)
        for key, cb in self._subs:
            self._workspace.unsubscribe(key, cb)

    def image(self) -> Image.Image:
        """The raster over the rate curve, one picture."""
        with self._lock:
            spikes, rates, mods = list(self.spikes), list(self.rates), list(self.modulations)
            neurons, title = max(self.neurons, 1), self.title
        width, left, right = 1000, 70, 20
        raster_h, rate_h, gap, top, bottom = 360, 200, 40, 36, 40
        height = top + raster_h + gap + rate_h + bottom
        img = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(img)
        t0 = (rates[0][0] - _first_chunk(rates)) if rates else 0.0
        t1 = rates[-1][0] if rates else 1.0
        t1 = t1 if t1 > t0 else t0 + 1.0
        plot_w = width - left - right

        def x(t_s: float) -> float:
            return left + (t_s - t0) / (t1 - t0) * plot_w

        # Raster.
        r_top, r_bot = top, top + raster_h
        draw.rectangle([left, r_top, width - right, r_bot], outline="black")
        for t_ms, i in spikes:
            px, py = x(t_ms / 1000), r_bot - (i + 0.5) / neurons * raster_h
            draw.line([px, py - 1, px, py + 1], fill="black")
        draw.text((left, 12), f"{title}: spikes of neurons 0-{neurons - 1}", fill="black")
        draw.text((5, r_top), "neuron", fill="black")
        draw.text((5, r_bot - 12), "0", fill="black")
        draw.text((5, r_top + 12), str(neurons - 1), fill="black")
        # Rate curve.
        c_top, c_bot = r_bot + gap, r_bot + gap + rate_h
        draw.rectangle([left, c_top, width - right, c_bot], outline="black")
        peak = max([r for _, r in rates] + [self.band_hz[1] if self.band_hz else 0.0, 1.0]) * 1.1

        def y(rate: float) -> float:
            return c_bot - rate / peak * rate_h

        if self.band_hz is not None:
            for edge in self.band_hz:
                for sx in range(left, width - right, 12):
                    draw.line([sx, y(edge), min(sx + 6, width - right), y(edge)], fill=(0, 90, 200))
        if len(rates) > 1:
            draw.line([(x(t), y(r)) for t, r in rates], fill="black", width=2)
        elif rates:
            draw.ellipse(
                [x(rates[0][0]) - 2, y(rates[0][1]) - 2, x(rates[0][0]) + 2, y(rates[0][1]) + 2],
                fill="black",
            )
        for t, action in mods:
            px = x(t)
            draw.line([px, c_bot - 10, px, c_bot], fill=_COLOURS.get(action, (0, 0, 0)), width=2)
        draw.text(
            (left, c_top - 16), "population rate (Hz) per chunk; ticks: modulations", fill="black"
        )
        for frac in (0.0, 0.5, 1.0):
            draw.text((5, y(peak / 1.1 * frac) - 6), f"{peak / 1.1 * frac:.1f}", fill="black")
        for k in range(6):
            t = t0 + (t1 - t0) * k / 5
            draw.text((x(t) - 12, c_bot + 6), f"{t:.2f}", fill="black")
        draw.text((width // 2 - 60, height - 18), "simulated time (s)", fill="black")
        return img

    def save_png(self, path: str | Path) -> Path:
        """Write the picture to `path` as a PNG, atomically."""
        path = Path(path)
        with replacing(path) as f:
            self.image().save(f, format="PNG")
        return path


def _first_chunk(rates: list[tuple[float, float]]) -> float:
    # The first point is a chunk's end; the axis starts where that chunk began.
    return rates[1][0] - rates[0][0] if len(rates) > 1 else rates[0][0]
