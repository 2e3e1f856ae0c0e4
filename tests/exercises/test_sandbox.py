"""What the grader watches of its own code: a change to what runs in every child shows, a package installed
meanwhile does not."""

from __future__ import annotations

import site

from conv1x1.exercises.sandbox import code_fingerprint


def test_a_new_pth_file_in_site_packages_changes_the_fingerprint_and_a_new_package_does_not(tmp_path, monkeypatch):
    packages = tmp_path / "site-packages"
    packages.mkdir()
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(packages)])
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(tmp_path / "user"))
    before = code_fingerprint()
    (packages / "torch").mkdir()
    (packages / "torch" / "__init__.py").write_text("", encoding="utf-8")
    assert code_fingerprint() == before
    (packages / "zz_every_child.pth").write_text("import os\n", encoding="utf-8")
    assert code_fingerprint() != before


def test_a_sitecustomize_planted_in_site_packages_changes_the_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(tmp_path)])
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(tmp_path / "user"))
    before = code_fingerprint()
    (tmp_path / "sitecustomize.py").write_text("import os\n", encoding="utf-8")
    assert code_fingerprint() != before
