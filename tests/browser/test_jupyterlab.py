"""The notebooks as a learner uses them: JupyterLab on localhost (with a token), each
notebook of ``notebooks/`` opened from the file browser and run with Run > Run All Cells,
its widgets moved with the mouse, and an exercise answered and checked in the page.

Generic: the notebooks come from ``notebooks/``; the widgets are whatever the run
renders (every widget cell must render one, and every control of every widget must change
its readout or figure); the exercise is the notebook's first answer cell (cell metadata
``lessonlib.answer``), answered first wrongly, then with the reference solution.
"""

from __future__ import annotations

import inspect
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import NOTEBOOKS

from lessonlib.exercises import get_exercise
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.solved import answer_cells

from .conftest import SCREENSHOTS, TIMINGS

# One worker opens every notebook (its fixture is module-scoped: split over two workers, a
# notebook would be opened and run on both).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("jupyterlab")]

SERVER_START_S = 600  # JupyterLab start-up on a busy machine (a hang guard)
RUN_TIMEOUT_MS = 240_000  # Run All on a loaded 2-core machine; a notebook is meant to take <= 20 s
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# wait_for_function polls every 250 ms, not at every animation frame (Playwright's default): a
# predicate run 60 times a second keeps the tab drawing frames for the whole Run All (measured
# over the six notebooks: the tab's renderer 50 CPU-s with it, 37 without).
POLL_MS = 250
WIDGET_CELL_MARK = "lessonlib.widgets"  # a code cell that shows a widget imports from here
# JupyterLab settings for a test run: every cell in the DOM (no virtual scrolling), the
# notebook's kernel started without asking, no news or update checks (there is no network).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _get(url: str, refused: int | None = None) -> int:
    """The HTTP status of ``url``; ``refused`` instead of an error if the connection is refused
    or times out (a server still starting), when given."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, TimeoutError):
        if refused is None:
            raise
        return refused


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a free localhost port, serving a copy of ``notebooks/`` (so runs and
    saves never touch the repository), with a random token. Yields ``(base_url, token, root)``.
    Module-scoped: stopped when this module's tests are done, not left running (and polled by
    its open tab) while the rest of the suite runs on the same worker."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "notebooks"
    root.mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, root / path.name)
    for name, values in LAB_SETTINGS.items():
        target = tmp / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    log = (tmp / "jupyterlab.log").open("w")
    start = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",  # the OS picks a free port
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--allow-root",  # CI runs as root
            "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the extension manager
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        # A guard against a hang, not a speed test: a busy machine may take minutes to start it.
        deadline = start + SERVER_START_S

        def wait_or_fail() -> None:
            if server.poll() is not None or time.perf_counter() > deadline:
                pytest.fail("JupyterLab did not start:\n" + (tmp / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.2)

        info = None
        while info is None:  # the server writes its port and URL to the runtime folder
            found = sorted((tmp / "runtime").glob("jpserver-*.json"))
            if found:
                info = json.loads(found[0].read_text())
            else:
                wait_or_fail()
        base = f"http://127.0.0.1:{info['port']}"
        # It may write that file before it accepts connections: refused means not yet.
        while _get(f"{base}/api/status?token={token}", refused=0) != 200:
            wait_or_fail()
        TIMINGS["jupyterlab start"] = time.perf_counter() - start
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_jupyterlab_needs_its_token(jupyterlab):
    base, token, _ = jupyterlab
    assert _get(f"{base}/api/contents") == 403
    assert _get(f"{base}/api/contents?token={'0' * len(token)}") == 403
    assert _get(f"{base}/api/contents?token={token}") == 200


@pytest.fixture(scope="module")
def lab(chromium, jupyterlab):
    """One JupyterLab tab for this module; notebooks are opened in it one after another."""
    base, token, _ = jupyterlab
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(f"{base}/lab?token={token}", wait_until="load")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=120_000)
    TIMINGS["jupyterlab page"] = time.perf_counter() - start
    yield SimpleNamespace(page=page, errors=errors)
    context.close()


def _status_bar_idle(page) -> None:
    page.wait_for_function(
        "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
        timeout=RUN_TIMEOUT_MS, polling=POLL_MS,
    )


def _open_and_run(page, path: Path) -> None:
    """Double-click the notebook in the file browser, wait for its kernel, Run All Cells."""
    page.locator(".jp-DirListing-itemText", has_text=path.name).first.dblclick()
    page.wait_for_function(
        "name => [...document.querySelectorAll('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')]"
        ".some(t => t.innerText.includes(name))",
        arg=path.name,
        timeout=60_000, polling=POLL_MS,
    )
    page.locator(ACTIVE).locator(".jp-Cell").first.wait_for(timeout=60_000)
    _status_bar_idle(page)  # the kernel has started
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        f"""() => {{
            const prompts = [...document.querySelectorAll('{ACTIVE} .jp-CodeCell .jp-InputPrompt')]
                .map((p) => p.textContent.trim());
            return prompts.length > 0 && prompts.every((t) => /^\\[\\d+\\]:$/.test(t));
        }}""",
        timeout=RUN_TIMEOUT_MS, polling=POLL_MS,
    )
    _status_bar_idle(page)


def _save(page, saved: Path) -> None:
    """File > Save (Ctrl+S), then wait until the file on disk has the outputs."""
    page.keyboard.press("Control+s")
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        try:
            nb = nbformat.read(saved, as_version=4)
        except (nbformat.reader.NotJSONError, ValueError):  # caught mid-write by JupyterLab: read again
            time.sleep(0.3)
            continue
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            return
        time.sleep(0.3)
    raise AssertionError(f"{saved.name} was not saved with its outputs")


def _shut_down_kernel(base: str, token: str, name: str) -> None:
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        if session["path"].endswith(name):
            kill = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(kill, timeout=30).close()


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request, lab, jupyterlab):
    """A notebook opened from the file browser, run with Run > Run All Cells, and saved.
    Module-scoped, so every check of one notebook runs before the next is opened."""
    path: Path = request.param
    base, token, root = jupyterlab
    page = lab.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        _open_and_run(page, path)
        TIMINGS[f"run {path.name}"] = time.perf_counter() - start
        _save(page, root / path.name)
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{path.stem}__failed.png"))
        raise
    page.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{path.stem}.png"))
    yield {"path": path, "panel": page.locator(ACTIVE), "page": page, "saved": root / path.name, "errors": lab.errors}
    _shut_down_kernel(base, token, path.name)  # free the CPU for the next notebook


def test_runs_without_errors(notebook, note):
    """Run All ends with every code cell executed, no error output (read from the saved
    notebook) and no JavaScript error in JupyterLab."""
    nb = nbformat.read(notebook["saved"], as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "not every code cell ran"
    errors = [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(nb.cells) if c.cell_type == "code"
        for o in c.outputs if o.output_type == "error"
    ]
    assert not errors, f"{notebook['path'].name} raised in JupyterLab: {errors}"
    assert not notebook["errors"], f"JavaScript errors in JupyterLab: {notebook['errors']}"
    seconds = TIMINGS["run " + notebook["path"].name]
    note(f"{len(code)} code cells, opened and run in {seconds:.0f} s")


def _signature(box) -> str:
    """What a widget shows: its HTML readouts and the figure it displays."""
    return box.evaluate(
        "b => [...b.querySelectorAll('.widget-html-content')].map(e => e.innerHTML).join('|') + '#' +"
        " [...b.querySelectorAll('img')].map(i => i.src).join('|')"
    )


def _wait_for_change(page, box, before: str, what: str) -> None:
    deadline = time.perf_counter() + 60
    while _signature(box) == before:
        if time.perf_counter() > deadline:
            raise AssertionError(f"moving {what} did not change the widget's readout or figure")
        page.wait_for_timeout(200)


def _move(page, box, control, kind: str) -> str:
    """Move one control as a person would; return a description for messages."""
    if kind == "select":
        options = control.evaluate("s => [...s.options].map(o => o.value)")
        current = control.input_value()
        choice = next(o for o in reversed(options) if o != current)
        control.select_option(choice)
        label = control.evaluate("s => s.parentElement.querySelector('label')?.innerText || 'drop-down'")
        return f"the {label} menu to {choice!r}"
    if kind == "slider":
        control.scroll_into_view_if_needed()
        handle = control.bounding_box()
        now, low, high = (float(control.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
        step = 80 if now < (low + high) / 2 else -80
        x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + step / 2, y, steps=4)
        page.mouse.move(x + step, y, steps=4)
        page.mouse.up()
        return f"a slider from {now:g}"
    if kind == "toggle":
        control.click()
        return f"the {control.inner_text()!r} button"
    if kind == "text":  # a word box (chapter 2's explorers): type another word and press Enter
        old = control.input_value()
        new = WORD_SWAPS.get(old.strip().lower(), "queen")
        control.click()
        control.fill(new)
        control.press("Enter")
        return f"the word {old!r} to {new!r}"
    raise AssertionError(f"unsupported control {kind}")


CONTROLS = {
    "select": "select",
    "slider": ".noUi-handle",
    "toggle": ".widget-toggle-button:not(.mod-active)",
    "text": ".widget-text input[type='text']",
}
WORD_SWAPS = {"king": "queen", "man": "boy", "woman": "girl", "queen": "king"}  # words GloVe knows


def test_widgets_render_and_react(notebook, note):
    """Every widget cell renders a live widget (controls, readout, figure; not its text
    repr), and every control, moved with the mouse, changes what the widget shows."""
    page, panel, path = notebook["page"], notebook["panel"], notebook["path"]
    nb = nbformat.read(path, as_version=4)
    widget_cells = [c for c in nb.cells if c.cell_type == "code" and WIDGET_CELL_MARK in c.source]
    # tqdm's progress bars (training cells) are widget boxes too; only the course's widgets count
    boxes = panel.locator(
        ".jp-OutputArea-output > .jupyter-widgets.widget-box:not(:has(.widget-progress, .progress, progress))"
    )
    as_text = panel.locator(".jp-OutputArea-output[data-mime-type='text/plain']").all_inner_texts()
    assert not [t for t in as_text if t.lstrip().startswith(("VBox(", "HBox(", "Explorer("))], "a widget rendered as text"
    assert boxes.count() >= len(widget_cells), f"{len(widget_cells)} widget cells but {boxes.count()} widgets rendered"
    moved = []
    for i in range(boxes.count()):
        box = boxes.nth(i)
        box.scroll_into_view_if_needed()
        images = box.locator("img")
        assert images.count() and all(
            images.nth(j).evaluate("i => i.complete && i.naturalWidth > 0") for j in range(images.count())
        ), f"widget {i + 1}: its figure did not load"
        controls = [(kind, box.locator(selector)) for kind, selector in CONTROLS.items()]
        count = sum(found.count() for _, found in controls)
        assert count, f"widget {i + 1} has no control the test knows how to move"
        for kind, found in controls:
            for j in range(found.count()):
                before = _signature(box)
                what = _move(page, box, found.nth(j), kind)
                _wait_for_change(page, box, before, what)
                moved.append(what)
        box.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{path.stem}__widget{i + 1}.png"))
    note(f"{boxes.count()} widgets; moved {len(moved)} controls" if moved else "no widgets")


def _cell(panel, index: int):
    cells = panel.locator(".jp-Notebook .jp-Cell")
    return cells.nth(index)


def _run_with(page, panel, answer_index: int, check_index: int, source: str) -> str:
    """Type ``source`` into the answer cell, run it and its check; return the feedback."""
    answer = _cell(panel, answer_index)
    answer.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
    page.keyboard.press("Shift+Enter")
    check = _cell(panel, check_index)
    before = check.locator(".jp-OutputArea").inner_text()
    check.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    deadline = time.perf_counter() + 60
    while True:
        prompt = check.locator(".jp-InputPrompt").inner_text().strip()
        text = check.locator(".jp-OutputArea").inner_text()
        if "*" not in prompt and text and text != before:
            return text
        if time.perf_counter() > deadline:
            raise AssertionError(f"the check did not answer; its output is {text!r}")
        page.wait_for_timeout(200)


def test_exercise_check_shows_feedback(notebook, note):
    """Answer the first exercise in the page: the untouched check says "Not attempted", a
    wrong function gets "Incorrect" with a diagnosis, the reference solution "Correct"."""
    page, panel, path = notebook["page"], notebook["panel"], notebook["path"]
    nb = nbformat.read(path, as_version=4)
    answer_index, exercise_id = answer_cells(nb)[0]
    check_index = next(
        i for i in range(answer_index + 1, len(nb.cells))
        if nb.cells[i].cell_type == "code" and ".check(" in nb.cells[i].source
    )
    assert panel.locator(".jp-Notebook .jp-Cell").count() == len(nb.cells)
    untouched = _cell(panel, check_index).locator(".jp-OutputArea").inner_text()
    assert "Not attempted" in untouched and exercise_id in untouched, untouched
    exercise = get_exercise(exercise_id)
    seen = ["not attempted"]
    if isinstance(exercise, FunctionExercise):
        params = ", ".join(inspect.signature(exercise.reference).parameters)
        wrong = _run_with(page, panel, answer_index, check_index, f"def {exercise.answer_name}({params}):\n    return None")
        assert "Incorrect" in wrong and exercise_id in wrong and len(wrong.splitlines()) > 1, wrong
        seen.append("incorrect with a diagnosis")
    right = _run_with(page, panel, answer_index, check_index, exercise.solution_code.rstrip("\n"))
    assert "Correct" in right and f"{exercise.points:g}/{exercise.points:g} points" in right, right
    _cell(panel, check_index).screenshot(path=str(SCREENSHOTS / f"jupyterlab__{path.stem}__check.png"))
    seen.append("correct")
    note(f"{exercise_id}: " + ", then ".join(seen))
