"""The dashboard's routes, one module per part; a new part adds its module to `ROUTERS`."""

from holomind.server.routes import cartridges, chat, core, memory, soup, training

ROUTERS = [core.router, chat.router, memory.router, training.router, cartridges.router, soup.router]
