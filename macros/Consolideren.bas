Attribute VB_Name = "Consolideren"
' The Consolideer and Rapport buttons on the Dashboard of the master workbook (xlmonitor).
'
' Source of the workbook's own module: workbooks/master.xlsm is built from this file by
' "xlmonitor build-workbooks"; change this file and rebuild, never the workbook.
' The work is done in Python: xlwings' RunPython runs xlmonitor.excel.consolideer(), which reads
' the sheet Instellingen, consolidates the inbox and refreshes this workbook in place, or
' xlmonitor.report.button.rapport(), which writes the Monitor (.docx) beside this workbook.
' Text the user sees is Dutch and ASCII only (the VBA project stores code page 1252).
Option Explicit

Private Const PYTHON_COMMAND As String = "import xlmonitor.excel; xlmonitor.excel.consolideer()"
Private Const REPORT_COMMAND As String = "import xlmonitor.report.button; xlmonitor.report.button.rapport()"
Private Const SETTINGS_SHEET As String = "Instellingen"
Private Const SETTINGS_TABLE As String = "tblInstellingen"
Private Const PYTHON_SETTING As String = "Python"
Private Const TITLE As String = "Consolideer"
Private Const REPORT_TITLE As String = "Rapport"

' Exit codes of the probe (see ProbePython).
Private Const PROBE_OK As Long = 0
Private Const PROBE_NOT_FOUND As Long = -1
Private Const PROBE_OTHER_XLWINGS As Long = 3

Public Sub Consolideer()
    RunButton PYTHON_COMMAND, TITLE, "Consolideren: de inbox wordt gelezen en gecontroleerd...", _
              "Het consolideren is niet gelukt."
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
    Dim interpreter As String
    Dim probe As Long
    Dim result As Variant

    On Error GoTo Failed
    interpreter = PythonSetting()
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
        MsgBox failure & " De melding hiervoor is bedoeld voor " & _
               "functioneel beheer: stuur die door, met de naam van deze werkmap.", _
               vbExclamation, caption
    End If
    Exit Sub

Failed:
    Application.StatusBar = False
    ShowPythonMissing interpreter, caption, Err.Description
End Sub

Private Sub ShowPythonMissing(ByVal interpreter As String, ByVal caption As String, _
                              Optional ByVal detail As String = "")
    Dim text As String
    text = "Python of xlmonitor is niet gevonden op deze computer." & vbNewLine & vbNewLine & _
           "Vraag functioneel beheer om Python en xlmonitor[excel] te installeren, of vul op " & _
           "het blad Instellingen het pad naar python.exe in." & vbNewLine & vbNewLine & _
           "Gezocht: " & interpreter
    If detail <> "" Then text = text & vbNewLine & "Melding: " & detail
    MsgBox text, vbExclamation, caption
End Sub

Private Function PythonSetting() As String
    ' The value next to "Python" in the table on the sheet Instellingen; "" when absent.
    Dim sheet As Worksheet
    Dim row As ListRow

    On Error GoTo Absent
    Set sheet = ThisWorkbook.Worksheets(SETTINGS_SHEET)
    For Each row In sheet.ListObjects(SETTINGS_TABLE).ListRows
        If StrComp(Trim$(CStr(row.Range.Cells(1, 1).Value)), PYTHON_SETTING, vbTextCompare) = 0 Then
            PythonSetting = Trim$(CStr(row.Range.Cells(1, 2).Value))
            Exit Function
        End If
    Next row
Absent:
    PythonSetting = ""
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
        If PythonSetting() = "" Then
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
