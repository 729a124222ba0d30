"""Spiking networks as data: equations, parameters and connectivity, nothing that runs.

Brian2 keeps what a model *is* (equation strings, a namespace of parameters)
apart from how it executes; so do we. A `NetworkSpec` holds everything Brian2
needs to build a network, as plain strings and numbers, and `SpikingNetwork`
(`holomind.neuro.runner`) turns one into Brian2 objects. Three networks ship:

- ``seed``: seed 002's LIF network (1,000 neurons, one conductance synapse,
  STDP with pre/post traces), with its equations made dimensionally correct;
- ``coba`` and ``cuba``: benchmarks 1 and 2 of Brette et al. (2007), after
  Vogels & Abbott (2005): 4,000 neurons, 3,200 excitatory and 800 inhibitory,
  p = 0.02, with conductance- or current-based exponential synapses.

Each has a *drive*: a current every neuron receives, which `modulation` moves up
or down. At its starting value the network is exactly the published model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from holomind.errors import InvalidInputError

Quantity = tuple[float, str]  # (value, Brian2 unit name), e.g. (20.0, "ms"); "1" = no unit


@dataclass(frozen=True)
class Population:
    """A contiguous range of the network's neurons with one role (e.g. excitatory)."""

    name: str
    start: int  # first neuron index
    stop: int  # one past the last

    @property
    def size(self) -> int:
        """How many neurons it holds."""
        return self.stop - self.start


@dataclass(frozen=True)
class Projection:
    """Synapses from one population onto another, connected at random with probability p."""

    name: str  # Brian2 object name; also the prefix of its arrays in a checkpoint
    source: str  # population name
    target: str  # population name ("all" for every neuron)
    on_pre: str  # what a presynaptic spike does
    p: float  # connection probability
    model: str = ""  # synaptic state equations (empty: static synapses)
    on_post: str = ""  # what a postsynaptic spike does (STDP)
    init: dict[str, str] = field(default_factory=dict)  # variable -> expression


@dataclass(frozen=True)
class Drive:
    """The input current `modulation` changes: one step per `increase` or `decrease`."""

    variable: str  # neuron variable (amp) that every step adds to
    step_pa: float  # pA per step at strength 1
    low_pa: float  # lowest offset from the starting value, pA
    high_pa: float  # highest offset, pA


