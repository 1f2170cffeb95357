"""Interface strings: every key has both texts, the Chinese one is Chinese, and every
``t("...")`` key the pages use exists (no Streamlit session needed)."""

import re
from pathlib import Path

import pytest

from ui.i18n import STRINGS

UI = Path(__file__).resolve().parents[2] / "ui"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
T_CALL = re.compile(r"""\bt\(\s*(["'])([^"'\n]+)\1""")


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_has_english_and_chinese(key):
    english, chinese = STRINGS[key]
    assert english.strip(), f"{key}: empty English text"
    assert chinese.strip(), f"{key}: empty Chinese text"
    assert CJK.search(chinese), f"{key}: Chinese text without a CJK character: {chinese!r}"


def test_both_texts_take_the_same_placeholders():
    fields = re.compile(r"\{(\w*)\}")
    for key, (english, chinese) in STRINGS.items():
        assert set(fields.findall(english)) == set(fields.findall(chinese)), key


def test_every_key_used_in_the_ui_exists():
    used: dict[str, str] = {}
    for path in sorted(UI.glob("*.py")):
        for match in T_CALL.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(2), path.name)
    assert len(used) > 50  # the scan finds the pages' keys
    missing = {key: where for key, where in used.items() if key not in STRINGS}
    assert not missing, f"keys used but not in STRINGS: {missing}"
