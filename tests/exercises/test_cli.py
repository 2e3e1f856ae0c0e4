"""The exercises' command line: list, show, start (never overwriting), check (exit 0 / 1 / 2) and grade (child
processes per student: a crash, an endless loop or a syntax error stops only that student; the table as CSV)."""

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conv1x1 import exercises
from conv1x1.exercises import grading
from conv1x1.exercises.cli import main

ROOT = Path(__file__).resolve().parents[2]

RIGHT = """\
import numpy as np


def conv1x1_forward(x, w, b):
    return np.einsum("oc,nchw->nohw", w, x) + b[:, None, None]


def relu_backward(dout, x):
    return dout * (x > 0)
"""

TRANSPOSED = """\
import numpy as np


def conv1x1_forward(x, w, b):
    return np.einsum("co,nchw->nohw", w, x) + b[:, None, None]


def relu_backward(dout, x):
    return dout * (x > 0)
"""


def run(capsys, *args):
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_without_a_command_it_lists_the_exercises_in_order(capsys):
    status, out, _ = run(capsys)
    assert status == 0
    positions = [out.index(f" {name} ") for name in exercises.names()]
    assert positions == sorted(positions)


def test_show_prints_the_task_and_an_unknown_name_is_a_usage_error(capsys):
    status, out, _ = run(capsys, "show", "conv1x1_backward")
    assert status == 0 and "def conv1x1_backward(dout, x, w):" in out
    status, _, err = run(capsys, "show", "conv1x1_bakward")
    assert status == 2 and "conv1x1_backward" in err


def test_start_writes_a_skeleton_that_check_reports_as_not_written_yet(capsys, tmp_path):
    status, out, _ = run(capsys, "start", "conv1x1_forward", "--dir", str(tmp_path / "new"))
    path = tmp_path / "new" / "conv1x1_forward.py"
    assert status == 0 and str(path) in out
    assert path.read_text(encoding="utf-8") == exercises.skeleton("conv1x1_forward")
    status, out, _ = run(capsys, "check", str(path))
    assert status == 1 and "NotImplementedError" in out


def test_start_never_overwrites_an_existing_file(capsys, tmp_path):
    path = write(tmp_path, "relu_backward.py", "# my work\n")
    status, _, err = run(capsys, "start", "relu_backward", "--dir", str(tmp_path))
    assert status == 1 and "exists already" in err and "not overwritten" in err
    assert path.read_text(encoding="utf-8") == "# my work\n"


def test_start_an_unknown_exercise_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, "start", "conv3x3_forward", "--dir", str(tmp_path))
    assert status == 2 and "conv1x1_forward" in err and not list(tmp_path.iterdir())


def test_check_exits_0_when_every_function_passes(capsys, tmp_path):
    status, out, _ = run(capsys, "check", str(write(tmp_path, "mine.py", RIGHT)))
    assert status == 0
    assert "conv1x1_forward: passed" in out and "relu_backward: passed" in out and "2 of 2 passed." in out


def test_check_exits_1_and_names_the_mistake_when_one_fails(capsys, tmp_path):
    status, out, _ = run(capsys, "check", str(write(tmp_path, "mine.py", TRANSPOSED)))
    assert status == 1
    assert "transposed" in out and "relu_backward: passed" in out and "1 of 2 passed." in out


@pytest.mark.parametrize("text, said", [
    ("def conv1x1_forward(x, w, b)\n    return x\n", "SyntaxError"),
    ("import numpy as np\nraise RuntimeError('broken at import')\n", "RuntimeError: broken at import"),
    ("def my_own_name(x):\n    return x\n", "no function named after an exercise"),
    ("from conv1x1 import relu_backward\n", "no function named after an exercise"),
])
def test_check_a_file_that_cannot_be_checked_is_a_usage_error(capsys, tmp_path, text, said):
    status, _, err = run(capsys, "check", str(write(tmp_path, "mine.py", text)))
    assert status == 2 and said in err


def test_check_a_missing_file_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, "check", str(tmp_path / "nowhere.py"))
    assert status == 2 and "no such file" in err


def test_check_bad_arguments_exit_2(capsys, tmp_path):
    assert main(["check", str(write(tmp_path, "mine.py", RIGHT)), "--timeout", "0"]) == 2
    assert main(["check"]) == 2
    assert main(["frobnicate"]) == 2
    capsys.readouterr()


def test_the_package_command_line_forwards_exercises(tmp_path):
    """``python -m conv1x1 exercises ...`` is this command line (the wiring is a few lines in __main__)."""
    path = write(tmp_path, "m.py", TRANSPOSED)
    done = subprocess.run([sys.executable, "-m", "conv1x1", "exercises", "check", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "transposed" in done.stdout


STUDENTS = {
    "alice": RIGHT,
    "bob": "def conv1x1_forward(x, w, b)\n    return x\n",                       # a syntax error
    "carol": """\
        import numpy as np

        def conv1x1_forward(x, w, b):
            while True:                                 # never returns
                pass

        def conv_params(in_channels, out_channels, kernel_size, bias):
            return out_channels * in_channels * kernel_size ** 2 + out_channels * bias
        """,
    "dave": "import os\nos._exit(3)\n",                                               # kills its own process
    "erin": TRANSPOSED,
}


def test_grade_tabulates_every_student_whatever_their_code_does(capsys, tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for student, text in STUDENTS.items():
        write(folder, f"{student}.py", text)
    status, out, _ = run(capsys, "grade", str(folder), "--csv", str(tmp_path / "grades.csv"), "--timeout", "0.3")
    assert status == 1                              # bob's and dave's files could not be graded
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["student", *exercises.names()]
    table = {row[0]: dict(zip(rows[0][1:], row[1:])) for row in rows[1:]}
    assert list(table) == sorted(STUDENTS)
    assert table["alice"]["conv1x1_forward"] == "pass" and table["alice"]["relu_backward"] == "pass"
    assert table["alice"]["conv_macs"] == "missing"
    assert set(table["bob"].values()) == {"error"} and set(table["dave"].values()) == {"error"}
    assert table["carol"]["conv1x1_forward"] == "timeout" and table["carol"]["conv_params"] == "pass"
    assert table["erin"]["conv1x1_forward"] == "fail" and table["erin"]["relu_backward"] == "pass"
    assert "bob: error: could not import the file: SyntaxError" in out
    assert "dave: error: the process ended while importing the file" in out and "exit status 3" in out
    for student in STUDENTS:
        assert student in out                       # the table is on the screen too


def test_grade_stops_a_submission_that_never_finishes_importing(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "STARTUP", 1.0)
    folder = tmp_path / "submissions"
    folder.mkdir()
    write(folder, "frank.py", "import time\nwhile True:\n    time.sleep(0.05)\n")
    status, out, _ = run(capsys, "grade", str(folder), "--timeout", "0.05")
    assert status == 1
    assert "frank: error: stopped after" in out and "error" in out.splitlines()[2]


def test_grade_usage_errors_exit_2(capsys, tmp_path):
    assert run(capsys, "grade", str(tmp_path / "missing"))[0] == 2
    assert run(capsys, "grade", str(tmp_path))[0] == 2                      # no .py files
    write(tmp_path, "alice.py", RIGHT)
    status, _, err = run(capsys, "grade", str(tmp_path), "--csv", str(tmp_path / "no" / "such" / "g.csv"))
    assert status == 2 and "--csv" in err
