"""grade and check FILE against hostile and faulty submissions: a class folder built in a temporary folder, graded
by the real command line in a process of its own, with real child processes, bounded in time and memory.

A submission cannot forge its verdict (the verdict is decided in the grader, from plain data), cannot harm
another student's row or the teacher's files without it being reported, and its faults (a crash, a flood of
output, a child process left behind, a hostile file name) cost only its own cells."""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from textwrap import dedent

import pytest

from conv1x1 import exercises
from conv1x1.exercises.cli import main, shown
from conv1x1.exercises.tasks import EXERCISES

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
import numpy as np


def conv1x1_forward(x, w, b):
    return np.einsum("oc,nchw->nohw", w, x) + b[:, None, None]


def relu_backward(dout, x):
    return dout * (x > 0)


def conv_params(in_channels, out_channels, kernel_size, bias):
    return out_channels * in_channels * kernel_size ** 2 + out_channels * bias
"""

WRONG_FORWARD = """
def conv1x1_forward(x, w, b):
    return np.zeros((x.shape[0], w.shape[0]) + x.shape[2:], dtype=x.dtype)
"""

RELU = """
def relu_backward(dout, x):
    return dout * (x > 0)
"""


def hostile(tmp: Path, folder: Path) -> dict[str, str]:
    """The class: file name -> text; every kind of file the grader must survive."""
    pids, csv_path = tmp / "pids", tmp / "grades.csv"
    return {
        "alice_good.py": GOOD,
        "zoe_good.py": GOOD,
        # writes an all-pass report to any --json path in its argv, then leaves
        "forger.py": dedent(f"""
            import json, os, sys
            names = {exercises.names()!r}
            for i, arg in enumerate(sys.argv):
                if arg == "--json":
                    with open(sys.argv[i + 1], "w") as file:
                        json.dump({{"error": None, "results": {{n: {{"status": "pass", "message": ""}}
                                                             for n in names}}}}, file)
            os._exit(0)
            """),
        # replaces the checker, Result.passed and np.allclose in its own process; a wrong forward pass
        "patcher.py": dedent("""
            import sys
            import numpy as np
            np.allclose = lambda *a, **k: True
            np.isclose = lambda *a, **k: True
            try:
                import conv1x1.exercises.cli as cli
                from conv1x1.exercises import Result
                cli.check = lambda name, fn, timeout=10: Result(name, True, "")
                sys.modules["conv1x1.exercises"].check = cli.check
            except Exception:
                pass
            """) + WRONG_FORWARD,
        # looks for the checker's expected value in every frame and every object
        "scanner.py": dedent("""
            import gc, sys
            import numpy as np

            def conv1x1_forward(x, w, b):
                for frame in sys._current_frames().values():
                    while frame is not None:
                        if "expected" in frame.f_locals:
                            return frame.f_locals["expected"]
                        frame = frame.f_back
                for item in gc.get_objects():
                    if isinstance(item, dict) and isinstance(item.get("expected"), np.ndarray):
                        return item["expected"]
                return np.zeros(1)
            """),
        # an ndarray subclass whose __array_function__ says yes to everything
        "liar.py": dedent("""
            import numpy as np

            class Liar(np.ndarray):
                def __array_function__(self, func, types, args, kwargs):
                    return True

            def conv1x1_forward(x, w, b):
                return np.zeros((x.shape[0], w.shape[0]) + x.shape[2:], dtype=x.dtype).view(Liar)
            """),
        "copier.py": "from alice_good import *\n",
        # overwrites a classmate's file
        "vandal.py": dedent(f"""
            with open({str(folder / "zoe_good.py")!r}, "w") as file:
                file.write("raise SystemExit('handed in nothing')")
            """) + "import numpy as np\n" + RELU,
        # kills the process that started it
        "parricide.py": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport numpy as np\n" + RELU,
        # leaves a process holding the output pipe, and a detached one that rewrites the CSV later
        "spawner.py": dedent(f"""
            import subprocess
            sleeper = subprocess.Popen(["sleep", "60"])
            rewriter = subprocess.Popen(["sh", "-c", "sleep 3; echo forged > {csv_path}"], start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open({str(pids)!r}, "a") as file:
                file.write(f"{{sleeper.pid}} {{rewriter.pid}}\\n")
            """) + "import numpy as np\n" + RELU,
        "exiter.py": "import os\nimport numpy as np\n\n\ndef conv1x1_forward(x, w, b):\n    os._exit(0)\n" + RELU,
        "regex.py": "import re\nimport numpy as np\n\n\ndef conv1x1_forward(x, w, b):\n"
                    "    re.match(r'(a+)+$', 'a' * 40 + 'b')\n" + RELU,
        # writes junk where the answers go
        "garbage.py": dedent("""
            import os, sys
            for i, arg in enumerate(sys.argv):
                if arg == "--json":
                    with open(sys.argv[i + 1], "w") as file:
                        file.write("{}")
                    os._exit(0)
            os.write(int(sys.argv[1]), (5).to_bytes(8, "little") + b"hello")
            """),
        "library.py": "import conv1x1 as C\n\n\ndef conv1x1_forward(x, w, b):\n"
                      "    return C.conv1x1_forward(x, w, b)[0]\n",
        "syntax.py": "def conv1x1_forward(x, w, b)\n    return x\n",
        "._alice.py": GOOD,
        "notes.txt": "not a submission",
        "eve\nmallory  pass  pass.py": "import numpy as np\n" + RELU,
    }


def build(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def grade_in_a_process(folder: Path, csv_path: Path, *flags: str, memory: int | None = None,
                       seconds: float = 300) -> subprocess.CompletedProcess:
    """``python -m conv1x1 exercises grade`` in a session of its own (optionally under an address-space limit)."""
    def limit() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "conv1x1", "exercises", "grade", str(folder), "--csv",
                           str(csv_path), *flags], cwd=ROOT, capture_output=True, timeout=seconds, env=env,
                          start_new_session=True, preexec_fn=limit)


def table(csv_path: Path) -> dict[str, dict[str, str]]:
    with open(csv_path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    return {row[0]: dict(zip(rows[0][1:], row[1:])) for row in rows[1:]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The hostile class, graded once: (the process, the CSV's table, the temporary folder)."""
    tmp = tmp_path_factory.mktemp("class")
    folder = tmp / "submissions"
    build(folder, hostile(tmp, folder))
    with open(os.path.join(os.fsencode(folder), b"jos\xe9.py"), "w", encoding="utf-8") as file:
        file.write("import numpy as np\n" + RELU)
    # a 3 s limit per call: a loaded machine must not turn an honest call into a timeout
    done = grade_in_a_process(folder, tmp / "grades.csv", "--timeout", "3")
    return done, table(tmp / "grades.csv"), tmp


def test_grade_writes_the_table_and_exits_1_when_some_file_could_not_be_graded(graded):
    done, rows, _ = graded
    assert done.returncode == 1, done.stderr.decode()
    assert rows["alice_good"]["conv1x1_forward"] == "pass" and rows["alice_good"]["conv_params"] == "pass"
    assert rows["alice_good"]["softmax_cross_entropy"] == "missing"


def test_a_report_forged_at_import_time_is_not_a_pass(graded):
    _, rows, _ = graded
    assert set(rows["forger"].values()) == {"error"}


def test_replacing_the_checker_result_and_allclose_in_the_submission_does_not_pass_it(graded):
    _, rows, _ = graded
    assert rows["patcher"]["conv1x1_forward"] == "fail"


def test_scanning_frames_for_the_expected_value_finds_nothing(graded):
    _, rows, _ = graded
    assert rows["scanner"]["conv1x1_forward"] == "fail"


def test_an_ndarray_subclass_that_lies_is_not_a_pass(graded):
    _, rows, _ = graded
    assert rows["liar"]["conv1x1_forward"] == "fail"


def test_a_classmate_cannot_be_imported(graded):
    _, rows, _ = graded
    assert set(rows["copier"].values()) == {"error"}


def test_overwriting_a_classmates_file_is_reported_and_the_classmate_graded_as_handed_in(graded):
    done, rows, tmp = graded
    assert set(rows["vandal"].values()) == {"changed-files"}
    assert rows["zoe_good"]["conv1x1_forward"] == "pass" and rows["zoe_good"]["relu_backward"] == "pass"
    assert "vandal: changed-files" in done.stdout.decode() and "zoe_good.py" in done.stdout.decode()


def test_killing_the_parent_process_does_not_stop_the_grading(graded):
    _, rows, _ = graded
    assert rows["parricide"]["relu_backward"] == "pass"
    assert rows["zoe_good"]["conv_params"] == "pass"          # graded after it


def test_processes_a_submission_starts_are_ended_before_the_table_is_written(graded):
    done, rows, tmp = graded
    assert rows["spawner"]["relu_backward"] == "pass"
    pids = [int(pid) for line in (tmp / "pids").read_text().split("\n") for pid in line.split()]
    assert pids
    time.sleep(4)                                             # the detached one would have rewritten the CSV
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "forged" not in (tmp / "grades.csv").read_text(encoding="utf-8")


def test_a_function_that_exits_the_process_costs_only_its_own_cell(graded):
    _, rows, _ = graded
    assert rows["exiter"]["conv1x1_forward"] == "crash" and rows["exiter"]["relu_backward"] == "pass"


def test_a_function_that_holds_the_gil_costs_only_its_own_cell(graded):
    _, rows, _ = graded
    assert rows["regex"]["conv1x1_forward"] == "timeout" and rows["regex"]["relu_backward"] == "pass"


def test_junk_on_the_answer_pipe_is_an_error_for_that_file_only(graded):
    _, rows, _ = graded
    assert set(rows["garbage"].values()) == {"error"}


def test_a_function_that_calls_the_librarys_answer_is_flagged(graded):
    done, rows, _ = graded
    assert rows["library"]["conv1x1_forward"] == "library"
    assert "library: library: conv1x1's own code answers conv1x1_forward" in done.stdout.decode()


def test_a_syntax_error_is_an_error_row(graded):
    done, rows, _ = graded
    assert set(rows["syntax"].values()) == {"error"} and "SyntaxError" in done.stdout.decode()


def test_dotfiles_and_other_files_are_not_students(graded):
    _, rows, _ = graded
    assert not any(name.startswith(".") or "notes" in name for name in rows)


def test_names_are_escaped_so_that_no_name_forges_a_row(graded):
    done, rows, _ = graded
    assert "jos\\xe9" in rows and "eve\\nmallory  pass  pass" in rows
    assert rows["jos\\xe9"]["relu_backward"] == "pass"
    out = done.stdout.decode()
    lines = out.split("\n")
    body = lines[2:2 + len(rows)]
    assert all(line.startswith(name + " ") for line, name in zip(body, rows, strict=True))
    assert not any(line.startswith("mallory") for line in lines)


def test_shown_escapes_control_characters_bytes_and_backslashes():
    assert shown("jos\udce9") == "jos\\xe9"
    assert shown("a\nb\tc\u202e") == "a\\nb\\tc\\u202e"
    assert shown("back\\slash") == "back\\\\slash"
    assert shown("zoë") == "zoë"


def test_a_flood_of_output_does_not_fill_the_graders_memory(tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"alice_good.py": GOOD, "flood.py": dedent("""
        import sys
        chunk = "x" * 2 ** 20
        for _ in range(1500):
            sys.stderr.write(chunk)
        sys.stderr.flush()
        """) + "import numpy as np\n" + RELU})
    done = grade_in_a_process(folder, tmp_path / "grades.csv", "--only", "relu_backward", memory=2 ** 30,
                              seconds=240)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    rows = table(tmp_path / "grades.csv")
    assert rows == {"alice_good": {"relu_backward": "pass"}, "flood": {"relu_backward": "pass"}}


