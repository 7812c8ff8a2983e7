"""``xlmonitor server``: the real server (uvicorn in a subprocess on 127.0.0.1, a free port)
in a shared folder with the demo inbox and the shipped master, posted to as xlwings' VBA
client posts (:mod:`xlwings_client`, with the sheets ``Consolideren.bas`` sends); and the VBA
of the server branch as olevba reads it from the built ``master.xlsm``.

Only addresses on this machine; every wait is bounded.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import xlwings
from filelock import FileLock
from test_button import expected_rows, sheet_index
from vba_source import vba_modules
from xlwings_client import dumps, payload

from xlmonitor.consolidation.merge import DATA_COLUMNS, FINDING_COLUMNS, REGISTER_COLUMNS
from xlmonitor.demo import write_demo_inbox
from xlmonitor.errors import UsageError
from xlmonitor.excel import button
from xlmonitor.master import contract
from xlmonitor.programme.definition import load_programme
from xlmonitor.run.settings import read_server_settings, read_settings_file
from xlmonitor.server import work

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "workbooks" / "master.xlsm"
TOKEN = "proef-token-7f3a9c2e5b1d4a68"
WRONG = "verkeerd-token-0000000000000000"
START_TIMEOUT = 60.0



@pytest.fixture(scope="module")
def master_vba() -> dict[str, str]:
    return vba_modules(MASTER)


def sent_sheets(master_vba) -> list[str]:
    """The sheets the button's server branch sends (its include list)."""
    found = re.search(r'SERVER_SHEETS As String = "([^"]*)"', master_vba["Consolideren"])
    return found.group(1).split(",")


def client_version(master_vba) -> str:
    return re.search(r'XLWINGS_VERSION As String = "([^"]+)"', master_vba["xlwings"]).group(1)


# -- the server process ---------------------------------------------------------------------------

def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TOML = """inbox = "inbox"
master = "master.xlsm"
terugkoppeling = "terugkoppeling"
taken = 1

[server]
token = "{token}"
wacht_seconden = {wait}
max_verzoek_mb = {limit}
"""


def shared_folder(root: Path, *, wait: float = 30, limit: float = 5) -> Path:
    """The shared drive: the demo inbox, the shipped master, xlmonitor.toml."""
    root.mkdir(parents=True, exist_ok=True)
    write_demo_inbox(load_programme(), root / "inbox")
    shutil.copy(MASTER, root / "master.xlsm")
    (root / "xlmonitor.toml").write_text(TOML.format(token=TOKEN, wait=wait, limit=limit),
                                         "utf-8")
    return root


