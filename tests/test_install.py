"""``pip install -e .`` installs every subpackage: pyproject's explicit list must stay complete."""
from __future__ import annotations

import tomllib
from pathlib import Path
from pack_files import pack_files

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", "benchmarks", "docs", "scripts", "web", "workflows", ".ci", "build"}


def test_pyproject_lists_every_subpackage():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == {"motioncomic": "."}
    listed = set(cfg["packages"])
    found = {"motioncomic"}
    for init in pack_files("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and (rel.parts[0] in SKIP or rel.parts[0].startswith(".") or "egg-info" in rel.parts[0]):
            continue
        if rel.parts:
            found.add("motioncomic." + ".".join(rel.parts))
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "pyproject lists packages that do not exist"


def test_entry_points_exist():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cfg["project"]["scripts"]["motioncomic"] == "motioncomic.cli:main"
    assert (ROOT / "cli.py").is_file() and (ROOT / "__main__.py").is_file()


def test_ci_runs_exactly_the_readme_test_command():
    import re

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("2. **Test**"):]
    command = re.search(r"```bash\n\s*(.+?)\n\s*```", block, re.S).group(1).strip()
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith(("#", "set ", "cd "))]
    assert ci == [command]
    assert "torch==2.13.0" not in (ROOT / "requirements.txt").read_text()  # the pin lives in the test setup only