def test_only_grades_the_named_exercises_and_an_unknown_name_is_a_usage_error(capsys, tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"alice.py": GOOD})
    assert main(["grade", str(folder), "--only", "relu_backward,conv_params", "--csv", str(tmp_path / "g.csv")]) == 0
    assert table(tmp_path / "g.csv") == {"alice": {"relu_backward": "pass", "conv_params": "pass"}}
    assert main(["grade", str(folder), "--only", "relu_bakward"]) == 2
    capsys.readouterr()


def test_the_resource_limits_stop_a_submission_and_are_adjustable(capsys, tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"hog.py": "import resource\nimport numpy as np\nlimit = resource.getrlimit(resource.RLIMIT_AS)[1]\n"
                             "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\nhog = np.ones(2 ** 28)\n" + RELU,
                   "writer.py": f"open({str(tmp_path / 'big')!r}, 'wb').write(bytes(2 ** 21))\n" + RELU})
    assert main(["grade", str(folder), "--memory", "512", "--file-size", "1", "--only", "relu_backward"]) == 1
    out = capsys.readouterr().out
    assert "hog: error: could not import the file: MemoryError" in out
    assert "writer: error: could not import the file: OSError" in out and "File too large" in out


def test_check_file_decides_its_exit_status_itself(tmp_path):
    """An atexit hook that exits 0 from the submission's process does not turn FAILED into success."""
    path = tmp_path / "attempt.py"
    path.write_text("import atexit, os\nimport numpy as np\natexit.register(lambda: os._exit(0))\n" + WRONG_FORWARD,
                    encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "conv1x1", "exercises", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "FAILED" in done.stdout


def test_a_folder_named_like_a_python_file_is_not_a_student(capsys, tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"alice.py": GOOD})
    (folder / "bob.py").mkdir()
    assert main(["grade", str(folder), "--only", "relu_backward"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "bob" not in out


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_quoted_in_the_csv(capsys, tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"=1+2.py": GOOD, "@SUM(A1).py": GOOD, "-x.py": GOOD, "alice.py": GOOD})
    assert main(["grade", str(folder), "--only", "conv_params", "--csv", str(tmp_path / "g.csv")]) == 0
    rows = table(tmp_path / "g.csv")
    assert rows == {name: {"conv_params": "pass"} for name in ("'-x", "'=1+2", "'@SUM(A1)", "alice")}
    assert "=1+2 " in capsys.readouterr().out                 # the printed table shows the name as it is


def test_a_symbolic_link_is_not_graded_as_the_file_it_points_to(capsys, tmp_path):
    folder = tmp_path / "submissions"
    build(folder, {"alice.py": GOOD})
    (folder / "copy.py").symlink_to(folder / "alice.py")
    (folder / "secret.py").symlink_to(tmp_path / "answers.py")
    (tmp_path / "answers.py").write_text("the teacher's notes\n", encoding="utf-8")
    assert main(["grade", str(folder), "--only", "conv_params", "--csv", str(tmp_path / "g.csv")]) == 1
    rows = table(tmp_path / "g.csv")
    assert rows == {"alice": {"conv_params": "pass"}, "copy": {"conv_params": "error"},
                    "secret": {"conv_params": "error"}}
    out = capsys.readouterr().out
    assert "copy: error: could not read the file: it is a symbolic link" in out and "teacher's notes" not in out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_DUMPABLE) is Linux's")