class Server:
    """``xlmonitor server`` started in ``folder``; its output in ``folder/../server-*.txt``."""

    def __init__(self, folder: Path, *args: str, env: dict | None = None) -> None:
        self.folder, self.port = folder, free_port()
        self.output = folder.parent / f"server-{folder.name}-{self.port}.txt"
        environment = {k: v for k, v in os.environ.items() if k != "XLMONITOR_TOKEN"}
        environment.update(env or {})
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xlmonitor.cli", "server", "--port", str(self.port),
                 *args], cwd=folder, stdout=out, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server stopped: {self.output.read_text()}")
            try:
                self.get("/status", token=TOKEN)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not start: {self.output.read_text()}")

    def request(self, method: str, path: str, body: bytes | None = None, *,
                token: str | None = TOKEN, timeout: float = 180) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = token
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def get(self, path: str, *, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
        return self.request("GET", path, token=token, timeout=10)

    def post(self, body: bytes, *, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
        return self.request("POST", "/consolideer", body, token=token)

    def status(self) -> dict:
        code, _, body = self.get("/status")
        assert code == 200
        return json.loads(body)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    return shared_folder(tmp_path_factory.mktemp("server") / "gedeeld")


@pytest.fixture(scope="module")
def server(shared):
    running = Server(shared)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def body(shared, master_vba) -> bytes:
    """What the button posts for the shipped master on the shared drive."""
    return dumps(payload(shared / "master.xlsm", include=sent_sheets(master_vba),
                         version=client_version(master_vba)))


def runs(folder: Path) -> int:
    """Consolidations finished according to the run log."""
    log = folder / "xlmonitor.log"
    return log.read_text("utf-8").count(" klaar · ") if log.exists() else 0


# -- POST /consolideer ----------------------------------------------------------------------------

def test_the_answer_refreshes_the_workbook_with_the_consolidation(server, shared, body,
                                                                  master_vba):
    master_before = (shared / "master.xlsm").read_bytes()
    code, headers, answer = server.post(body)
    assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bijgewerkt"
    done = json.loads(answer)["actions"]

    # The consolidation of the shared inbox, as the nightly job's code makes it.
    from xlmonitor.consolidation.merge import consolidate

    wanted = consolidate(shared / "inbox", load_programme())
    data = [a for a in done if a["func"] == "setValues"
            and a["sheet_position"] == sheet_index("Data")]
    assert [a["values"] for a in data] == [expected_rows(wanted.shown_data(), DATA_COLUMNS)]
    assert len(data[0]["values"]) == len(wanted.data) == 554
    register = [a for a in done if a["func"] == "setValues" and a["start_row"] == 15
                and a["sheet_position"] == sheet_index("Inzendingen")]
    assert [a["values"] for a in register] == [
        expected_rows(wanted.shown_register(), REGISTER_COLUMNS)]
    findings = [a for a in done if a["func"] == "setValues"
                and a["sheet_position"] == sheet_index("Validatie")]
    assert [a["values"] for a in findings] == [
        expected_rows(wanted.findings_frame(), FINDING_COLUMNS)]

    # The same actions the button's own code makes for that payload and consolidation (its
    # time in the Status cell aside), less `calculate`, which xlwings' VBA client lacks.
    feedback = sorted((shared / "terugkoppeling").glob("*.controle.xlsx"))
    assert len(feedback) == sum(1 for f in wanted.file_findings.values() if f) > 0
    with work.open_remote_book(json.loads(body)) as book:
        run = SimpleNamespace(consolidation=wanted, feedback=feedback)  # what it reads
        button.refresh_book(book, run, datetime(2022, 8, 1, 9, 30), via="server")
        own = [a for a in book.json()["actions"] if a["func"] != "calculate"]
    status = own[-1]
    assert status["func"] == "setValues" and status["sheet_position"] == 0
    assert done[:-2] == own[:-1]
    assert re.fullmatch(r"'Bijgewerkt: \d\d-\d\d-\d{4} \d\d:\d\d via de xlmonitor-server · "
                        + re.escape(status["values"][0][0].split(" via de xlmonitor-server · ")[1]),
                        done[-2]["values"][0][0])
    assert {k: v for k, v in done[-2].items() if k != "values"} == \
        {k: v for k, v in status.items() if k != "values"}

    # Then the Dutch summary; every action is one xlwings' VBA client (Remote.bas) can run.
    alert = done[-1]
    assert alert["func"] == "alert" and alert["args"][1:4] == ["Consolideer", "ok", "info"]
    assert alert["args"][0].startswith("Geconsolideerd op de xlmonitor-server")
    assert f"Terugkoppeling voor {len(feedback)} bestand(en)" in alert["args"][0]
    subs = set(re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)",
                          master_vba["Remote"], re.MULTILINE))
    assert {a["func"] for a in done} <= subs

    # The master file is the analyst's business (she saves the refreshed workbook); the run
    # is logged as the nightly job's are.
    assert (shared / "master.xlsm").read_bytes() == master_before
    log = (shared / "xlmonitor.log").read_text("utf-8")
    assert "start · knop via server · inbox" in log and " klaar · " in log


