"""The soup as a simulation component: rows published under both names, saved and resumed."""

from __future__ import annotations

from pathlib import Path

from holomind.sim.soup import SoupNode
from holomind.workspace import GlobalWorkspace


def test_a_step_publishes_a_row_and_a_saved_soup_resumes(tmp_path: Path) -> None:
    with GlobalWorkspace() as ws:
        node = SoupNode(ws, programs=128, seed=5, row_epochs=4)
        row = node.step()
        assert row.epoch == 4 and node.last == row
        assert ws.read("soup/epoch") == 4
        assert ws.read("avg_entropy") == ws.read("soup/higher_entropy") == row.higher_entropy
        assert ws.read("diversity_index") == ws.read("soup/diversity") == row.diversity
        node.save(tmp_path / "soup.ckpt")
        again = SoupNode(ws, programs=128, resume_from=tmp_path / "soup.ckpt", row_epochs=4)
        assert again.soup.epoch == 4
        assert (again.soup.programs == node.soup.programs).all()
        assert again.step().epoch == 8
        fresh = SoupNode(ws, programs=128, resume_from=tmp_path / "missing.ckpt")
        assert fresh.soup.epoch == 0
