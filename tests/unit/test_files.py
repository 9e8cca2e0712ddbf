"""Atomic writes: a failure mid-write leaves the old file and no temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from upconv._files import atomic_write, check_writable


def test_success_replaces_the_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert os.stat(path).st_mode & 0o777 == 0o640  # an existing file keeps its permissions
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_mid_write_keeps_the_old_file(tmp_path, error):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(error), atomic_write(path) as f:
        f.write(b"half")
        raise error()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_killed_writer_leaves_the_old_file(tmp_path):
    # SIGKILL while the data is being written: the destination still holds the old content
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    code = textwrap.dedent(f"""
        import os, signal, sys
        from upconv._files import atomic_write
        with atomic_write({str(path)!r}) as f:
            f.write(b"x" * 1000)
            f.flush()
            print("writing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL and "writing" in proc.stdout
    assert path.read_bytes() == b"old"


def test_mode_must_write(tmp_path):
    with pytest.raises(ValueError, match=r"^atomic_write: mode must write"), atomic_write(tmp_path / "x", "rb"):
        pass


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "a.png", "f") == str(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"^argument --output: cannot write '.*': the directory '.*nodir' does not"):
        check_writable(tmp_path / "nodir" / "a.png", "argument --output")
    with pytest.raises(ValueError, match=r"^f: cannot write '.*': it is a directory"):
        check_writable(tmp_path, "f")