def test_a_master_saved_after_a_click_is_refreshed_alike(server, shared, master_vba, tmp_path):
    """The analyst saved the workbook after a click: its tables are full, its dates went out
    as VBA-Web writes them. The next click gives the same rows, in tables of the same size."""
    from xlmonitor.consolidation.merge import consolidate
    from xlmonitor.master.publish import write_button_master

    wanted = consolidate(shared / "inbox", load_programme())
    saved = write_button_master(wanted, tmp_path / "master.xlsm", settings={})
    sent = dumps(payload(saved, include=sent_sheets(master_vba),
                         version=client_version(master_vba)))
    everything = dumps(payload(saved, version=client_version(master_vba)))
    assert len(sent) < len(everything)
    code, headers, answer = server.post(sent)
    assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bijgewerkt"
    done = json.loads(answer)["actions"]
    data = sheet_index("Data")
    assert [a["args"][1] for a in done if a["func"] == "resizeTable"
            and a["sheet_position"] == data] == [f"$A$1:$O${len(wanted.data) + 1}"]
    assert not [a for a in done if a["func"] == "rangeClearContents"]
    [rows] = [a["values"] for a in done if a["func"] == "setValues"
              and a["sheet_position"] == data]
    assert rows == expected_rows(wanted.shown_data(), DATA_COLUMNS)


def test_status_tells_the_last_run_and_needs_the_token(server, shared, body):
    code, _, _ = server.post(body)
    assert code == 200
    status = server.status()
    assert status["bezig"] is False and status["xlwings"] == xlwings.__version__
    last = status["laatste"]
    assert last["uitkomst"] == "bijgewerkt" and last["rijen"] == 554
    assert last["master"] == str(shared / "master.xlsm")
    assert server.get("/status", token=None)[0] == 401
    assert server.get("/status", token=WRONG)[0] == 401


@pytest.mark.parametrize("token", [None, "", WRONG, f"Bearer {WRONG}", TOKEN[:-1]],
                         ids=["geen", "leeg", "verkeerd", "bearer-verkeerd", "bijna"])
def test_without_the_right_token_401_and_nothing_runs(server, shared, body, token):
    before = runs(shared)
    code, headers, answer = server.post(body, token=token)
    assert code == 401 and "token" in answer.decode("ascii")
    assert headers["www-authenticate"].startswith("Bearer")
    assert runs(shared) == before


def test_bearer_and_the_token_itself_are_both_accepted(server, body):
    assert server.get("/status", token=f"Bearer {TOKEN}")[0] == 200
    assert server.get("/status", token=TOKEN)[0] == 200


def test_the_token_reaches_no_log(server, shared, body):
    server.post(body, token=WRONG)
    server.post(body)
    server.get("/status")
    time.sleep(0.2)  # the server writes its access log line after answering
    for text in (server.output.read_text("utf-8"), (shared / "xlmonitor.log").read_text()):
        assert TOKEN not in text and WRONG not in text and TOKEN[:12] not in text
    assert "401" in server.output.read_text("utf-8")  # the refusal itself is logged


def test_a_payload_that_is_not_xlwings_json_is_400(server):
    assert server.post(b"{niet: json")[0] == 400
    assert server.post(b'{"client": "VBA"}')[0] == 400


def test_a_workbook_that_is_not_a_master_gets_a_dutch_message(server, body):
    other = json.loads(body)
    for sheet in other["sheets"]:
        sheet["tables"] = []
    code, headers, answer = server.post(json.dumps(other).encode())
    assert code == 200 and headers["x-xlmonitor-uitkomst"] == "mislukt"
    [alert] = json.loads(answer)["actions"]
    assert "geen master van xlmonitor" in alert["args"][0] and alert["args"][3] == "critical"


def test_another_xlwings_version_gets_a_dutch_message(server, body):
    other = json.loads(body)
    other["version"] = "0.30.0"
    code, _, answer = server.post(json.dumps(other).encode())
    [alert] = json.loads(answer)["actions"]
    assert code == 200 and alert["func"] == "alert"
    assert "0.30.0" in alert["args"][0] and "dezelfde xlwings-versie" in alert["args"][0]


