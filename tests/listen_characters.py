"""Which characters each voice reads wrongly, found by listening: an ASR round trip per character.

    .venv/bin/python tests/listen_characters.py      (needs `make test-tools`: Whisper base)

Every candidate (each character the string tables write that is not a plain letter, digit or
kana/kanji, and each one scenes.spoken.UNSPEAKABLE names) is spoken by each default voice inside
a carrier sentence ("Look at % now." / 「ここに%があります。」) and heard back by Whisper base.
It is read right when what is heard is the carrier with the character's reading in its place
(READINGS: "%" is "percent" / パーセント; punctuation has none, it is a pause). A symbol with no
reading of its own (␣, ⋮, _ ...) is never right: skipping it or naming it ("open box") is wrong
for a line that means something by it. The findings, with what was heard and the engine's
version, go to tests/control_data/heard_characters.json; tests/test_narration.py checks that no
spoken line can hold a character found read wrongly, that the findings cover every character
the tables write, and (with the ASR) that a sample heard again is heard the same.
"""

import functools
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

FINDINGS = os.path.join(HERE, "control_data", "heard_characters.json")
VOICE_OF = {"en": "heart", "ja": "jf_alpha"}  # the default voice of each language
CARRIERS = {"en": "Look at {} now.", "ja": "ここに{}があります。"}
# punctuation stands after a sentence as often as inside one (a "。" inside one is no pause)
END_CARRIERS = {"en": "Look at this now{}", "ja": "ここにあります{}"}

# What a character means in our lines, as a voice should say it (any of these; punctuation has
# none: it is a pause). A symbol not here has no reading of its own.
READINGS = {
    "en": {"%": ("percent",), "+": ("plus",), "=": ("equals",), "<": ("less than",), ">": ("greater than",),
           "×": ("times", "by"), "÷": ("divided by",), "√": ("square root",), "∞": ("infinity",), "−": ("minus",),
           "±": ("plus or minus",), "≤": ("less than or equal to",), "≥": ("greater than or equal to",),
           "≈": ("about", "approximately"), "~": ("about",), "→": ("to",), "½": ("a half", "one half"),
           "²": ("squared",), "³": ("cubed",), "Φ": ("phi",), "ε": ("epsilon",), "θ": ("theta",),
           "·": ("times", "dot"), "/": ("over", "slash"), "^": ("to the power of",), "ᵀ": ("transposed",),
           **{chr(0x2080 + digit): (str(digit),) for digit in range(10)}},
    "ja": {"%": ("パーセント",), "+": ("プラス",), "=": ("イコール",), "＝": ("イコール",), "<": ("ショウナリ",),
           ">": ("ダイナリ",), "×": ("カケル",), "÷": ("ワル",), "√": ("ルート",), "∞": ("ムゲンダイ",),
           "−": ("マイナス",), "±": ("プラスマイナス",), "≤": ("イカ",), "≥": ("イジョウ",), "≈": ("ヤク",),
           "~": ("ヤク",), "→": ("カラ",), "½": ("ニブンノイチ",), "²": ("ニジョウ",), "³": ("サンジョウ",),
           "Φ": ("ファイ",), "ε": ("イプシロン",), "θ": ("シータ",), "·": ("カケル", "ト"), "/": ("ワル", "スラッシュ"),
           "^": ("ノ",), "ᵀ": ("テンチ",),
           **{chr(0x2080 + digit): (str(digit),) for digit in range(10)}},
}


def findings():
    """{language: {"voice", "engine", "characters": {character: {"heard", "right"}}}} as last listened."""
    with open(FINDINGS, encoding="utf-8") as file:
        return json.load(file)


@functools.lru_cache(maxsize=None)
def read_wrongly(language):
    """The characters the language's voice was heard reading wrongly: no spoken line may hold one."""
    return frozenset(c for c, found in findings()[language]["characters"].items() if not found["right"])


def is_word_character(character):
    """A letter or digit a voice reads as part of a word: ASCII, kana or kanji."""
    if character.isascii():
        return character.isalnum()
    name = unicodedata.name(character, "")
    return name.startswith(("CJK UNIFIED", "HIRAGANA", "KATAKANA")) and character != "・"


def table_texts():
    """Every text of both string tables, written and spoken (scenes/strings.py, strings_ja.py)."""
    from scenes.strings import SPOKEN, STRINGS

    return [text for table in (*STRINGS.values(), *SPOKEN.values()) for text in table.values()]


def candidates():
    """The characters to listen to, sorted: those the tables write that are no word characters
    (spaces aside), and those UNSPEAKABLE names."""
    from scenes.spoken import UNSPEAKABLE

    written = {character for text in table_texts() for character in text}
    return sorted({c for c in written | UNSPEAKABLE if not c.isspace() and not is_word_character(c)})


def expected_readings(character, language):
    """The words a voice may say for `character` (("",) for punctuation: a pause), or () for a
    symbol with no reading of its own."""
    if character in READINGS[language]:
        return READINGS[language][character]
    return ("",) if unicodedata.category(character).startswith("P") else ()


def heard_right(heard, character, language, carrier=None):
    """Whether `heard` is the carrier with one of the character's readings (compared as the ASR
    tests compare: English word for word, Japanese by its reading in katakana)."""
    from narration_checks import english_words, japanese_reading

    same = english_words if language == "en" else japanese_reading
    carrier = carrier or CARRIERS[language]
    return any(same(heard) == same(carrier.format(reading)) for reading in expected_readings(character, language))


def carriers(character, language):
    """The sentences `character` is heard in: punctuation also after a sentence."""
    if unicodedata.category(character).startswith("P"):
        return [CARRIERS[language], END_CARRIERS[language]]
    return [CARRIERS[language]]


def listen(character, language):
    """{"heard": [what Whisper base hears in each carrier], "right": read right in one of them},
    the language's default voice speaking."""
    from narration_checks import transcribe

    from renderer.voices import RATE, VOICES, synthesise

    heard = []
    for carrier in carriers(character, language):
        speech = synthesise(VOICES[VOICE_OF[language]], carrier.format(character))
        heard.append(transcribe(speech, RATE, language))
    right = any(heard_right(text, character, language, carrier)
                for text, carrier in zip(heard, carriers(character, language)))
    return {"heard": heard, "right": right}


def main():
    from renderer.voices import VOICES

    findings = {}
    for language, voice in VOICE_OF.items():
        heard = {}
        for character in candidates():
            heard[character] = listen(character, language)
            print(f"{voice} {character!r}: {'right' if heard[character]['right'] else 'WRONG'}  "
                  f"heard {heard[character]['heard']}", flush=True)
        findings[language] = {"voice": voice, "engine": VOICES[voice].engine_version(), "characters": heard}
    with open(FINDINGS, "w", encoding="utf-8") as file:
        json.dump(findings, file, ensure_ascii=False, indent=1, sort_keys=True)
        file.write("\n")
    print(f"wrote {FINDINGS}")


if __name__ == "__main__":
    main()
