"""bench/gate/instructions/run.py: each side's apps from a copy at paths of the same length."""

from __future__ import annotations

from pathlib import Path

from bench.config import ROOT, load_app
from bench.gate.instructions.run import side_tree


def test_each_side_runs_from_a_copy_of_its_apps_at_paths_of_the_same_length(tmp_path: Path) -> None:
    apps = tmp_path / "checkout-with-a-long-name" / "apps"
    (apps / "flask_app" / "__pycache__").mkdir(parents=True)
    (apps / "flask_app" / "__init__.py").write_text("VALUE = 'working tree'\n")
    (apps / "flask_app" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (apps / "flask_app" / "new_module.py").write_text("# not yet committed\n")
    (apps / "django_app" / "staticfiles").mkdir(parents=True)
    (apps / "django_app" / "staticfiles" / "app.css").write_text("")
    worktree_apps = tmp_path / "w" / "apps"
    (worktree_apps / "flask_app").mkdir(parents=True)
    (worktree_apps / "flask_app" / "__init__.py").write_text("VALUE = 'REF'\n")
    scratch = tmp_path / "scratch"
    a = side_tree(worktree_apps, workdir=scratch, side="A")
    b = side_tree(apps, workdir=scratch, side="B")
    assert len(str(a)) == len(str(b)) and a.parent == b.parent
    assert (a / "apps" / "flask_app" / "__init__.py").read_text() == "VALUE = 'REF'\n"
    assert (b / "apps" / "flask_app" / "__init__.py").read_text() == "VALUE = 'working tree'\n"
    assert (b / "apps" / "flask_app" / "new_module.py").is_file(), "untracked files come along"
    assert not (b / "apps" / "flask_app" / "__pycache__").exists()
    assert not (b / "apps" / "django_app" / "staticfiles").exists(), "the setup command writes it anew"


def test_a_copied_app_is_found_and_rooted_in_its_copy(tmp_path: Path) -> None:
    root = side_tree(ROOT / "apps", workdir=tmp_path, side="B")
    spec = load_app("flask", root / "apps")
    assert spec.root == root
