Attribute VB_Name = "Consolideren"
' The Consolideer and Rapport buttons on the Dashboard of the master workbook (xlmonitor).
'
' Source of the workbook's own module: workbooks/master.xlsm is built from this file by
' "xlmonitor build-workbooks"; change this file and rebuild, never the workbook.
' The sheet Instellingen decides where the work is done:
' * Server filled in: xlwings' RunServerPython (module Remote) posts the sheets the server
'   refreshes to "xlmonitor server" at that address and applies the actions it answers, so
'   this computer needs nothing but Excel. A look at <Server>/status first tells "no answer",
'   "wrong token" and "busy" apart, so the user reads in Dutch why nothing happened.
' * Server empty: xlwings' RunPython runs xlmonitor.excel.consolideer() in Python on this
'   computer, which reads the sheet Instellingen, consolidates the inbox and refreshes this
'   workbook in place.
' Rapport always runs in Python on this computer: xlmonitor.report.button.rapport() writes the
' Monitor (.docx) beside this workbook (without Python: "xlmonitor rapport" on the server).
' Text the user sees is Dutch and ASCII only (the VBA project stores code page 1252).
Option Explicit

Private Const PYTHON_COMMAND As String = "import xlmonitor.excel; xlmonitor.excel.consolideer()"
Private Const REPORT_COMMAND As String = "import xlmonitor.report.button; xlmonitor.report.button.rapport()"
Private Const SETTINGS_SHEET As String = "Instellingen"
Private Const SETTINGS_TABLE As String = "tblInstellingen"
Private Const PYTHON_SETTING As String = "Python"
Private Const SERVER_SETTING As String = "Server"
Private Const TOKEN_SETTING As String = "Token"
Private Const TITLE As String = "Consolideer"
Private Const REPORT_TITLE As String = "Rapport"

' The server: the sheets it refreshes (the others are not sent; xlmonitor.master.contract
' lists the same), its two addresses below Server, and how long to wait for it.
Private Const SERVER_SHEETS As String = "Data,Inzendingen,Validatie"
Private Const SERVER_RUN As String = "/consolideer"
Private Const SERVER_STATUS As String = "/status"
Private Const SERVER_TIMEOUT_MS As Long = 300000
Private Const PROBE_TIMEOUT_MS As Long = 10000
' The Status cell on Dashboard shows this while the server works; every answer of the server
' overwrites it, so finding it afterwards means no answer reached the workbook.
Private Const STATUS_NAME As String = "Status"
Private Const PENDING As String = "Bezig met consolideren via de server..."

' Answers of the look at the server (see ProbeServer); a refusal is its HTTP status (401 ...).
Private Const SERVER_READY As Long = 0
Private Const SERVER_NO_ANSWER As Long = -1
Private Const SERVER_BUSY As Long = 1
Private Const SERVER_OTHER_XLWINGS As Long = 3

' Exit codes of the probe (see ProbePython).
Private Const PROBE_OK As Long = 0
Private Const PROBE_NOT_FOUND As Long = -1
Private Const PROBE_OTHER_XLWINGS As Long = 3

Public Sub Consolideer()
    If Setting(SERVER_SETTING) <> "" Then
        ConsolideerViaServer Setting(SERVER_SETTING)
        Exit Sub
    End If
    RunButton PYTHON_COMMAND, TITLE, "Consolideren met Python op deze computer: de inbox " & _
              "wordt gelezen en gecontroleerd...", _
              "Het consolideren met Python op deze computer is niet gelukt."
End Sub

Public Sub Rapport()
    ' The report reads the saved workbook: offer to save what was changed since.
    Dim answer As VbMsgBoxResult
    If Not ThisWorkbook.Saved Then
        answer = MsgBox("Het rapport gebruikt de opgeslagen werkmap. Er zijn wijzigingen die " & _
                        "nog niet zijn opgeslagen." & vbNewLine & vbNewLine & _
                        "Nu opslaan en dan het rapport maken?", vbYesNoCancel + vbQuestion, _
                        REPORT_TITLE)
        If answer = vbCancel Then Exit Sub
        If answer = vbYes Then ThisWorkbook.Save
    End If
    RunButton REPORT_COMMAND, REPORT_TITLE, "Rapport: de Monitor wordt gemaakt...", _
              "Het rapport is niet gemaakt."
