"""The course website, built by Sphinx and read in a real browser (headless Chromium driven by Playwright).

One build per test session (or a build in docs/_build/html newer than every source), served from
127.0.0.1; every page is opened, and the tests check that it renders, that its formulas are typeset by
MathJax (served from the site), that every image loads, that no request leaves the machine and that
every link inside the site resolves. Screenshots go to docs/_build/screenshots/.

Skips where the docs extra, Playwright or Chromium is missing, unless CONV1X1_REQUIRE_BROWSER=1 (CI), which
turns every such skip into a failure. The build and the browser take minutes: these tests are marked ``slow``
(``python -m pytest -m slow``).
"""

import functools
import http.server
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

# One worker builds the site and reads it: under pytest-xdist (--dist loadgroup) the whole file runs in one process,
# so that two workers never build into docs/_build at once.
pytestmark = pytest.mark.xdist_group("site")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
SHOTS = DOCS / "_build" / "screenshots"
EXAMPLES = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
CHROMIUM = os.environ.get("CONV1X1_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("CONV1X1_REQUIRE_BROWSER") == "1"
CHAPTERS = ["computes", "depth", "nin", "inception", "cost", "networks", "roofline", "training", "gradients",
            "practise", "pytorch", "performance", "refusals", "glossary", "references"]
NEEDS_TORCH = {"15_to_pytorch.py"}   # the gallery runs it only where PyTorch is installed (docs/conf.py)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                  "--disable-extensions", "--disable-default-apps"]


def _missing(what):
    if REQUIRED:
        pytest.fail(f"{what}, but CONV1X1_REQUIRE_BROWSER=1")
    pytest.skip(what)


def _require_tools():
    for module in ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme", "myst_parser", "matplotlib",
                   "sklearn", "playwright"):
        try:
            importlib.import_module(module)
        except ImportError:
            _missing(f"{module} is not installed (pip install -e '.[docs]' playwright)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")


def _sources():
    """Every file the site is built from."""
    patterns = [(DOCS, "*.md"), (DOCS, "*.rst"), (DOCS, "conf.py"), (DOCS / "_static", "*"),
                (DOCS / "_templates", "**/*"), (ROOT / "examples", "*"), (ROOT / "conv1x1", "**/*.py")]
    return [p for folder, pattern in patterns for p in folder.glob(pattern) if p.is_file()]


def _fresh():
    index = HTML / "index.html"
    return index.exists() and index.stat().st_mtime > max(p.stat().st_mtime for p in _sources())


def _git_status():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def build():
    """Build the site once (unless a build newer than every source is there); return facts about the build."""
    _require_tools()
    if _fresh():
        return {"built": False, "seconds": None, "status_before": None, "status_after": None}
    before = _git_status()
    shutil.rmtree(HTML, ignore_errors=True)            # no page of an earlier build may linger
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-b", "html", "-q", str(DOCS), str(HTML)],
                            cwd=ROOT, capture_output=True, text=True, timeout=3000)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, f"sphinx -W failed:\n{result.stderr[-4000:]}"
    return {"built": True, "seconds": seconds, "status_before": before, "status_after": _git_status()}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(build):
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _pages():
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).as_posix().startswith(("_static/", "_sources/", "_images/")))


