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
