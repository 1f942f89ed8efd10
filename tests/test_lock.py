"""uv.lock, which the images install from, stays in step with pyproject.toml: every dependency and
extra pyproject.toml declares is locked with the same requirement, and nothing else. Regenerate
with `make lock` after changing a dependency."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
REGENERATE = "uv.lock does not match pyproject.toml: run `make lock` and commit uv.lock"


def _key(name: str, extras: list[str], specifier: str, extra: str | None) -> tuple:
    return canonicalize_name(name), tuple(sorted(extras)), str(SpecifierSet(specifier)), extra


def declared() -> set[tuple]:
    project = PYPROJECT["project"]
    found = set()
    for group, requirements in [(None, project["dependencies"]), *project["optional-dependencies"].items()]:
        for text in requirements:
            req = Requirement(text)
            found.add(_key(req.name, list(req.extras), str(req.specifier), group))
    return found


def locked() -> set[tuple]:
    [root] = [p for p in LOCK["package"] if p["name"] == PYPROJECT["project"]["name"]]
    found = set()
    for req in root["metadata"]["requires-dist"]:
        marker = re.fullmatch(r"extra == '([^']+)'", req.get("marker", "")) if req.get("marker") else None
        found.add(_key(req["name"], req.get("extras", []), req.get("specifier", ""), marker[1] if marker else None))
    return found


def test_the_lock_has_exactly_the_declared_requirements():
    assert declared() == locked(), REGENERATE


def test_the_lock_covers_the_python_versions_and_extras_declared():
    [root] = [p for p in LOCK["package"] if p["name"] == PYPROJECT["project"]["name"]]
    assert LOCK["requires-python"] == PYPROJECT["project"]["requires-python"], REGENERATE
    assert sorted(root["metadata"]["provides-extras"]) == sorted(PYPROJECT["project"]["optional-dependencies"])


def test_every_locked_file_has_a_hash():
    """The images install with --frozen, so each wheel and sdist they may fetch is checked by hash."""
    files = [f for p in LOCK["package"] if "registry" in p["source"]
             for f in [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])]]
    assert files and all(f.get("hash", "").startswith("sha256:") for f in files)


def test_the_images_and_make_lock_use_one_uv_version():
    version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)[1]
    for name in ("Dockerfile", "Dockerfile.gpu"):
        tags = re.findall(r"ghcr\.io/astral-sh/uv:(\S+)", (ROOT / name).read_text(encoding="utf-8"))
        assert tags == [version], name
