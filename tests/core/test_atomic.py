from pathlib import Path

import pytest

from gridplan.atomic import atomic_path, write_text_atomic


def test_atomic_write_replaces_target(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("old")
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.txt"]


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "grids.gpkg"
    target.write_text("last good plan")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "last good plan"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grids.gpkg"]


def test_writer_that_wrote_nothing_is_an_error(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(FileNotFoundError), atomic_path(target):
        pass
    assert not target.exists()


def test_temp_file_keeps_suffix_for_format_detection(tmp_path):
    with atomic_path(tmp_path / "cells.gpkg") as tmp:
        assert tmp.suffix == ".gpkg"
        assert tmp.parent == tmp_path
        tmp.write_text("x")


def test_a_killed_write_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    import os
    import subprocess
    import sys

    from gridplan.atomic import clean_stale_temporaries, write_text_atomic

    target = tmp_path / "plan [v1].gpkg"  # glob metacharacters in the name
    killed = (
        "import os, sys\n"
        "from gridplan.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    open(str(tmp) + '-wal', 'w').write('wal')\n"
        "    os._exit(9)  # killed mid-write: no clean-up runs\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    subprocess.run([sys.executable, "-c", killed, str(target)], env=env, check=False)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(n.startswith(".plan [v1].") for n in left), left
    (tmp_path / ".other.1-x.tmp.gpkg").write_text("not ours")  # another target's
    (tmp_path / "notes.txt").write_text("keep")
    write_text_atomic(target, "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.1-x.tmp.gpkg",
        "notes.txt",
        "plan [v1].gpkg",
    ]
    assert target.read_text() == "whole"
    # a temporary of a live process (this one) is never touched
    live = tmp_path / f".plan [v1].{os.getpid()}-abc.tmp.gpkg"
    live.write_text("in flight")
    assert clean_stale_temporaries(target) == []
    assert live.exists()