def test_alert_without_a_book_is_the_engines_alert(body):
    with work.open_remote_book(json.loads(body)) as book:
        book.app.alert("Tekst", title="Consolideer", mode="critical")
        [engine] = book.json()["actions"]
    assert work.alert_action("Tekst") == engine


# -- one consolidation at a time ------------------------------------------------------------------

def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_clicks_at_once_give_one_consolidation(server, shared, body):
    """The first click waits for the run's lock (held here, as by the nightly job); the
    second, meanwhile, is answered at once that the server is busy."""
    before = runs(shared)
    answers: list = []
    lock = FileLock(shared / ".master.xlsm.lock")
    with lock:
        first = threading.Thread(target=lambda: answers.append(server.post(body)))
        first.start()
        wait_until(lambda: server.status()["bezig"])
        code, headers, second = server.post(body)
    first.join(120)
    assert not first.is_alive()
    assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bezig"
    status, alert = json.loads(second)["actions"]
    assert status["values"][0][0].startswith("'Niet bijgewerkt (")
    assert "Er loopt al een consolidatie op de server" in alert["args"][0]
    [(code, headers, _)] = answers
    assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bijgewerkt"
    assert runs(shared) == before + 1


def test_a_click_while_the_nightly_job_runs_waits_then_says_busy(tmp_path):
    folder = shared_folder(tmp_path / "gedeeld", wait=1)
    running = Server(folder)
    try:
        body = dumps(payload(folder / "master.xlsm", include=list(contract.SERVER_SHEETS),
                             version=xlwings.__version__))
        with FileLock(folder / ".master.xlsm.lock"):
            code, headers, answer = running.post(body)
        assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bezig"
        alert = json.loads(answer)["actions"][-1]
        assert "de nachtelijke verwerking" in alert["args"][0]
        assert "na 1 seconden wachten" in alert["args"][0]
        assert "wacht op een andere consolidatie" in (folder / "xlmonitor.log").read_text()
        assert runs(folder) == 0
    finally:
        running.stop()


# -- limits ---------------------------------------------------------------------------------------

