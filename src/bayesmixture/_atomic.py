"""Write a file or a folder atomically: build it under a temporary name beside it, then rename.

The one way the library writes its outputs (saved fits, the HTML report, the command line's
CSV files and output folders), so that an interrupted write never leaves half a file where a
complete one, or the previous one, should be.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, *, folder: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to, renamed over ``path`` if the block succeeds.

    The temporary name is ``.<name>.<random hex>.tmp`` in the same folder, as a rename is
    atomic only within one file system. For a file it is not created: the writer creates it,
    so it gets the usual permissions of new files (``mkstemp`` would make it private). With
    ``folder=True`` it is created as an empty folder (likewise not ``mkdtemp``). If the block
    raises anything, ``KeyboardInterrupt`` included, the temporary file or folder is removed
    and ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The file or folder to write; its parent folder must exist.
    folder : bool, default False
        Write a folder: an existing folder at ``path`` is moved aside, the new one renamed
        into place, and only then the old one deleted (it is put back if the rename fails).

    Yields
    ------
    pathlib.Path
        Where to write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from bayesmixture._atomic import atomic_path
    >>> target = Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as temporary:
    ...     _ = temporary.write_text("a,b\\n1,2\\n")
    >>> target.read_text().splitlines(), [p.name for p in target.parent.iterdir()]
    (['a,b', '1,2'], ['table.csv'])
    """
    path = Path(path)
    temporary = _beside(path, "tmp")
    if folder:
        temporary.mkdir()
    try:
        yield temporary
        if folder:
            _swap_folder(temporary, path)
        else:
            os.replace(temporary, path)
    except BaseException:
        if folder:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.{suffix}")


def _swap_folder(staging: Path, out: Path) -> None:
    """Move the finished folder to ``out``; an earlier folder there goes only afterwards."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = _beside(out, "old")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
