"""Korean place names in the Latin alphabet by the Revised Romanization of Korean (2000).

Enough of the rules for administrative names: syllables by initial, vowel and final; a final
consonant carried over to a following silent ``ㅇ``; ``ㄹ`` read ``n`` after most finals and ``l``
after ``ㄴ``/``ㄹ``; nasal assimilation before ``ㄴ``/``ㅁ``; the unit suffix written apart with a
hyphen and not assimilated ("종로구" -> "Jongno-gu", "강릉시" -> "Gangneung-si", "신안군" ->
"Sinan-gun"). Pure; no data files.
"""

_INITIALS = (
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
)
_VOWELS = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae",
    "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
_FINALS = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l",
    "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip
_CARRIED = {
    1: "g",
    2: "kk",
    4: "n",
    7: "d",
    8: "r",
    17: "b",
    19: "s",
    20: "ss",
    22: "j",
    23: "ch",
    25: "t",
    26: "p",
}
"""Finals that move to a following silent initial (ㄱ ㄲ ㄴ ㄷ ㄹ ㅂ ㅅ ㅆ ㅈ ㅊ ㅌ ㅍ)."""
_UNITS = {"시": "si", "군": "gun", "구": "gu", "도": "do", "읍": "eup", "면": "myeon", "동": "dong"}
_FIRST, _LAST = 0xAC00, 0xD7A3
_N, _R, _M, _SILENT = 2, 5, 6, 11


def _syllables(word: str) -> list[tuple[int, int, int] | str]:
    parts: list[tuple[int, int, int] | str] = []
    for char in word:
        code = ord(char)
        if _FIRST <= code <= _LAST:
            index = code - _FIRST
            parts.append((index // 588, index % 588 // 28, index % 28))
        else:
            parts.append(char)
    return parts


def _initial(initial: int, previous_final: int) -> tuple[str, str | None]:
    """The initial's letters after ``previous_final``, and the final's letters when they change."""
    if initial == _SILENT and previous_final in _CARRIED:
        return _CARRIED[previous_final], ""
    if initial == _R:
        if previous_final in (4, 8):  # ㄴ or ㄹ before ㄹ: ll
            return "l", "l"
        if previous_final:
            return "n", _assimilated(previous_final)
    if initial in (_N, _M):
        if previous_final == 8 and initial == _N:  # ㄹ + ㄴ: ll
            return "l", "l"
        if previous_final:
            return _INITIALS[initial], _assimilated(previous_final)
    return _INITIALS[initial], None


def _assimilated(final: int) -> str:
    """A final before a nasal: ㄱ-type -> ng, ㄷ-type -> n, ㅂ-type -> m, others unchanged."""
    letters = _FINALS[final]
    return {"k": "ng", "t": "n", "p": "m"}.get(letters, letters)


def romanize_word(word: str) -> str:
    """One word (no unit suffix handling), lower case."""
    out: list[str] = []
    previous_final = 0
    for part in _syllables(word):
        if isinstance(part, str):
            out.append(part)
            previous_final = 0
            continue
        initial, vowel, final = part
        letters, changed_final = _initial(initial, previous_final)
        if changed_final is not None and out:
            out[-1] = out[-1][: len(out[-1]) - len(_FINALS[previous_final])] + changed_final
        out.append(letters + _VOWELS[vowel] + _FINALS[final])
        previous_final = final
    return "".join(out)


def romanize_place(name: str) -> str:
    """An administrative name: "수원시 장안구" -> "Suwon-si Jangan-gu", "중구" -> "Jung-gu"."""
    words = []
    for word in name.split():
        unit = _UNITS.get(word[-1]) if len(word) > 1 else None
        stem = word[:-1] if unit else word
        latin = romanize_word(stem)
        latin = latin[:1].upper() + latin[1:]
        words.append(f"{latin}-{unit}" if unit else latin)
    return " ".join(words)