End Sub

Private Sub RunButton(ByVal pythonCode As String, ByVal caption As String, ByVal busy As String, _
                      ByVal failure As String)
    ' Runs pythonCode with RunPython in Python on this computer, after checking that Python,
    ' xlmonitor and the right xlwings are there; says in Dutch what is missing.
    Dim interpreter As String
    Dim probe As Long
    Dim result As Variant

    On Error GoTo Failed
    interpreter = Setting(PYTHON_SETTING)
    If interpreter = "" Then interpreter = ConfiguredInterpreter()

    probe = ProbePython(interpreter)
    If probe = PROBE_OTHER_XLWINGS Then
        MsgBox "De xlwings-versie op deze computer past niet bij deze werkmap " & _
               "(de werkmap hoort bij xlwings " & XLWINGS_VERSION & ")." & vbNewLine & vbNewLine & _
               "Vraag functioneel beheer om xlmonitor[excel] opnieuw te installeren " & _
               "met de versie van xlwings die bij deze werkmap hoort.", vbExclamation, caption
        Exit Sub
    ElseIf probe <> PROBE_OK Then
        ShowPythonMissing interpreter, caption
        Exit Sub
    End If

    Application.StatusBar = busy
    result = RunWith(interpreter, pythonCode)
    Application.StatusBar = False
    If result = -1 Then
        ' xlwings has shown Python's error message (English) before this one.
        MsgBox failure & " De melding hiervoor is bedoeld voor functioneel beheer: stuur die " & _
               "door, met de naam van deze werkmap.", vbExclamation, caption
    End If
    Exit Sub

Failed:
    Application.StatusBar = False
    ShowPythonMissing interpreter, caption, Err.Description
End Sub

' -- with the server (xlmonitor server, xlwings' RunServerPython) -----------------------------

Private Sub ConsolideerViaServer(ByVal server As String)
    Dim url As String
    Dim token As String
    Dim detail As String
    Dim answer As Long
    Dim status As Range
    Dim before As Variant

    url = Trim$(server)
    Do While Right$(url, 1) = "/"
        url = Left$(url, Len(url) - 1)
    Loop
    ' The token: Instellingen, else AUTH from xlwings.conf (what RunServerPython would use).
    token = Setting(TOKEN_SETTING)
    If token = "" Then token = GetConfig("AUTH", "")

    answer = ProbeServer(url, token, detail)
    If answer <> SERVER_READY Then
        ShowServerProblem url, answer, detail
        Exit Sub
    End If

    On Error GoTo Failed
    ' RunServerPython sends the active workbook and applies the answer to it.
    ThisWorkbook.Activate
    Set status = StatusCell()
    before = status.Value
    status.Value = PENDING
    Application.StatusBar = "Consolideren via de server " & url & ": de inbox wordt gelezen " & _
                            "en gecontroleerd..."
    RunServerPython url & SERVER_RUN, auth:=token, include:=SERVER_SHEETS, _
                    timeout:=SERVER_TIMEOUT_MS
    Application.StatusBar = False
    If StillPending(status) Then
        ' No action was applied: xlwings has shown the server's refusal or its own error.
        RestoreStatus status, before
        MsgBox "Via de server " & url & " is deze werkmap niet bijgewerkt: de server gaf " & _
               "geen bruikbaar antwoord. De melding hiervoor is bedoeld voor functioneel " & _
               "beheer: stuur die door, met de naam van deze werkmap.", vbExclamation, TITLE
    End If
    Exit Sub

Failed:
    Application.StatusBar = False
    If Not status Is Nothing Then
        If StillPending(status) Then RestoreStatus status, before
    End If
    MsgBox "Via de server " & url & " is deze werkmap niet bijgewerkt: de verbinding met de " & _
           "server is mislukt of er kwam geen antwoord." & vbNewLine & vbNewLine & _
           "Melding: " & Err.Description, vbExclamation, TITLE
End Sub

