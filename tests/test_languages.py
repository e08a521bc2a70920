"""Languages on screen: every table has the same keys and placeholders, --lang reaches the
scenes, and a missing Japanese font is named rather than drawn as white boxes."""

import re
import string
import subprocess

import pytest
from cli_checks import assert_one_line_error, run_cli

from scenes.base import SceneOptions
from scenes.catalog import get
from scenes.strings import STRINGS, say


def placeholders(template):
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def table_problems(language):
    """What a language's table lacks or has beyond English's, and keys whose placeholders differ."""
    english, table = STRINGS["en"], STRINGS[language]
    problems = [f"{language}: {key!r} is in only one of the tables" for key in sorted(set(table) ^ set(english))]
    problems += [f"{language}: placeholders differ from English in {key!r}" for key in english
                 if key in table and placeholders(table[key]) != placeholders(english[key])]
    return problems


def untranslated():
    """No English left in the Japanese table: every string with words in it (placeholders
    aside, "ID {token_id}" has none) has kana or kanji; a formula (GELU's) is the same in
    both languages."""
    def letters(text):
        return sum(c.isalpha() for c in re.sub(r"\{[^}]*\}", "", text))

    def japanese(text):
        return any("\u3040" <= c <= "\u9fff" for c in text)

    return [key for key, text in STRINGS["ja"].items()
            if letters(text) >= 4 and ".formula" not in key and not japanese(text)]


@pytest.mark.parametrize("language", sorted(set(STRINGS) - {"en"}))
def test_every_table_has_the_same_keys_and_placeholders(language):
    problems = table_problems(language)
    assert not problems, "\n".join(problems)


def test_japanese_is_written_in_japanese():
    assert not untranslated(), untranslated()


def test_the_scenes_speak_the_language_asked_for(scene_report):
    report = scene_report(get("title"), "nano_sort_trace", SceneOptions(language="ja"))
    assert say("ja", "title.heading") in report.words() and say("en", "title.heading") not in report.words()


def test_lang_reaches_the_still(capsys, nano_sort_trace_file, tmp_path):
    out = tmp_path / "title-ja.png"
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", str(nano_sort_trace_file), "--lang",
                                "ja", "--quality", "low", "--out", str(out))
    assert status == 0, stderr
    assert out.stat().st_size > 1000


def test_a_missing_japanese_font_is_named(capsys, nano_sort_trace_file, tmp_path, monkeypatch):
    real_run = subprocess.run

    def fonts_without_cjk(command, *args, **kwargs):
        if command[0] == "fc-list":
            return subprocess.CompletedProcess(command, 0, stdout="DejaVu Sans\nDejaVu Sans Mono\n", stderr="")
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", fonts_without_cjk)
    out = tmp_path / "title-ja.png"
    status, _, stderr = run_cli(capsys, "still", "--scene", "title", "--trace", str(nano_sort_trace_file), "--lang",
                                "ja", "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, "fonts-noto-cjk")
    assert not out.exists()
    status, _, _ = run_cli(capsys, "still", "--scene", "title", "--trace", str(nano_sort_trace_file), "--quality",
                           "low", "--out", str(out))
    assert status == 0, "English needs no CJK font"
