"""How to install an optional extra, said for the way this qualiscore was installed.

Inside a clone, where the package is installed editable from the source tree, a bare
``pip install 'qualiscore[sign]'`` would fetch another copy from the index (or fail):
there the extra is installed from the clone itself. Read only when a hint is shown.
"""

from __future__ import annotations

import json
import shlex
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse


def editable_source() -> Path | None:
    """The source tree this qualiscore is installed editable from (``pip install -e``, as
    its ``direct_url.json`` records, PEP 610), or None for an install from the index or a wheel."""
    try:
        info = json.loads(metadata.distribution("qualiscore").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return None
    dir_info = info.get("dir_info") if isinstance(info, dict) else None
    url = info.get("url") if isinstance(info, dict) else None
    if not (isinstance(dir_info, dict) and dir_info.get("editable") is True and isinstance(url, str)):
        return None
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    from urllib.request import url2pathname  # file:///C:/src on Windows; only a hint needs it

    path = parsed.path if parsed.netloc in ("", "localhost") else f"//{parsed.netloc}{parsed.path}"
    source = Path(url2pathname(path))
    return source if source.is_dir() else None


def install_hint(extra: str) -> str:
    """The command that installs ``qualiscore[extra]`` where the user is: ``pip install -e '.[extra]'``
    in the root of the clone qualiscore runs from, with the clone's path elsewhere, and
    ``pip install 'qualiscore[extra]'`` when it was installed from the index."""
    source = editable_source()
    if source is None:
        return f"pip install {shlex.quote(f'qualiscore[{extra}]')}"
    try:
        here = Path.cwd().resolve() == source.resolve()
    except OSError:  # the current directory was removed
        here = False
    target = "." if here else str(source)
    return f"pip install -e {shlex.quote(f'{target}[{extra}]')}"
