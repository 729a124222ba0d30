"""`holomind serve`: the dashboard in the browser (what `make run` starts)."""

from __future__ import annotations

from pathlib import Path

import typer

from holomind.cli.common import backend_name, settings


def serve(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; anything but loopback needs --token."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="HOLOMIND_TOKEN",
        help="Secret every request must carry (open /?token=…) \\[env: HOLOMIND_TOKEN].",
        show_envvar=False,
    ),
    network: Path | None = typer.Option(
        None, "--network", help="Pixel network PNG \\[env: HOLOMIND_NETWORK; HOME/network.png]."
    ),
    library: Path | None = typer.Option(
        None,
        "--library",
        help="Cartridge library \\[env: HOLOMIND_LIBRARY; HOME/cartridge_library].",
    ),
    data_root: Path | None = typer.Option(
        None, "--data-root", help="Folder whose sub-folders training may read \\[HOME/data]."
    ),
    backend: str | None = typer.Option(
        None,
        "--backend",
        help="Chat backend: embedded | openai | ollama \\[env: HOLOMIND_BACKEND].",
    ),
    url: str | None = typer.Option(
        None, "--url", help="Chat server URL, e.g. http://localhost:1234/v1 \\[env: HOLOMIND_URL]."
    ),
    model: str | None = typer.Option(None, "--model", help="Chat model name, or a .gguf file."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Threads for the chat model, torch and the soup."
    ),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1, help="Longest chat answer."),
    max_upload_mb: int = typer.Option(
        64, "--max-upload-mb", min=1, help="Largest network a page may upload, in MB."
    ),
) -> None:
    """Serve the dashboard: the workspace live, chat, memory, training, cartridges, the soup."""
    from holomind.server import ServerOptions
    from holomind.server import serve as run
    from holomind.server.security import Limits, check_binding

    token = token or None  # HOLOMIND_TOKEN set but empty means no token
    check_binding(host, token)
    s = settings(
        ctx,
        network=network,
        library=library,
        backend=backend,
        url=url,
        model=model,
        threads=threads,
    )
    root = data_root or s.home / "data"
    root.mkdir(parents=True, exist_ok=True)
    run(
        ServerOptions(
            network=s.network_path,
            library=s.library_path,
            data_root=root,
            home=s.home,
            host=host,
            port=port,
            token=token,
            backend=backend_name(s, backend),
            url=s.url,
            model=s.model,
            threads=s.threads,
            max_tokens=max_tokens,
            limits=Limits(upload=max_upload_mb << 20),
        )
    )
