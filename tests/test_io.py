"""The one atomic writer: content, permissions, and no leftovers on failure."""
import os
import stat

import pytest

from lossanalysis._io import atomic_write


def test_text_bytes_and_callable(tmp_path):
    assert atomic_write(tmp_path / "a.txt", "é\n").read_text(encoding="utf-8") == "é\n"
    assert atomic_write(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert atomic_write(tmp_path / "sub" / "c.bin", lambda f: f.write(b"xy")).read_bytes() == b"xy"


def test_mode_follows_the_umask_not_mkstemp(tmp_path):
    old = os.umask(0o027)
    try:
        path = atomic_write(tmp_path / "fig.pdf", b"%PDF")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "m.json", "old")

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(path, boom)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_bad_payload_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="payload"):
        atomic_write(tmp_path / "x", 3)
