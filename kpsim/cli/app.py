"""`kpsim app`: serve the browser view (kpsim/app.py) with solara, entirely from this machine; check the files it receives.

Solara's front-end files come from a CDN unless its asset proxy serves them
from a local folder; the solara-assets package ships that folder. The server
is told where it is, and every call home (version check, telemetry, the
page's check iframe) is switched off, so the page loads with no internet.

Scenario files uploaded in the page are checked here as `kpsim validate`
checks files on disk (`check_files`), with the same `file:line` messages.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors
from kpsim.errors import InputError

MAX_UPLOAD_BYTES = 1_000_000  # per file: a scenario is a few kilobytes


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


def check_files(files: dict[str, bytes], shipped: Path | None = None) -> tuple[list, list[str], list[str]]:
    """Check uploaded files as `kpsim validate` checks files on disk: [(file name, Scenario)] of the complete scenarios, errors, notes.

    The files are written to a temporary folder of their own and named in
    every message as uploaded (`file:line: …`). A scenario may extend only
    files uploaded with it: an `extends:` that leaves the folder is refused,
    naming the file of that name under `shipped` (the bundled scenarios) if any.
    """
    from kpsim.scenario.load import extension_notes, load_tree, validate_tree
    from kpsim.scenario.yamlsource import load_located

    found, errors, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="kpsim-upload-") as tmp:
        folder = Path(tmp).resolve()
        names = []
        for name, data in files.items():
            name = Path(name).name
            if not name.endswith((".yaml", ".yml")) or name.startswith("."):
                errors.append(f"{name}: not a scenario file (a .yaml or .yml file)")
            elif len(data) > MAX_UPLOAD_BYTES:
                errors.append(f"{name}: larger than {MAX_UPLOAD_BYTES:,} bytes — not a scenario file")
            else:
                (folder / name).write_bytes(data)
                names.append(name)
        parents, refused = {}, set()
        for name in names:
            try:
                top = load_located(folder / name)
            except InputError as exc:
                errors.extend(exc.messages)
                refused.add(name)
                continue
            extends = top.get("extends", [])
            parents[name] = [p for p in ([extends] if isinstance(extends, str) else extends) if isinstance(p, str)] if isinstance(extends, str | list) else []
            for p in parents[name]:
                if (folder / p).resolve().parent != folder or (folder / p).resolve().name not in names:
                    near = next((f for f in sorted(shipped.rglob(Path(p).name))), None) if shipped else None
                    hint = f" (kpsim ships one as {near.relative_to(shipped.parent)})" if near else ""
                    errors.append(f"{name}:{top.lines['extends'][1]}: extends = {p!r} — not uploaded: choose it together with {name}{hint}")
                    refused.add(name)
        while grown := {n for n in names if n not in refused and any((folder / p).resolve().name in refused for p in parents.get(n, []))}:
            refused |= grown  # a file that extends a refused one is not read either
        for name in names:
            if name in refused:
                continue
            try:
                tree = load_tree(folder / name)
                if not {"name", "proposal", "rules"} & set(tree):
                    notes.append(f"{name}: a fragment (no name, proposal or rules) — choose it together with the scenario that extends it")
                    continue
                found.append((name, validate_tree(tree)))
                notes.extend(extension_notes(tree))
            except InputError as exc:
                errors.extend(exc.messages)

    def local(messages: list[str]) -> list[str]:  # each once, its files named as uploaded
        return list(dict.fromkeys(m.replace(f"{folder}{os.sep}", "") for m in messages))

    return found, local(errors), local(notes)
