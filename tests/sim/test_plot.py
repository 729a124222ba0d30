"""The run's picture: raster and rate curve drawn from what the workspace carried."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image

from holomind.sim.plot import Recorder
from holomind.workspace import GlobalWorkspace


def test_the_picture_shows_the_published_spikes_and_rates(tmp_path: Path) -> None:
    with GlobalWorkspace() as ws:
        recorder = Recorder(ws, band_hz=(5.0, 15.0))
        applied = {"action": "increase", "t_s": 0.2, "source": "llm", "moved_pa": 50.0}
        for k in range(5):
            t0, t1 = k * 0.1, (k + 1) * 0.1
            ws.write(
                "neuro/spikes",
                {"t0_s": t0, "t1_s": t1, "neurons": 10, "i": [0, 9], "t_ms": [t0 * 1000 + 50] * 2},
            )
            state = {"t_s": t1, "rate_hz": 5.0 + k, "network": "seed", "neurons": 10}
            ws.write("neuro/state", {**state, "modulation": applied if k >= 2 else None})
        recorder.close()
        path = recorder.save_png(tmp_path / "run.png")
    assert len(recorder.spikes) == 10 and recorder.rates[-1] == (0.5, 9.0)
    assert recorder.modulations == [(0.2, "increase")]  # once, where it was applied
    assert subprocess.run(["pngcheck", "-q", str(path)], capture_output=True).returncode == 0
    img = Image.open(path).convert("RGB")
    assert img.size == (1000, 676)
    # A raster tick for neuron 0 at 50 ms (x = 70 + 0.05 / 0.5 * 910, y near the bottom).
    assert img.getpixel((161, 36 + 360 - 18)) == (0, 0, 0)
    # The increase tick is green, on the rate panel's floor at t = 0.2 s.
    assert img.getpixel((round(70 + 0.2 / 0.5 * 910), 36 + 360 + 40 + 200 - 3)) == (0, 150, 0)