@dataclass(frozen=True)
class NetworkSpec:
    """Everything that defines a network; `SpikingNetwork` builds it in Brian2."""

    name: str  # "seed", "coba", "cuba"
    title: str  # one line for people
    neurons: int
    populations: tuple[Population, ...]
    equations: str  # neuron model, Brian2 syntax
    threshold: str
    reset: str
    refractory: str  # an expression of the namespace, e.g. "tau_ref"
    method: str  # Brian2 integration method
    params: dict[str, Quantity]  # the namespace the strings refer to
    init: dict[str, str]  # neuron variable -> initial value expression (applied in order)
    projections: tuple[Projection, ...]
    drive: Drive
    dt_ms: float = 0.1
    record: tuple[str, ...] = ("v",)  # the state variables worth sampling (--sample all)
    reference: str = ""

    def population(self, name: str) -> Population:
        """The population called `name` ("all" is every neuron)."""
        if name == "all":
            return Population("all", 0, self.neurons)
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise InvalidInputError(f"network {self.name!r} has no population {name!r}")

    def to_dict(self) -> dict:
        """The spec as JSON-ready data."""
        return asdict(self)

    def fingerprint(self) -> str:
        """A short hash of the whole spec: a checkpoint only resumes on the same network."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _in_degree_p(in_degree: float, neurons: int) -> float:
    # Larger or smaller networks keep each neuron's expected number of inputs, as
    # Brian2's own scaling benchmarks do (p = 80 / N for CUBA), so the dynamics stay put.
    return min(1.0, in_degree / neurons)


def seed_network(neurons: int = 1000) -> NetworkSpec:
    """Seed 002's network: LIF neurons, one conductance synapse, STDP, p = 0.1 at 1,000.

    The seed wrote ``dv/dt = (I_syn + I_inj - v) / tau`` (amps added to volts, and
    a leak towards 0 V). Here the currents charge a capacitance and the leak pulls
    towards the rest potential (= the seed's reset, −65 mV). The seed named no
    membrane constants: C_m = 1 nF (g_L = 50 nS) keeps the recurrent loop of its
    0.5 nS synapses below a gain of one, so the network has a stable asynchronous
    state instead of jumping between silence and saturation. Each neuron gets its
    own steady current (uniform 100–700 pA; 750 pA is threshold) plus 3 mV of
    membrane noise, so neurons do not fire in lockstep. STDP follows Song, Miller
    & Abbott (2000): traces ``pre``/``post`` jump by 1 at each spike and decay with
    20 ms; depression is 5 % stronger than potentiation, and 0 ≤ w ≤ 1 nS.
    """
    _check_size(neurons)
    return NetworkSpec(
        name="seed",
        title="seed 002: LIF, conductance synapses, STDP",
        neurons=neurons,
        populations=(Population("exc", 0, neurons),),
        equations="""
dv/dt = (E_L - v)/tau_m + (I_syn + I_inj)/C_m + sigma*sqrt(2/tau_m)*xi : volt (unless refractory)
I_syn = g_syn*(E_syn - v) : amp
dg_syn/dt = -g_syn/tau_syn : siemens
I_inj : amp
""",
        threshold="v > V_th",
        reset="v = V_r",
        refractory="tau_ref",
        method="euler",
        params={
            "E_L": (-65.0, "mV"),
            "V_th": (-50.0, "mV"),
            "V_r": (-65.0, "mV"),
            "tau_ref": (5.0, "ms"),
            "tau_m": (20.0, "ms"),
            "C_m": (1.0, "nF"),
            "sigma": (3.0, "mV"),
            "E_syn": (0.0, "mV"),
            "tau_syn": (5.0, "ms"),
            "I_low": (100.0, "pA"),
            "I_high": (700.0, "pA"),
            "w_0": (0.5, "nS"),
            "w_max": (1.0, "nS"),
            "tau_pre": (20.0, "ms"),
            "tau_post": (20.0, "ms"),
            "A_pre": (0.01, "1"),
            "A_post": (0.0105, "1"),
        },
        init={
            "v": "E_L + rand()*(V_th - E_L)",
            "I_inj": "I_low + rand()*(I_high - I_low)",
        },
        projections=(
            Projection(
                name="syn",
                source="exc",
                target="exc",
                model="""
w : siemens
dpre/dt = -pre/tau_pre : 1 (event-driven)
dpost/dt = -post/tau_post : 1 (event-driven)
""",
                on_pre="""
g_syn_post += w
pre += 1
w = clip(w - A_post*post*w_max, 0*nS, w_max)
""",
                on_post="""
post += 1
w = clip(w + A_pre*pre*w_max, 0*nS, w_max)
""",
                p=_in_degree_p(100, neurons),
                init={"w": "w_0"},
            ),
        ),
        drive=Drive(variable="I_inj", step_pa=50.0, low_pa=-700.0, high_pa=1500.0),
        record=("v", "g_syn"),
        reference="seed 002 (Neuromorphic System Framework); STDP after Song, Miller & Abbott 2000",
    )


def _split(neurons: int) -> tuple[Population, Population]:
    n_exc = round(neurons * 0.8)
    return Population("exc", 0, n_exc), Population("inh", n_exc, neurons)


def coba(neurons: int = 4000) -> NetworkSpec:
    """Brette et al. (2007) benchmark 1: conductance-based synapses (Vogels & Abbott 2005).

    The benchmark writes conductances in units of the leak (g_e += 0.6, g_i += 6.7
    with g_L = 10 nS); here they are in siemens, the same numbers: 6 nS and 67 nS.
    Its initial conductances (4 ± 1.5 and 20 ± 12 leak units) start the activity,
    which then sustains itself. ``I_ext`` (0 pA) is the drive modulation moves.
    """
    _check_size(neurons)
    exc, inh = _split(neurons)
    p = _in_degree_p(80, neurons)
    return NetworkSpec(
        name="coba",
        title="Brette et al. 2007 benchmark 1 (COBA)",
        neurons=neurons,
        populations=(exc, inh),
        equations="""
dv/dt = (g_l*(E_l - v) + g_e*(E_e - v) + g_i*(E_i - v) + I_ext)/C_m : volt (unless refractory)
dg_e/dt = -g_e/tau_e : siemens
dg_i/dt = -g_i/tau_i : siemens
I_ext : amp (shared)
""",
        threshold="v > V_t",
        reset="v = V_r",
        refractory="tau_ref",
        method="euler",
        params={
            "C_m": (200.0, "pF"),
            "g_l": (10.0, "nS"),
            "E_l": (-60.0, "mV"),
            "E_e": (0.0, "mV"),
            "E_i": (-80.0, "mV"),
            "tau_e": (5.0, "ms"),
            "tau_i": (10.0, "ms"),
            "V_t": (-50.0, "mV"),
            "V_r": (-60.0, "mV"),
            "tau_ref": (5.0, "ms"),
            "w_e": (6.0, "nS"),
            "w_i": (67.0, "nS"),
        },
        init={
            "v": "V_r + rand()*(V_t - V_r)",
            "g_e": "(randn()*1.5 + 4)*g_l",
            "g_i": "(randn()*12 + 20)*g_l",
        },
        projections=(
            Projection(name="syn_exc", source="exc", target="all", on_pre="g_e_post += w_e", p=p),
            Projection(name="syn_inh", source="inh", target="all", on_pre="g_i_post += w_i", p=p),
        ),
        drive=Drive(variable="I_ext", step_pa=20.0, low_pa=-400.0, high_pa=400.0),
        record=("v", "g_e", "g_i"),
        reference="Brette et al. 2007, J Comput Neurosci 23:349, benchmark 1",
    )


def cuba(neurons: int = 4000) -> NetworkSpec:
    """Brette et al. (2007) benchmark 2: current-based synapses (Vogels & Abbott 2005).

    As in Brian2's CUBA example: synaptic inputs in volts (+1.62 mV, −9 mV), rest
    −49 mV above the −50 mV threshold. ``I_ext`` (0 pA) enters through the
    membrane resistance of the Vogels & Abbott cell (100 MΩ).
    """
    _check_size(neurons)
    exc, inh = _split(neurons)
    p = _in_degree_p(80, neurons)
    return NetworkSpec(
        name="cuba",
        title="Brette et al. 2007 benchmark 2 (CUBA)",
        neurons=neurons,
        populations=(exc, inh),
        equations="""
dv/dt = (ge + gi - (v - E_l) + R_m*I_ext)/tau_m : volt (unless refractory)
dge/dt = -ge/tau_e : volt
dgi/dt = -gi/tau_i : volt
I_ext : amp (shared)
""",
        threshold="v > V_t",
        reset="v = V_r",
        refractory="tau_ref",
        method="exact",
        params={
            "tau_m": (20.0, "ms"),
            "tau_e": (5.0, "ms"),
            "tau_i": (10.0, "ms"),
            "V_t": (-50.0, "mV"),
            "V_r": (-60.0, "mV"),
            "E_l": (-49.0, "mV"),
            "R_m": (100.0, "Mohm"),
            "tau_ref": (5.0, "ms"),
            "w_e": (1.62, "mV"),
            "w_i": (-9.0, "mV"),
        },
        init={"v": "V_r + rand()*(V_t - V_r)"},
        projections=(
            Projection(name="syn_exc", source="exc", target="all", on_pre="ge_post += w_e", p=p),
            Projection(name="syn_inh", source="inh", target="all", on_pre="gi_post += w_i", p=p),
        ),
        drive=Drive(variable="I_ext", step_pa=20.0, low_pa=-400.0, high_pa=400.0),
        record=("v", "ge", "gi"),
        reference="Brette et al. 2007, J Comput Neurosci 23:349, benchmark 2",
    )


NETWORKS = {"seed": seed_network, "coba": coba, "cuba": cuba}
MAX_NEURONS = 1_000_000


def network_spec(name: str, neurons: int | None = None) -> NetworkSpec:
    """The network called `name` (seed | coba | cuba), at its standard size unless told."""
    make = NETWORKS.get(name)
    if make is None:
        raise InvalidInputError(
            f"unknown network {name!r}", hint=f"use one of: {', '.join(NETWORKS)}"
        )
    return make() if neurons is None else make(neurons)


def _check_size(neurons: int) -> None:
    if not 2 <= neurons <= MAX_NEURONS:
        raise InvalidInputError(
            f"a network needs 2 to {MAX_NEURONS:,} neurons, got {neurons}",
            hint="pass --neurons within that range",
        )
