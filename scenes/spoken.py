"""What a voice is handed: a caption line's spoken form, never its symbols.

A string table line may have a spoken variant (strings.SPOKEN, strings_ja.SPOKEN_JA) where
the written one does not read aloud ("÷ √64 = 8", "W_Q", "(␣ marks a space)"); `say_both`
fills both with the same values, and a scene remembers the spoken one of each line it wrote
(scenes.base.TraceScene.say: Manim's text classes take plain strings only). Then `spoken_form` makes what is left speakable, in the line's language: a token piece
"␣Cabin" reads "Cabin", a byte piece <E3> "a byte piece", "−0.74" "minus 0.74", and so on.
Japanese numbers are written out in kanji (an engine read "8で" as "ワチ"; 八で reads right),
English words in katakana. UNSPEAKABLE lists the characters found read wrongly or not at
all through an ASR round trip (tests/test_narration.py): no spoken line may hold one.

Plain Python: no Manim.
"""

import re
import unicodedata

# Characters a voice reads wrongly or skips (each heard through the ASR round trip, or a symbol
# with no reading): the written line may hold them, the spoken one never.
UNSPEAKABLE = set("␣−√÷×=·∞⋮⋯…→←≈≤≥±^_<>[]{}|~`“”‘’＿＝×÷√∞") | set("₀₁₂₃₄₅₆₇₈₉²³½ᵀεθ")
SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def subscript_digits(match):
    """W₁ -> W 1: a subscript read as its digits (both voices skip or misread the small ones)."""
    return " " + match.group().translate(SUBSCRIPT_DIGITS)


BYTE_PIECES = re.compile(r"(?:<[0-9A-F]{2}>)+")  # partial UTF-8 bytes, as pieces show them (<E3><81>)
CODE_POINT = re.compile(r"U\+[0-9A-F]{4,6}")  # an emoji, as pieces show it


def spoken_form(text, language, spoken=None):
    """The words a voice reads for the caption `text` in `language`: its string table's spoken
    variant `spoken` when it has one, else the written line, made speakable."""
    return (speakable_ja if language == "ja" else speakable_en)(spoken or text)


def spoken_piece(piece, language="en"):
    """A token piece as a voice reads it: its letters (␣ and the cut mark dropped), "a byte
    piece" for partial bytes, "an emoji" for a code point, "a symbol" for punctuation only."""
    ja = language == "ja"
    text = piece.replace("␣", " ").replace("…", "").strip()
    if BYTE_PIECES.fullmatch(text):
        return "バイトのかけら" if ja else "a byte piece"
    if CODE_POINT.fullmatch(text):
        return "絵文字" if ja else "an emoji"
    if not any(character.isalnum() for character in text):
        return "記号" if ja else "a symbol"
    return text


# -- English ----------------------------------------------------------------------------------

EN_WORDS = [  # (pattern, words), applied in order
    (r"−∞|-∞", "minus infinity"),
    (r"∞", "infinity"),
    (r"√\s*(\d+)", r"the square root of \1"),
    (r"\s*÷\s*", " divided by "),
    (r"(?<=\d)\s*×\s*(?=\d)", " by "),
    (r"\s*×\s*", " times "),
    (r"\s*·\s*", " dot "),
    (r"\s*=\s*", " equals "),
    (r"\s*→\s*", " to "),
    (r"(?<![A-Za-z])[−-](?=\d)", "minus "),  # not GPT-2's hyphen
    (r"(?<=\w)[₀]", " zero"),
    (r"[₀-₉]+", subscript_digits),
    (r"²", " squared"), (r"³", " cubed"), (r"½", " a half"),
    (r"ε", "epsilon"),
    (r"\bW_([A-Za-z0-9]+)", r"W \1"),
    (r"_", " "),
]


# A voice reads its own language's letters (and Latin ones): a piece in another script is named
# by its script, a symbol outside ASCII is "a symbol", ASCII symbols are read as words or dropped.
SCRIPT_NAMES = {
    "en": {"HEBREW": "a Hebrew piece", "ARABIC": "an Arabic piece", "DEVANAGARI": "a Devanagari piece",
           "THAI": "a Thai piece", "HIRAGANA": "a Japanese piece", "KATAKANA": "a Japanese piece",
           "CJK": "a Chinese character piece", "HANGUL": "a Korean piece", "CYRILLIC": "a Cyrillic piece",
           "GREEK": "a Greek piece", None: "a foreign piece", "symbol": "a symbol"},
    "ja": {"HEBREW": "ヘブライ文字のかけら", "ARABIC": "アラビア文字のかけら", "DEVANAGARI": "デーヴァナーガリー文字のかけら",
           "THAI": "タイ文字のかけら", "HANGUL": "ハングルのかけら", "CYRILLIC": "キリル文字のかけら",
           "GREEK": "ギリシャ文字のかけら", None: "外国の文字のかけら", "symbol": "記号"},
}
OWN_SCRIPTS = {"en": ("LATIN",), "ja": ("LATIN", "CJK", "HIRAGANA", "KATAKANA", "FULLWIDTH", "HALFWIDTH")}
ASCII_SYMBOLS = {
    "en": {"&": " and ", "$": " dollar ", "#": " hash ", "@": " at ", "+": " plus ", "*": " star ", "/": " slash ",
           "\\": " backslash "},
    "ja": {"&": "アンド", "$": "ドル", "#": "シャープ", "@": "アット", "+": "プラス", "*": "アスタリスク", "/": "スラッシュ",
           "\\": "バックスラッシュ"},
}
DROPPED_SYMBOLS = '"<>{}[]|~`^'