Private Function ProbeServer(ByVal url As String, ByVal token As String, _
                             ByRef detail As String) As Long
    ' Asks <url>/status with VBA-Web, as RunServerPython posts: SERVER_READY, SERVER_BUSY
    ' (another click is being consolidated), SERVER_OTHER_XLWINGS (detail: the server's
    ' version), SERVER_NO_ANSWER (detail: why), else the HTTP status of the refusal (401 ...).
    Dim client As New WebClient
    Dim request As New WebRequest
    Dim response As WebResponse

    On Error GoTo NoAnswer
    client.BaseUrl = url & SERVER_STATUS
    client.TimeoutMs = PROBE_TIMEOUT_MS
    client.insecure = (LCase$(CStr(GetConfig("INSECURE", "False"))) = "true")
    request.Method = WebMethod.HttpGet
    request.ResponseFormat = WebFormat.Json
    If token <> "" Then request.AddHeader "Authorization", token
    Set response = client.Execute(request)
    Select Case response.StatusCode
    Case WebStatusCode.Ok
        detail = CStr(response.Data("xlwings"))
        If response.Data("bezig") Then
            ProbeServer = SERVER_BUSY
        ElseIf detail <> XLWINGS_VERSION Then
            ProbeServer = SERVER_OTHER_XLWINGS
        Else
            ProbeServer = SERVER_READY
        End If
    Case WebStatusCode.RequestTimeout
        ' VBA-Web's answer when it cannot connect, the name is unknown or the time ran out.
        detail = response.StatusDescription
        ProbeServer = SERVER_NO_ANSWER
    Case Else
        ProbeServer = response.StatusCode
    End Select
    Exit Function

NoAnswer:
    detail = Err.Description
    ProbeServer = SERVER_NO_ANSWER
End Function

Private Sub ShowServerProblem(ByVal url As String, ByVal answer As Long, ByVal detail As String)
    Dim text As String
    Select Case answer
    Case SERVER_NO_ANSWER
        text = "De xlmonitor-server op " & url & " geeft geen (bruikbaar) antwoord." & _
               vbNewLine & vbNewLine & "Controleer het adres bij Server op het blad " & _
               "Instellingen, of vraag functioneel beheer of de server draait." & _
               vbNewLine & vbNewLine & "Melding: " & detail
    Case 401
        text = "De xlmonitor-server op " & url & " weigert de toegang (401): het token " & _
               "ontbreekt of klopt niet." & vbNewLine & vbNewLine & "Vul bij Token op het " & _
               "blad Instellingen het token in dat u van functioneel beheer kreeg (of zet " & _
               "het als AUTH in xlwings.conf)."
    Case SERVER_BUSY
        text = "De xlmonitor-server op " & url & " is bezig met een andere consolidatie " & _
               "(iemand anders klikte net op Consolideer). Probeer het over een minuut opnieuw."
    Case SERVER_OTHER_XLWINGS
        text = "De xlmonitor-server op " & url & " gebruikt xlwings " & detail & "; deze " & _
               "werkmap hoort bij xlwings " & XLWINGS_VERSION & "." & vbNewLine & vbNewLine & _
               "Vraag functioneel beheer om de server en de werkmap dezelfde versie te geven."
    Case Else
        text = "De xlmonitor-server op " & url & " gaf een onverwacht antwoord (status " & _
               answer & "). Vraag functioneel beheer om het logbestand van de server te bekijken."
    End Select
    MsgBox text & vbNewLine & vbNewLine & "De werkmap is niet bijgewerkt.", vbExclamation, TITLE
End Sub

Private Function StatusCell() As Range
    ' The line "Bijgewerkt: ..." on Dashboard: the defined name Status (older masters: A3),
    ' where the server writes too (xlmonitor.excel.button.status_cell).
    On Error Resume Next
    Set StatusCell = ThisWorkbook.Names(STATUS_NAME).RefersToRange
    If StatusCell Is Nothing Then Set StatusCell = ThisWorkbook.Worksheets("Dashboard").Range("A3")
End Function

Private Function StillPending(ByVal status As Range) As Boolean
    ' True when the cell still shows PENDING (an error value in it is not PENDING either).
    If VarType(status.Value) = vbString Then StillPending = (status.Value = PENDING)
End Function

