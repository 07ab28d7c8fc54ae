"""`kpsim app`: serve the browser view (kpsim/app.py) with solara, entirely from this machine.

Solara's front-end files come from a CDN unless its asset proxy serves them
from a local folder; the solara-assets package ships that folder. The server
is told where it is, and every call home (version check, telemetry, the
page's check iframe) is switched off, so the page loads with no internet.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors
from kpsim.errors import InputError


def assets_dir() -> Path:
    """The folder of front-end files installed by solara-assets (…/share/solara/cdn)."""
    try:
        dist = importlib.metadata.distribution("solara-assets")
    except importlib.metadata.PackageNotFoundError:
        raise InputError("the browser view needs its extra: python3 -m pip install -e '.[app]'") from None
    for f in dist.files or []:
        parts = f.parts
        if "cdn" in parts and parts[parts.index("cdn") - 1 : parts.index("cdn")] == ("solara",):
            return Path(dist.locate_file(Path(*parts[: parts.index("cdn") + 1]))).resolve()
    raise InputError("solara-assets is installed but holds no front-end files; reinstall it")


def server_command(host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The solara command line and environment that serve kpsim.app:Page offline."""
    env = dict(os.environ)
    env.update(
        SOLARA_ASSETS_PROXY="true",  # serve the front end from the local folder, never from the CDN
        SOLARA_ASSETS_PROXY_CACHE_DIR=str(assets_dir()),
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="false",
        MPLBACKEND="Agg",
    )
    env.pop("VSCODE_PID", None)  # solara turns its proxy off inside VS Code
    env.pop("VSCODE_CWD", None)
    argv = [sys.executable, "-m", "solara", "run", "kpsim.app:Page", "--host", host, "--port", str(port)]
    argv += ["--production", "--no-open", "--no-check-version", "--log-level", "warning"]
    return argv, env


@click.command("app")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@handle_input_errors
def app(host, port):
    """Open the browser view: step through one plenary, then compare the rules.

    Serves http://HOST:PORT until interrupted (Ctrl-C). Works with no
    internet: solara's front-end files are served from the solara-assets package.
    """
    argv, env = server_command(host, port)
    click.echo(f"kpsim app: http://{host}:{port}  (Ctrl-C to stop)")
    os.execve(argv[0], argv, env)  # the server replaces this process: no child is left behind
