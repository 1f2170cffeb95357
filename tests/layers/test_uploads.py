"""Upload checks: size, names, zip traversal and bombs."""

import zipfile

import pytest

from gridplan.errors import InputError
from gridplan.layers.uploads import UploadLimits, check_zip, safe_name, store_upload


def test_safe_name_drops_folders_and_odd_characters():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\城市 边界.gpkg") == "城市_边界.gpkg"
    assert safe_name("..") == "upload"
    assert safe_name("<script>.csv") == "_script_.csv"


def test_size_limit_has_a_clear_message(tmp_path):
    with pytest.raises(InputError, match=r"above the upload limit of 0\.0 MB"):
        store_upload("big.csv", b"x" * 100, tmp_path, UploadLimits(max_bytes=10))
    assert not list(tmp_path.iterdir())


def test_zip_path_traversal_is_refused(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("../../outside.shp", b"x")
        f.writestr("/abs/path.dbf", b"x")
    with pytest.raises(InputError) as err:
        check_zip(z)
    assert len(err.value.problems) == 2
    assert all("outside the archive" in p.what for p in err.value.problems)
    data = z.read_bytes()
    with pytest.raises(InputError):
        store_upload("evil.zip", data, tmp_path / "up")
    assert not (tmp_path / "up" / "evil.zip").exists()


def test_zip_bomb_is_refused(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as f:
        f.writestr("zeros.csv", b"0" * (20 * 1024 * 1024))
    with pytest.raises(InputError, match="zip bomb"):
        check_zip(z)
    with pytest.raises(InputError, match="unzips to"):
        check_zip(z, UploadLimits(max_unzipped_bytes=1024, max_ratio=1e9))


def test_good_zip_and_plain_file_pass(tmp_path):
    z = tmp_path / "ok.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("city/boundary.shp", b"x" * 100)
    assert check_zip(z) == ["city/boundary.shp"]
    p = store_upload("a b.geojson", b"{}", tmp_path / "up")
    assert p.name == "a_b.geojson" and p.read_bytes() == b"{}"
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable zip"):
        check_zip(bad)
