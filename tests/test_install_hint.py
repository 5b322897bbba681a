"""Install hints say what works where the user is: the clone for an editable install, else the index."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from qualiscore import _install
from qualiscore._install import editable_source, install_hint
from qualiscore.errors import UsageError


class FakeDistribution:
    """What ``importlib.metadata.distribution`` gives, with only ``direct_url.json``."""

    def __init__(self, direct_url: Any) -> None:
        self.text = direct_url if direct_url is None or isinstance(direct_url, str) else json.dumps(direct_url)

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return self.text


def installed(monkeypatch: pytest.MonkeyPatch, direct_url: Any) -> None:
    """qualiscore as installed with this ``direct_url.json`` (None: none recorded)."""
    def distribution(name: str) -> FakeDistribution:
        assert name == "qualiscore"
        return FakeDistribution(direct_url)

    monkeypatch.setattr(_install.metadata, "distribution", distribution)


def editable(path: Path) -> dict[str, Any]:
    return {"url": path.as_uri(), "dir_info": {"editable": True}}


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    path = tmp_path / "my clone"  # a space, so the path must be quoted for the shell
    path.mkdir()
    return path


def test_in_the_root_of_the_clone(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, editable(clone))
    monkeypatch.chdir(clone)
    assert editable_source() == clone
    assert install_hint("sign") == "pip install -e '.[sign]'"


def test_elsewhere_names_the_clone(clone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, editable(clone))
    (clone / "rules").mkdir()
    for cwd in (tmp_path, clone / "rules"):
        monkeypatch.chdir(cwd)
        assert install_hint("fast") == f"pip install -e '{clone}[fast]'"


@pytest.mark.parametrize("direct_url", [
    None,  # installed from the index: pip records no direct URL
    {"url": "https://example.org/qualiscore-0.1.0-py3-none-any.whl", "archive_info": {}},
    {"url": "file:///tmp/qualiscore", "dir_info": {}},  # `pip install .`: a copy, not the tree
    {"url": "file:///tmp/qualiscore", "dir_info": {"editable": False}},
    {"url": "file:///nonexistent/qualiscore-clone", "dir_info": {"editable": True}},  # the clone was removed
    "not json",
    ["not", "a", "mapping"],
])
def test_otherwise_from_the_index(direct_url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, direct_url)
    assert editable_source() is None
    assert install_hint("sign") == "pip install 'qualiscore[sign]'"


def test_not_installed_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_install.metadata, "distribution", missing)
    assert install_hint("report") == "pip install 'qualiscore[report]'"


def test_the_hint_of_a_missing_extra_is_the_one_for_this_install(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qualiscore import signing

    for name in ("cryptography", "cryptography.hazmat.primitives", "cryptography.hazmat.primitives.asymmetric"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it fails, even after another test imported it
    installed(monkeypatch, editable(clone))
    monkeypatch.chdir(clone)
    with pytest.raises(UsageError) as error:
        signing._crypto()
    assert error.value.hint == "pip install -e '.[sign]'"
    installed(monkeypatch, None)
    with pytest.raises(UsageError) as error:
        signing._crypto()
    assert error.value.hint == "pip install 'qualiscore[sign]'"
