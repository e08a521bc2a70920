"""The characters each voice was heard reading wrongly (tests/listen_characters.py listened to each
one through Whisper base; its findings are tests/control_data/heard_characters.json).

test_narration.assert_speakable refuses a spoken line that holds one of them, on every caption
line of every scene on every check trace. These tests keep the findings true: they cover every
character the string tables write, they are of the voices installed now, and a sample heard
again (with the ASR) is heard the same way.
"""

import pytest

from listen_characters import VOICE_OF, candidates, findings, listen, read_wrongly
from narration_checks import asr_installed

from renderer.voices import VOICES
from scenes.spoken import spoken_form

LANGUAGES = sorted(VOICE_OF)
RELISTEN = "listen again: .venv/bin/python tests/listen_characters.py"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_findings_cover_every_character_the_tables_write(language):
    missing = set(candidates()) - set(findings()[language]["characters"])
    assert not missing, f"never listened to {''.join(sorted(missing))!r} in {language}: {RELISTEN}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_findings_are_of_the_voices_installed_now(language):
    found = findings()[language]
    voice = VOICES[VOICE_OF[language]]
    assert (found["voice"], found["engine"]) == (voice.name, voice.engine_version()), RELISTEN


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_character_heard_wrongly_is_replaced_in_a_spoken_line(language):
    """Wherever the character stands in a caption (between words, after a number), the line the
    voice gets does not hold it."""
    for character in read_wrongly(language):
        for written in (f"A {character} B", f"8{character} 9", f"the{character}end"):
            assert character not in spoken_form(written, language), (language, written, spoken_form(written, language))


def test_the_listening_tells_a_symbol_read_from_one_skipped():
    """The findings can fail: a symbol each voice says ("%" in English) is right, one it skips or
    has no reading for ("√" alone, "␣") is wrong."""
    assert findings()["en"]["characters"]["%"]["right"]
    assert {"√", "␣"} <= read_wrongly("en") and {"√", "␣"} <= read_wrongly("ja")


@pytest.mark.skipif(not asr_installed(), reason="the ASR is not installed: run `make test-tools`")
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sample_heard_again_is_heard_the_same(language):
    """One character found right and one found wrong, spoken and heard again."""
    characters = findings()[language]["characters"]
    right = min(c for c, found in characters.items() if found["right"])
    wrong = min(c for c, found in characters.items() if not found["right"] and c not in ("␣",))
    for character in (right, wrong):
        heard_again = listen(character, language)
        assert heard_again["right"] == characters[character]["right"], (language, character, heard_again["heard"],
                                                                        RELISTEN)
