"""Networks as data: sizes, populations, scaling, identity, and equations Brian2 accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.errors import InvalidInputError
from holomind.neuro import NETWORKS, SpikingNetwork, network_spec


def test_the_standard_sizes_and_populations() -> None:
    seed, coba, cuba = network_spec("seed"), network_spec("coba"), network_spec("cuba")
    assert seed.neurons == 1000 and [p.size for p in seed.populations] == [1000]
    assert seed.projections[0].p == 0.1 and seed.dt_ms == 0.1
    for spec in (coba, cuba):
        assert spec.neurons == 4000
        assert [(p.name, p.start, p.stop) for p in spec.populations] == [
            ("exc", 0, 3200),
            ("inh", 3200, 4000),
        ]
        assert [p.p for p in spec.projections] == [0.02, 0.02]
    assert coba.params["w_e"] == (6.0, "nS") and coba.params["w_i"] == (67.0, "nS")
    assert cuba.params["w_e"] == (1.62, "mV") and cuba.params["w_i"] == (-9.0, "mV")


def test_scaling_keeps_the_inputs_per_neuron() -> None:
    assert network_spec("coba", 10_000).projections[0].p == pytest.approx(0.008)
    assert network_spec("seed", 10_000).projections[0].p == pytest.approx(0.01)
    assert network_spec("seed", 50).projections[0].p == 1.0  # capped
    assert network_spec("cuba", 1000).population("inh").size == 200


def test_a_fingerprint_names_one_network() -> None:
    assert network_spec("seed").fingerprint() == network_spec("seed").fingerprint()
    assert network_spec("seed").fingerprint() != network_spec("seed", 999).fingerprint()
    assert network_spec("coba").fingerprint() != network_spec("cuba").fingerprint()


def test_unknown_networks_and_sizes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown network 'hh'"):
        network_spec("hh")
    with pytest.raises(InvalidInputError, match="2 to 1,000,000 neurons"):
        network_spec("seed", 1)
    with pytest.raises(InvalidInputError, match="no population 'glia'"):
        network_spec("coba").population("glia")


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_brian2_accepts_every_network_and_its_drive(name: str, brian_cache: Path) -> None:
    # Brian2 checks the units of every equation when it builds the code: the
    # seed's original equations (amps added to volts) would be refused here.
    net = SpikingNetwork(network_spec(name, 60), cache_dir=brian_cache, target="numpy")
    try:
        chunk = net.advance()
        assert chunk.t_end == pytest.approx(0.1)
        assert net.shift_drive(net.spec.drive.step_pa) == net.spec.drive.step_pa
        assert net.advance().t_end == pytest.approx(0.2)
    finally:
        net.close()