def foreign_letter(character, language):
    """A letter of a script the voice of `language` does not read."""
    return (ord(character) >= 128 and character.isalpha()
            and not unicodedata.name(character, "").startswith(OWN_SCRIPTS[language]))


def name_foreign_pieces(text, language):
    """Each run of letters in a script the voice does not read (with the marks on them) named
    by its script ("a Hebrew piece"), any other symbol outside ASCII "a symbol", the ASCII
    symbols read as words or dropped."""
    names, out, start = SCRIPT_NAMES[language], [], 0
    for index, character in enumerate(text + " "):
        marked = index > start and unicodedata.category(character).startswith("M")
        if index < len(text) and (foreign_letter(character, language) or marked):
            continue
        if index > start:
            script = unicodedata.name(text[start], "").split(" ")[0]
            out.append(f" {names.get(script, names[None])} ")
        if index < len(text):
            kind = unicodedata.category(character)[0] if ord(character) >= 128 else ""
            out.append(f" {names['symbol']} " if kind in ("S", "C") else "" if kind == "M" else character)
        start = index + 1
    text = "".join(out)
    for symbol, words in ASCII_SYMBOLS[language].items():
        text = text.replace(symbol, words)
    return re.sub(f"[{re.escape(DROPPED_SYMBOLS)}]", " ", text)


def speakable_en(text):
    text = BYTE_PIECES.sub("a byte piece", text)
    text = CODE_POINT.sub("an emoji", text)
    text = text.replace("␣", "")
    for pattern, words in EN_WORDS:
        text = re.sub(pattern, words, text)
    text = re.sub(r"[“”‘’]", lambda match: "'" if match.group() == "’" else "", text)
    text = re.sub(r"[…⋮⋯]", "", text)
    return tidy(name_foreign_pieces(unicodedata.normalize("NFC", text), "en"))


# -- Japanese ---------------------------------------------------------------------------------

JA_WORDS = [  # English words and symbols in katakana and kana (the engine spells Latin letters out)
    (r"−∞|-∞", "マイナス無限大"), (r"∞", "無限大"), (r"√\s*", "ルート"), (r"\s*÷\s*", "割る"),
    (r"\s*×\s*", "かける"), (r"\s*=\s*", "イコール"), (r"\s*·\s*", "と"), (r"\s*→\s*", "から"),
    (r"(?<![A-Za-z])[−-](?=\d)", "マイナス"), (r"ε", "イプシロン"),
    (r"LayerNorm", "レイヤーノルム"), (r"MLP", "エムエルピー"), (r"GELU", "ジェル"), (r"GPT-2", "ジーピーティーツー"),
    (r"\bID", "アイディー"), (r"top-k", "トップケー"), (r"top-p", "トップピー"), (r"W_[A-Za-z0-9]+", "重み行列"),
    (r"x₀", "エックスゼロ"), (r"[₀-₉]+", subscript_digits), (r"²", "の二乗"), (r"³", "の三乗"), (r"½", "二分の一"),
    (r"(?<![A-Za-z])x(?![A-Za-z])", "エックス"), (r"(?<![A-Za-z])q(?![A-Za-z])", "キュー"),
    (r"(?<![A-Za-z])k(?![A-Za-z])", "ケー"), (r"(?<![A-Za-z])v(?![A-Za-z])", "ブイ"),
    (r"(?<![A-Za-z])z(?![A-Za-z])", "ゼット"), (r"(?<![A-Za-z])u(?![A-Za-z])", "ユー"),
    (r"(?<![A-Za-z])e(?![A-Za-z])", "イー"), (r"_", " "),
]
KANJI_DIGITS = "〇一二三四五六七八九"
KANJI_UNITS = [(10**8, "億"), (10**4, "万")]


def kanji_number(n):
    """A whole number 0 <= n < 10**12 in kanji numerals: 52 -> 五十二, 50257 -> 五万二百五十七."""
    if n == 0:
        return "零"
    out = ""
    for unit, name in KANJI_UNITS:
        if n >= unit:
            out += _below_10000(n // unit) + name
            n %= unit
    return out + (_below_10000(n) if n else "")


def _below_10000(n):
    out = ""
    for value, name in ((1000, "千"), (100, "百"), (10, "十")):
        digit, n = divmod(n, value)
        if digit:
            out += ("" if digit == 1 else KANJI_DIGITS[digit]) + name
    return out + (KANJI_DIGITS[n] if n else "")


def _ja_number(match):
    whole, fraction = match.group(1).replace(",", ""), match.group(2)
    spoken = kanji_number(int(whole))
    if fraction:
        spoken += "点" + "".join(KANJI_DIGITS[int(digit)] for digit in fraction)
    return spoken


def speakable_ja(text):
    text = BYTE_PIECES.sub("バイトのかけら", text)
    text = CODE_POINT.sub("絵文字", text)
    text = text.replace("␣", "")
    for pattern, words in JA_WORDS:
        text = re.sub(pattern, words, text)
    text = re.sub(r"(\d[\d,]*)(?:\.(\d+))?", _ja_number, text)
    text = re.sub(r"%", "パーセント", text)
    text = re.sub(r"[“”‘’…⋮⋯]", "", text)
    text = name_foreign_pieces(unicodedata.normalize("NFC", text), "ja")
    return tidy(re.sub(r"\s*([「」（）、。])\s*", r"\1", text))  # no space beside Japanese punctuation


def tidy(text):
    """One space between words, none before punctuation, no empty brackets."""
    text = re.sub(r"\(\s*\)|（\s*）", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.;:!?、。])", r"\1", text)