@pytest.fixture(scope="module")
def visits(server):
    """Open every page in Chromium; record what each one requested, typeset, loaded and linked to."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    remote, results = [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(request_route):
            url = request_route.request.url
            host = urlparse(url).hostname
            if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
                request_route.continue_()
            else:                                    # never let it leave the machine: record it and refuse it
                remote.append(url)
                request_route.abort()

        context.route("**/*", route)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        failed = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        for name in _pages():
            errors.clear()
            failed.clear()
            response = page.goto(server + name, wait_until="load")
            math = page.evaluate(_TYPESET)
            images = page.evaluate(_IMAGES)
            facts = page.evaluate(_FACTS)
            results[name] = {"status": response.status if response else None, "math": math, "images": images,
                             "errors": list(errors), "failed": [u for u in failed if u not in remote], **facts}
            if not name.startswith("generated/"):
                shot = SHOTS / (name[:-5].replace("/", "__") + ".png")
                page.screenshot(path=str(shot), full_page=name in _FULL_PAGE)
        browser.close()
    return {"remote": remote, "pages": results, "base": server}


_FULL_PAGE = {"index.html", "auto_examples/index.html", "auto_examples/01_per_pixel_fc.html",
              "auto_examples/05_inception_cost.html", "computes.html", "api.html"}

# Wait for MathJax (if the page loads it) to finish, then count the formulas and their typeset output.
_TYPESET = """async () => {
  const formulas = document.querySelectorAll('span.math, div.math').length;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const typeset = document.querySelectorAll('mjx-container').length;
  const raw = [...document.querySelectorAll('span.math, div.math')]
      .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60));
  return {formulas, typeset, raw, mathjax: !!window.MathJax};
}"""

# Make lazy images load now, wait for each, and report the ones with no pixels.
_IMAGES = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done);
                            setTimeout(done, 10000); })));
  return {count: images.length, broken: images.filter(img => !(img.naturalWidth > 0)).map(img => img.src)};
}"""

_FACTS = """() => ({
  title: document.title,
  text: (document.querySelector('article') || document.body).innerText.length,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  outputs: document.querySelectorAll('.sphx-glr-script-out').length,
  downloads: [...document.querySelectorAll('a.download, a.reference.download')].map(a => a.href),
})"""


@pytest.mark.slow
def test_site_builds_with_no_warnings_and_leaves_the_work_tree_clean(build):
    if build["built"]:
        assert build["status_after"] == build["status_before"], (
            "the build changed the work tree:\n" + (build["status_after"] or ""))
    assert (HTML / "index.html").exists()


@pytest.mark.slow
def test_every_chapter_and_example_has_a_page(build):
    for chapter in CHAPTERS:
        assert (HTML / f"{chapter}.html").exists(), chapter
    for script in EXAMPLES:
        assert (HTML / "auto_examples" / f"{script.stem}.html").exists(), script.name
    assert (HTML / "api.html").exists()


@pytest.mark.slow
def test_each_example_offers_its_script_and_a_real_notebook(build):
    for script in EXAMPLES:
        notebooks = list(HTML.glob(f"_downloads/*/{script.stem}.ipynb"))
        scripts = list(HTML.glob(f"_downloads/*/{script.name}"))
        assert notebooks and scripts, script.name
        notebook = json.loads(notebooks[0].read_text())
        assert notebook["nbformat"] == 4
        code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
        assert "import conv1x1 as C" in code or "from conv1x1" in code, script.name


@pytest.mark.slow
def test_the_gallery_draws_at_least_twelve_distinct_figures(build):
    figures = [p for p in (HTML / "_images").glob("sphx_glr_*.png") if "_thumb" not in p.name]
    assert len({p.read_bytes() for p in figures}) >= 12, sorted(p.name for p in figures)


@pytest.mark.slow
def test_no_request_leaves_the_machine(visits):
    assert visits["remote"] == [], f"requests to other hosts: {sorted(set(visits['remote']))[:20]}"


@pytest.mark.slow
def test_every_page_renders_without_errors(visits):
    for name, page in visits["pages"].items():
        assert page["status"] == 200, name
        assert page["title"].strip(), f"{name} has no title"
        assert page["text"] > 40, f"{name} shows almost no text"
        assert page["errors"] == [], f"{name}: JavaScript errors {page['errors']}"
        assert page["failed"] == [], f"{name}: requests that failed {page['failed']}"


@pytest.mark.slow
def test_formulas_are_typeset_by_mathjax(visits):
    pages = visits["pages"]
    with_math = {name: page["math"] for name, page in pages.items() if page["math"]["formulas"]}
    assert "index.html" in with_math, "the landing page's formula is missing"
    for name, math in with_math.items():
        assert math["mathjax"], f"{name} has formulas but MathJax did not load"
        assert math["raw"] == [], f"{name}: formulas left as TeX: {math['raw'][:3]}"
        assert math["typeset"] >= math["formulas"], name


