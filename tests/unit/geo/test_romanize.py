"""Sigungu names in the Revised Romanization: the English page shows them instead of Hangul."""

import pytest

from hwarang.geo.regions import default_catalog
from hwarang.geo.romanize import romanize_place


@pytest.mark.parametrize(
    ("korean", "latin"),
    [
        ("종로구", "Jongno-gu"),  # ㅇ + ㄹ -> ngn
        ("강릉시", "Gangneung-si"),
        ("울릉군", "Ulleung-gun"),  # ㄹ + ㄹ -> ll
        ("신안군", "Sinan-gun"),  # a final carried over to a silent initial
        ("철원군", "Cheorwon-gun"),
        ("백령면", "Baengnyeong-myeon"),  # ㄱ + ㄹ -> ngn
        ("대관령", "Daegwallyeong"),  # ㄴ + ㄹ -> ll
        ("의정부시", "Uijeongbu-si"),
        ("수원시 장안구", "Suwon-si Jangan-gu"),
        ("중구", "Jung-gu"),
    ],
)
def test_names_follow_the_revised_romanization(korean: str, latin: str) -> None:
    assert romanize_place(korean) == latin


def test_every_sigungu_has_a_latin_name() -> None:
    for region in default_catalog().sigungus():
        latin = romanize_place(region.name)
        assert latin.isascii() and latin[:1].isupper(), (region.code, region.name, latin)
