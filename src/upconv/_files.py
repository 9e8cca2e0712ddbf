"""Writing files without losing data: every file upconv writes goes through :func:`atomic_write`.

The new content goes to a temporary file in the destination's directory,
is flushed to disk, and replaces the destination in one ``os.replace``: a
crash, a full disk or Ctrl-C leaves either the old file or the new one,
never half of one (and never a stray temporary file after an exception).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "check_writable"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` atomically.

    The file object is yielded; when the ``with`` block ends without an
    exception the data is flushed and fsynced and the file renamed onto
    ``path`` (keeping the permissions an existing file had, else the
    process umask's).  On an exception (``KeyboardInterrupt`` included) the
    temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> from upconv._files import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_write(path, "w") as f:
    ...     _ = f.write("hello")
    >>> with open(path) as f:
    ...     f.read()
    'hello'
    """
    if "w" not in mode:
        raise ValueError(f"atomic_write: mode must write ('w' or 'wb'), got {mode!r}")
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(target: str) -> int:
    """The permission bits the file should get: an existing file's, else ``0o666`` less the umask."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path: str | os.PathLike[str], func: str) -> str:
    """Check, before any work, that a file can be written at ``path``; return it as a string.

    Refuses an existing directory at ``path``, a missing parent directory and
    one the process cannot write into, with a ValueError
    ``"<func>: cannot write '<path>': ..."`` (a CLI passes ``"argument -o"``
    as ``func``).
    """
    p = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(p))
    if os.path.isdir(p):
        raise ValueError(f"{func}: cannot write {p!r}: it is a directory")
    if not os.path.isdir(directory):
        raise ValueError(f"{func}: cannot write {p!r}: the directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"{func}: cannot write {p!r}: the directory {directory!r} is not writable")
    return p