@pytest.mark.slow
def test_every_image_loads(visits):
    total = 0
    for name, page in visits["pages"].items():
        assert page["images"]["broken"] == [], f"{name}: images that did not load {page['images']['broken']}"
        total += page["images"]["count"]
    assert total >= 12


@pytest.mark.slow
def test_every_gallery_page_shows_what_its_script_printed(visits):
    for script in EXAMPLES:
        if script.name in NEEDS_TORCH and importlib.util.find_spec("torch") is None:
            continue                                  # shown, not run, where the build machine has no PyTorch
        page = visits["pages"][f"auto_examples/{script.stem}.html"]
        assert page["outputs"] >= 1, script.name


@functools.cache
def _ids(path):
    """The ids and names a built page defines: the anchors a link's #fragment can point at."""
    return set(re.findall(r'\s(?:id|name)="([^"]+)"', path.read_text(encoding="utf-8", errors="replace")))


@pytest.mark.slow
def test_internal_links_resolve(visits):
    base = visits["base"]
    broken = []
    for name, page in visits["pages"].items():
        for href in page["links"]:
            if not href.startswith(base):
                continue                              # a link out (a paper, say) is not a request; it is not followed
            url, fragment = urldefrag(href)
            target = HTML / unquote(url[len(base):])
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name} -> {href}")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in _ids(target):
                broken.append(f"{name} -> {href} (no such anchor)")
    assert broken == [], "\n".join(broken[:30])


API_MODULES = ["conv1x1", "conv1x1.functional", "conv1x1.models", "conv1x1.cost", "conv1x1.gradcheck",
               "conv1x1.training.train", "conv1x1.training.optim", "conv1x1.training.data",
               "conv1x1.training.checkpoint", "conv1x1.fast.timing", "conv1x1.reference", "conv1x1.fast",
               "conv1x1.training.losses"]


def _documented():
    """The objects docs/api.rst lists, found by importing each autosummary entry under its currentmodule."""
    objects, module = [], "conv1x1"
    in_summary = False
    for line in (DOCS / "api.rst").read_text().splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::")[1].strip()
        elif line.startswith(".. autosummary::"):
            in_summary = True
        elif in_summary and line.startswith("   ") and line.strip() and not line.strip().startswith(":"):
            objects.append((module, line.strip()))
        elif line and not line.startswith(" "):
            in_summary = False
    return objects


def test_the_api_reference_lists_every_public_name_once():
    """Every name in the public modules' __all__ appears in docs/api.rst, as itself or as the object it re-exports.

    Needs no Sphinx: it reads api.rst and imports the names, so a public name added without its API entry fails
    in the plain test run."""
    import types

    listed = _documented()
    found = {}
    for module, name in listed:
        found.setdefault(id(getattr(importlib.import_module(module), name)), []).append(f"{module}.{name}")
    assert len(listed) == len(set(listed))
    twice = [names for names in found.values() if len(names) > 1]
    assert twice == [], f"documented twice (Sphinx warns on a duplicate object): {twice}"
    missing = []
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, types.ModuleType) or name == "__version__":
                continue
            if id(value) not in found:
                missing.append(f"{module_name}.{name}")
    assert missing == [], f"public names missing from docs/api.rst: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_the_notebook_offered_for_download_runs_top_to_bottom(build, script, tmp_path, monkeypatch):
    """The .ipynb a reader downloads from the gallery (sphinx-gallery's conversion, not jupytext's) runs in a kernel."""
    if script.name in NEEDS_TORCH:
        pytest.importorskip("torch")
    nbformat = importlib.import_module("nbformat")
    try:
        nbclient = importlib.import_module("nbclient")
        importlib.import_module("ipykernel")
    except ImportError:
        _missing("nbclient or ipykernel is not installed (pip install -e '.[docs]')")
    notebook = nbformat.read(next(HTML.glob(f"_downloads/*/{script.stem}.ipynb")), as_version=4)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    monkeypatch.setenv("CONV1X1_GALLERY", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for o in cell.get("outputs", []) if o.output_type == "stream")
    assert printed.strip()
    assert list(tmp_path.iterdir()) == [], "the notebook wrote files into its folder"