def test_while_grading_no_process_of_the_same_user_can_read_the_graders_memory_or_environment():
    from conv1x1.exercises.sandbox import dumpable, reaping
    assert dumpable()
    with reaping():
        assert not dumpable()                                 # /proc/<grader>/{mem,environ,fd} closed to the user
    assert dumpable()


def test_the_grader_imports_nothing_once_the_first_submission_runs(tmp_path):
    """A submission that can write the teacher's Python files (a virtual environment of the teacher's own)
    could plant code in a module the grader imports later; every module is imported before any child starts."""
    folder = tmp_path / "submissions"
    build(folder, {"alice.py": GOOD, "bob.py": "import numpy as np\n" + WRONG_FORWARD + dedent("""
        def relu_backward(dout, x):
            return dout * (x >= 0)


        def softmax_cross_entropy(scores, y):
            raise ValueError("not yet")
        """)})
    script = dedent(f"""
        import sys
        from conv1x1.exercises import cli, sandbox
        start, seen = sandbox.Sandbox.start, []

        def first_start(self, seconds):
            seen.append(set(sys.modules)) if not seen else None
            return start(self, seconds)

        sandbox.Sandbox.start = first_start
        status = cli.main(["grade", {str(folder)!r}, "--timeout", "5"])
        print("LATE", sorted(set(sys.modules) - seen[0]), status)
        """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "LATE [] 0" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_submission_that_rewrites_the_graders_own_code_stops_the_grading_of_the_files_after_it(tmp_path):
    """The grader's modules (here one on a path of its own, standing in for NumPy or conv1x1 in a virtual
    environment the teacher owns) are fingerprinted after every file: a change is reported, and no later
    file runs against code a classmate planted."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "planted.py").write_text("VALUE = 1\n", encoding="utf-8")
    folder = tmp_path / "submissions"
    build(folder, {"alice.py": GOOD, "mallory.py": dedent(f"""
        import os
        with open({str(library / "planted.py")!r}, "a") as file:
            file.write("VALUE = 2\\n")
        os.utime({str(library / "planted.py")!r}, (0, 0))
        """) + RELU, "zoe.py": GOOD})
    script = dedent(f"""
        import sys
        sys.path.insert(0, {str(library)!r})
        import planted
        from conv1x1.exercises import cli
        sys.exit(cli.main(["grade", {str(folder)!r}, "--only", "relu_backward", "--csv", {str(tmp_path / "g.csv")!r}]))
        """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert table(tmp_path / "g.csv") == {"alice": {"relu_backward": "pass"},
                                         "mallory": {"relu_backward": "changed-files"},
                                         "zoe": {"relu_backward": "error"}}
    assert "mallory: changed-files: while it ran, the grader's own files changed" in done.stdout
    assert "planted.py" in done.stdout and "zoe: error: not run" in done.stdout


def test_a_function_ended_by_a_signal_is_told_by_that_signal(tmp_path):
    path = tmp_path / "attempt.py"
    path.write_text("import os, signal\nimport numpy as np\n\n\ndef relu_backward(dout, x):\n"
                    "    os.kill(os.getpid(), signal.SIGSEGV)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "conv1x1", "exercises", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "signal 11 (SIGSEGV)" in done.stdout, done.stdout


def test_a_function_that_kills_its_own_process_is_not_said_to_be_killed_by_the_grader(tmp_path):
    path = tmp_path / "attempt.py"
    path.write_text("import os, signal\nimport numpy as np\n\n\ndef relu_backward(dout, x):\n"
                    "    os.kill(os.getpid(), signal.SIGKILL)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "conv1x1", "exercises", "check", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert "signal 9 (SIGKILL)" in done.stdout and "killed by the grader" not in done.stdout, done.stdout


def test_a_file_that_hardcodes_the_answers_to_the_fixed_cases_passes_check_but_not_grade(capsys, tmp_path):
    """The learner's checker shows its cases; grade tries inputs no learner has seen (the float arrays nudged,
    two counts drawn at random), so a lookup table of the fixed cases' answers fails there."""
    relu_table = {(dout.tobytes() + x.tobytes()): (dout * (x > 0)).tolist()
                  for dout, x in (case.args for case in EXERCISES["relu_backward"].cases())}
    params_table = {args: args[1] * args[0] * args[2] ** 2 + args[1] * args[3]
                    for args in (case.args for case in EXERCISES["conv_params"].cases())}
    folder = tmp_path / "submissions"
    build(folder, {"copycat.py": dedent(f"""
        import numpy as np
        RELU = {relu_table!r}
        PARAMS = {params_table!r}


        def relu_backward(dout, x):
            return np.array(RELU.get(dout.tobytes() + x.tobytes(), 0), dtype=dout.dtype)


        def conv_params(in_channels, out_channels, kernel_size, bias):
            return PARAMS.get((in_channels, out_channels, kernel_size, bias), 0)
        """)})
    assert main(["check", str(folder / "copycat.py")]) == 0
    assert main(["grade", str(folder), "--only", "relu_backward,conv_params", "--csv", str(tmp_path / "g.csv")]) == 0
    assert table(tmp_path / "g.csv") == {"copycat": {"relu_backward": "fail", "conv_params": "fail"}}
    capsys.readouterr()


def test_a_student_file_named_after_a_module_shadows_nothing_for_the_others(capsys, tmp_path):
    folder = tmp_path / "submissions"
    shadow = "raise SystemExit('shadowed')\n"
    build(folder, {"alice.py": GOOD, "numpy.py": shadow, "conv1x1.py": shadow, "sitecustomize.py": shadow,
                   "usercustomize.py": shadow})
    assert main(["grade", str(folder), "--only", "relu_backward", "--csv", str(tmp_path / "g.csv")]) == 1
    rows = table(tmp_path / "g.csv")
    assert rows.pop("alice") == {"relu_backward": "pass"}
    assert rows == dict.fromkeys(["conv1x1", "numpy", "sitecustomize", "usercustomize"], {"relu_backward": "error"})
    capsys.readouterr()
