"""``xlmonitor server``: the Consolideer button's endpoint for PCs with only Excel.

A Starlette app on uvicorn, started in the shared folder that holds the master and the inbox
(its ``xlmonitor.toml``, else ``inbox/``, ``master.xlsm`` and ``terugkoppeling/`` there):

* ``POST /consolideer``: xlwings' ``RunServerPython`` protocol (the VBA module ``Remote``
  posts the open workbook as JSON and applies the ``actions`` answered), see
  :mod:`xlmonitor.server.work`.
* ``GET /status``: the last click's summary and whether one is running, as JSON.

Both want the token (``XLMONITOR_TOKEN``, else ``[server] token`` in xlmonitor.toml) in the
``Authorization`` header, as ``RunServerPython``'s ``auth`` sends it (``Bearer`` before it
is allowed): without it, or with another one, 401. The token is compared in constant time
and never logged (uvicorn's access log holds the request line, not its headers). A request
body larger than ``[server] max_verzoek_mb`` is refused with 413 before it is read: a
``Content-Length`` over the limit at once, a body without one as soon as the bytes received
pass it; nothing more is read and the connection is closed.
"""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from xlmonitor.run.settings import (
    SETTINGS_FILE_NAME,
    ServerSettings,
    Settings,
    read_server_settings,
    read_settings_file,
)
from xlmonitor.server.work import Answer, Consolidator

__all__ = ["create_app", "serve", "server_settings"]

log = logging.getLogger("xlmonitor.server")

#: Without xlmonitor.toml the server finds these beside it (the shipped master's defaults).
DEFAULT_MASTER, DEFAULT_INBOX, DEFAULT_FEEDBACK = "master.xlsm", "inbox", "terugkoppeling"
OUTCOME_HEADER = "X-Xlmonitor-Uitkomst"
# Plain-text answers stay ASCII: RunServerPython shows them as they come in a message box.
UNAUTHORISED = ("Geen toegang: het token ontbreekt of klopt niet. Vul bij Token op het blad "
                "Instellingen het token in dat u van functioneel beheer kreeg.")


def server_settings(folder: str | Path = ".", settings_file: str | Path | None = None
                    ) -> tuple[Settings, ServerSettings]:
    """The run's settings and the server's, found as the nightly job finds them:
    ``settings_file`` (default ``xlmonitor.toml`` in ``folder``) when there is one, its
    missing ``inbox`` and ``master`` beside it; else ``inbox/``, ``master.xlsm`` and
    ``terugkoppeling/`` in ``folder``. Raises UsageError (no token, bad values)."""
    folder = Path(folder).absolute()
    source = Path(settings_file).absolute() if settings_file is not None else \
        folder / SETTINGS_FILE_NAME
    if settings_file is not None or source.is_file():
        values = read_settings_file(source)
        values.setdefault("master", source.parent / DEFAULT_MASTER)
        values.setdefault("inbox", source.parent / DEFAULT_INBOX)
        settings = Settings(source=source, **values)  # type: ignore[arg-type]
        return settings, read_server_settings(source)
    settings = Settings(inbox=folder / DEFAULT_INBOX, master=folder / DEFAULT_MASTER,
                        feedback=folder / DEFAULT_FEEDBACK)
    return settings, read_server_settings(None)


def _authorised(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "").strip()
    if given[:7].lower() == "bearer ":
        given = given[7:].strip()
    return bool(given) and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _refuse(request: Request, status: int, text: str) -> Response:
    client = request.client.host if request.client else "?"
    log.warning(f"{status} voor {request.method} {request.url.path} van {client}")
    headers = {"WWW-Authenticate": 'Bearer realm="xlmonitor"'} if status == 401 else None
    return PlainTextResponse(text, status_code=status, headers=headers)


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to be larger than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            return None
        body += chunk
    return bytes(body)


def _parse(body: bytes) -> object:
    return json.loads(body)


def create_app(consolidator: Consolidator) -> Starlette:
    """The ASGI app around one :class:`Consolidator`."""
    server = consolidator.server

    async def consolideer(request: Request) -> Response:
        if not _authorised(request, server.token):
            return _refuse(request, 401, UNAUTHORISED)
        body = await _body(request, server.max_request_bytes)
        if body is None:
            return _refuse(request, 413, f"De werkmap is te groot voor de server (meer dan "
                                         f"{server.max_request_mb:g} MB). Vraag functioneel "
                                         "beheer om max_verzoek_mb in xlmonitor.toml.")
        try:
            payload = await run_in_threadpool(_parse, body)
        except (ValueError, RecursionError):
            return _refuse(request, 400, "Dit is geen JSON zoals xlwings' RunServerPython "
                                         "het stuurt.")
        del body
        try:
            answer: Answer = await run_in_threadpool(consolidator.consolideer, payload)
        except Exception as error:  # where, never the message: it may quote a cell
            log.error(f"onverwachte fout {type(error).__name__} "
                      f"({_where(error)}); de werkmap is niet bijgewerkt")
            return PlainTextResponse("Onverwachte fout op de xlmonitor-server; de werkmap is "
                                     "niet bijgewerkt. Functioneel beheer vindt meer in het "
                                     "log van de server.", status_code=500)
        headers = {OUTCOME_HEADER: answer.outcome}
        if isinstance(answer.body, str):
            return PlainTextResponse(answer.body, status_code=answer.status, headers=headers)
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    async def status(request: Request) -> Response:
        if not _authorised(request, server.token):
            return _refuse(request, 401, UNAUTHORISED)
        return JSONResponse(await run_in_threadpool(consolidator.status))

    return Starlette(routes=[Route("/consolideer", consolideer, methods=["POST"]),
                             Route("/status", status, methods=["GET"])])


def _where(error: BaseException) -> str:
    import traceback

    return ", ".join(f"{Path(frame.filename).name}:{frame.lineno}"
                     for frame in traceback.extract_tb(error.__traceback__)[-3:])


def serve(folder: str | Path = ".", *, host: str = "127.0.0.1", port: int = 8765,
          settings_file: str | Path | None = None, ssl_keyfile: str | None = None,
          ssl_certfile: str | None = None, echo=print) -> None:
    """Run the server until it is stopped (Ctrl+C, the service manager)."""
    import uvicorn

    settings, server = server_settings(folder, settings_file)
    settings.check()
    scheme = "https" if ssl_certfile else "http"
    echo(f"xlmonitor server op {scheme}://{host}:{port} · master {settings.master} · inbox "
         f"{settings.inbox} · token uit {server.token_source} · verzoeken tot "
         f"{server.max_request_mb:g} MB")
    if scheme == "http" and host not in ("127.0.0.1", "localhost", "::1"):
        echo("Let op: zonder TLS gaan het token en de werkmap onversleuteld over het netwerk. "
             "Zet de server achter IIS of nginx met een certificaat, of geef --ssl-certfile "
             "en --ssl-keyfile.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    uvicorn.run(create_app(Consolidator(settings, server)), host=host, port=port,
                ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile, server_header=False,
                log_level="info")
