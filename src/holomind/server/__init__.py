"""The dashboard: FastAPI + uvicorn, the workspace's main reader, started by `holomind serve`.

from holomind.server import ServerOptions, serve
serve(ServerOptions(network=Path("net.png"), library=Path("lib"), data_root=Path("data")))
"""

from holomind.server.app import create_app, serve, url_of
from holomind.server.state import ServerOptions

__all__ = ["ServerOptions", "create_app", "serve", "url_of"]