def peak_rss(pid: int) -> int:
    """Peak resident memory of ``pid`` in bytes (VmHWM)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE).group(1)) * 1024


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM (Linux 4.0+)


def send_oversized(port: int, size: int, *, chunked: bool) -> bytes:
    """Post ``size`` bytes of JSON-ish filler (declared, or chunked without a length) until
    the server answers; returns what it answered. Bounded in bytes and time."""
    head = (f"POST /consolideer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {TOKEN}\r\n"
            "Content-Type: application/json\r\n")
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    piece = b"[" + b"0," * (512 * 1024 - 1)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        sent, answer, deadline = 0, b"", time.monotonic() + 60
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if sent < size else [], [], 1)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer:
                    break
            elif writable:
                chunk = piece if not chunked else b"%x\r\n%s\r\n" % (len(piece), piece)
                try:
                    sock.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    continue  # the answer may still be waiting to be read
                sent += len(piece)
        return answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_request_is_refused_before_it_is_read(server, shared, chunked):
    size = 200 * 1024 * 1024  # 40 times the limit of 5 MB in xlmonitor.toml
    before = runs(shared)
    pid = server.process.pid
    reset_peak_rss(pid)
    baseline = peak_rss(pid)
    answer = send_oversized(server.port, size, chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    grown = peak_rss(pid) - baseline
    assert grown < 25 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MB"
    assert runs(shared) == before
    assert server.get("/status")[0] == 200  # and it goes on serving


# -- a server killed mid-run ----------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("phase", ["lezen", "terugkoppeling"])
def test_a_server_killed_mid_run_leaves_master_and_inbox_intact(tmp_path, phase):
    folder = shared_folder(tmp_path / "gedeeld")
    inbox, master = snapshot(folder / "inbox"), (folder / "master.xlsm").read_bytes()
    running = Server(folder)
    body = dumps(payload(folder / "master.xlsm", include=list(contract.SERVER_SHEETS),
                         version=xlwings.__version__))
    answers: list = []

    def click():
        try:
            answers.append(running.post(body))
        except (OSError, http.client.HTTPException) as error:
            answers.append(error)

    clicking = threading.Thread(target=click)
    clicking.start()
    note = folder / ".master.xlsm.lock.info"  # written once the run holds the lock
    if phase == "lezen":
        wait_until(note.exists)
    else:
        wait_until(lambda: any((folder / "terugkoppeling").glob("*.controle.xlsx")))
    os.kill(running.process.pid, signal.SIGKILL)
    running.process.wait(10)
    clicking.join(30)
    assert isinstance(answers[0], Exception), "killed before it answered"

    assert snapshot(folder / "inbox") == inbox
    assert (folder / "master.xlsm").read_bytes() == master
    with FileLock(folder / ".master.xlsm.lock", timeout=0):  # the OS dropped the lock
        pass
    again = Server(folder)  # and the next click works
    try:
        code, headers, _ = again.post(body)
        assert code == 200 and headers["x-xlmonitor-uitkomst"] == "bijgewerkt"
    finally:
        again.stop()
    assert snapshot(folder / "inbox") == inbox


# -- settings -------------------------------------------------------------------------------------

def test_the_token_comes_from_the_environment_first(tmp_path):
    toml = tmp_path / "xlmonitor.toml"
    toml.write_text(f'inbox = "inbox"\n\n[server]\ntoken = "{TOKEN}"\nmax_verzoek_mb = 2\n')
    assert read_server_settings(toml, environ={}).token == TOKEN
    settings = read_server_settings(toml, environ={"XLMONITOR_TOKEN": WRONG})
    assert settings.token == WRONG and settings.max_request_bytes == 2 * 1024 * 1024
    assert WRONG not in repr(settings)
    assert read_settings_file(toml) == {"inbox": tmp_path / "inbox"}  # the nightly job's view


@pytest.mark.parametrize("table, message", [
    ("", "heeft een token nodig"),
    ('token = "kort"', "te kort"),
    (f'token = "{TOKEN}"\ntokn = "x"', "Onbekende instelling 'tokn'"),
    (f'token = "{TOKEN}"\nmax_verzoek_mb = 0', "max_verzoek_mb"),
    (f'token = "{TOKEN}"\nwacht_seconden = "lang"', "wacht_seconden"),
])
def test_server_settings_are_checked(tmp_path, table, message):
    toml = tmp_path / "xlmonitor.toml"
    toml.write_text(f"[server]\n{table}\n")
    with pytest.raises(UsageError, match=message):
        read_server_settings(toml, environ={})


def test_a_server_without_a_token_does_not_start(tmp_path):
    folder = tmp_path / "gedeeld"
    (folder / "inbox").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-m", "xlmonitor.cli", "server", "--port",
                             str(free_port())], cwd=folder, capture_output=True, text=True,
                            timeout=60, env={k: v for k, v in os.environ.items()
                                             if k != "XLMONITOR_TOKEN"})
    assert result.returncode == 2 and "XLMONITOR_TOKEN" in result.stderr


def test_without_xlmonitor_toml_the_folder_and_the_environment(tmp_path, monkeypatch):
    from xlmonitor.server import server_settings

    monkeypatch.setenv("XLMONITOR_TOKEN", TOKEN)
    settings, server = server_settings(tmp_path)
    assert (settings.inbox, settings.master, settings.feedback) == (
        tmp_path / "inbox", tmp_path / "master.xlsm", tmp_path / "terugkoppeling")
    assert server.token_source == "XLMONITOR_TOKEN" and settings.source is None


# -- the VBA --------------------------------------------------------------------------------------

def test_master_has_xlwings_remote_module_and_vba_web(master_vba):
    addin = Path(xlwings.__file__).parent / "addin"

    def code(text: str) -> list[str]:
        return [line for line in text.replace("\r\n", "\n").split("\n")
                if line and not line.startswith(("Attribute VB_", "VERSION ", "BEGIN", "END",
                                                 "  MultiUse"))]

    for module in ("Remote", "WebHelpers", "WebClient", "WebRequest", "WebResponse",
                   "IWebAuthenticator"):
        source = next(addin.glob(f"{module}.*")).read_text("cp1252")
        # The VBE re-cases identifiers (Err → err) as it likes: compare case-blind.
        assert [line.lower() for line in code(master_vba[module])] == \
            [line.lower() for line in code(source)], module
    assert "Function RunServerPython(" in master_vba["Remote"]


def test_the_button_uses_the_server_when_instellingen_names_one(master_vba):
    source = master_vba["Consolideren"]
    main = re.search(r"Public Sub Consolideer\(\)\n(.*?)\nEnd Sub", source, re.DOTALL).group(1)
    # The server branch comes first and returns; RunPython (RunButton, which probes the
    # local Python) only without a Server setting.
    assert main.index("If Setting(SERVER_SETTING) <> \"\" Then") < main.index("RunButton")
    run_button = re.search(r"Private Sub RunButton\(.*?\nEnd Sub", source, re.DOTALL).group(0)
    assert "ProbePython" in run_button and "SERVER" not in run_button
    assert "ConsolideerViaServer Setting(SERVER_SETTING)" in main
    via = re.search(r"Private Sub ConsolideerViaServer\(.*?\nEnd Sub", source, re.DOTALL).group(0)
    assert re.search(r"RunServerPython url & SERVER_RUN, auth:=token, include:=SERVER_SHEETS, "
                     r"_\n\s+timeout:=SERVER_TIMEOUT_MS", via)
    assert 'token = Setting(TOKEN_SETTING)' in via and 'GetConfig("AUTH", "")' in via
    assert re.search(r'SERVER_RUN As String = "/consolideer"', source)
    assert re.search(r'SERVER_STATUS As String = "/status"', source)
    assert sent_sheets(master_vba) == list(contract.SERVER_SHEETS)
    assert set(contract.SERVER_SHEETS) == set(contract.TABLE_SHEETS.values()) | {
        contract.MATRIX_SHEET}
    assert {"Server", "Token"} <= set(contract.SETTINGS)
    # It says in Dutch which way it went and why it failed.
    for text in ("geeft geen (bruikbaar) antwoord", "weigert de toegang (401)",
                 "is bezig met een andere consolidatie", "Consolideren via de server ",
                 "Consolideren met Python op deze computer", "is deze werkmap niet bijgewerkt"):
        assert text in source, text
    assert '"bezig"' in source and '"xlwings"' in source  # what it reads of /status


# -- TLS -------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a certificate")
def test_with_a_certificate_the_server_speaks_https(tmp_path):
    import ssl

    key, cert = tmp_path / "server.key", tmp_path / "server.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    folder = tmp_path / "gedeeld"
    (folder / "inbox").mkdir(parents=True)
    running = Server.__new__(Server)
    running.folder, running.port = folder, free_port()
    running.output = tmp_path / "server.txt"
    with open(running.output, "wb") as out:
        running.process = subprocess.Popen(
            [sys.executable, "-m", "xlmonitor.cli", "server", "--port", str(running.port),
             "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)], cwd=folder, stdout=out,
            stderr=subprocess.STDOUT, env={**os.environ, "XLMONITOR_TOKEN": TOKEN})
    context = ssl.create_default_context(cafile=str(cert))
    try:
        def status() -> int:
            connection = http.client.HTTPSConnection("127.0.0.1", running.port, timeout=10,
                                                     context=context)
            try:
                connection.request("GET", "/status", headers={"Authorization": TOKEN})
                return connection.getresponse().status
            finally:
                connection.close()

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                assert status() == 200
                break
            except (ConnectionRefusedError, ConnectionResetError):
                assert time.monotonic() < deadline and running.process.poll() is None
                time.sleep(0.2)
        with pytest.raises((http.client.HTTPException, OSError)):
            running.get("/status")  # plain http is not answered
        assert "https://127.0.0.1" in running.output.read_text()
    finally:
        running.stop()
