"""``xlmonitor server``: the Consolideer button for PCs without Python. xlwings'
``RunServerPython`` posts the open master; the server runs the nightly job's consolidation
(:mod:`xlmonitor.run.schedule`, same lock) and answers the actions that refresh the workbook,
made by the button's own code (:mod:`xlmonitor.excel.button`). :mod:`.work` holds the rules,
:mod:`.app` the web layer (Starlette on uvicorn, token, request limit).

Importing it imports Starlette: the command line imports it only inside ``xlmonitor server``.
"""

from xlmonitor.server.app import create_app, serve, server_settings
from xlmonitor.server.work import Answer, Consolidator

__all__ = ["Answer", "Consolidator", "create_app", "serve", "server_settings"]
