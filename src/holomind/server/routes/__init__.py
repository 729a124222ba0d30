"""The dashboard's routes, one module per part; a new part adds its module to `ROUTERS`."""

from holomind.server.routes import (
    agents,
    cartridges,
    chat,
    core,
    ledger,
    memory,
    sim,
    sleep,
    soup,
    training,
)

ROUTERS = [
    core.router,
    chat.router,
    memory.router,
    training.router,
    cartridges.router,
    soup.router,
    sim.router,
    agents.router,
    ledger.router,
    sleep.router,
]