Private Sub RestoreStatus(ByVal status As Range, ByVal before As Variant)
    If VarType(before) = vbString Then
        status.Value = "'" & before
    Else
        status.Value = before
    End If
End Sub

' -- with Python on this computer (xlwings' RunPython) ---------------------------------------

Private Sub ShowPythonMissing(ByVal interpreter As String, ByVal caption As String, _
                              Optional ByVal detail As String = "")
    Dim text As String
    text = "Python of xlmonitor is niet gevonden op deze computer." & vbNewLine & vbNewLine & _
           "Vraag functioneel beheer om Python en xlmonitor[excel] te installeren, of vul op " & _
           "het blad Instellingen het pad naar python.exe in. Zonder Python kan het ook: " & _
           "vul bij Server het adres van de xlmonitor-server in." & vbNewLine & vbNewLine & _
           "Gezocht: " & interpreter
    If detail <> "" Then text = text & vbNewLine & "Melding: " & detail
    MsgBox text, vbExclamation, caption
End Sub

Private Function Setting(ByVal name As String) As String
    ' The value next to name in the table on the sheet Instellingen; "" when absent.
    Dim sheet As Worksheet
    Dim row As ListRow

    On Error GoTo Absent
    Set sheet = ThisWorkbook.Worksheets(SETTINGS_SHEET)
    For Each row In sheet.ListObjects(SETTINGS_TABLE).ListRows
        If StrComp(Trim$(CStr(row.Range.Cells(1, 1).Value)), name, vbTextCompare) = 0 Then
            Setting = Trim$(CStr(row.Range.Cells(1, 2).Value))
            Exit Function
        End If
    Next row
Absent:
    Setting = ""
End Function

Private Function ConfiguredInterpreter() As String
    ' The interpreter RunPython itself would use: xlwings.conf (next to the workbook or in
    ' %USERPROFILE%\.xlwings), else "python" from the PATH.
    #If Mac Then
        ConfiguredInterpreter = GetConfig("INTERPRETER_MAC", "")
    #Else
        ConfiguredInterpreter = GetConfig("INTERPRETER_WIN", "")
    #End If
    If ConfiguredInterpreter = "" Then ConfiguredInterpreter = GetConfig("INTERPRETER", "python")
End Function

Private Function ProbePython(ByVal interpreter As String) As Long
    ' Starts the interpreter once, hidden, and returns its exit code: 0 when the xlmonitor
    ' package exists and xlwings has the version of this workbook's VBA, 3 for another xlwings
    ' version, 1 (a Python traceback) when xlwings is missing, -1 when Windows cannot start the
    ' interpreter at all. It only looks the packages up, so it takes well under a second.
    Dim check As String
    #If Mac Then
        ProbePython = PROBE_OK  ' On a Mac RunPython reports a missing interpreter itself.
    #Else
        check = "import sys, importlib.util, importlib.metadata; " & _
                "sys.exit(1 if importlib.util.find_spec('xlmonitor') is None else " & _
                "0 if importlib.metadata.version('xlwings') == '" & XLWINGS_VERSION & "' else 3)"
        On Error GoTo NotStarted
        ProbePython = CreateObject("WScript.Shell").Run( _
            Quoted(interpreter) & " -c " & Quoted(check), 0, True)
        Exit Function
NotStarted:
        ProbePython = PROBE_NOT_FOUND
    #End If
End Function

Private Function RunWith(ByVal interpreter As String, ByVal pythonCode As String) As Variant
    #If Mac Then
        RunWith = RunPython(pythonCode)
    #Else
        If Setting(PYTHON_SETTING) = "" Then
            RunWith = RunPython(pythonCode)
        Else
            ' RunPython takes the interpreter only from xlwings.conf. With a path on Instellingen,
            ' call the Windows runner RunPython itself uses; "false" as the first path argument
            ' tells xlwings.utils.prepare_sys_path not to add the workbook's folder to sys.path.
            RunWith = ExecuteWindows(False, pythonCode, interpreter, "false;;;;;")
        End If
    #End If
End Function

Private Function Quoted(ByVal text As String) As String
    Quoted = Chr$(34) & text & Chr$(34)
End Function
