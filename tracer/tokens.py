"""Tokenizers as the tracer uses them: text -> IDs, and IDs -> piece strings and raw bytes.

GPT-2's byte-level BPE writes each byte as a printable character ("Ġ" is a space), so a
piece's raw bytes come from inverting that byte -> character table, which transformers
provides. A Japanese character or an emoji is often split across pieces; the bytes let
the video show which pieces make up which character.
"""

from transformers.convert_slow_tokenizer import bytes_to_unicode

from tracer.errors import UserError

_BYTE_OF_CHAR = {char: byte for byte, char in bytes_to_unicode().items()}


class HuggingFaceTokens:
    """A byte-level BPE tokenizer from transformers (GPT-2's, or a checkpoint's own)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def encode(self, text):
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def __len__(self):  # every ID it can give, added tokens included
        return len(self.tokenizer)

    def pieces(self, ids):
        return self.tokenizer.convert_ids_to_tokens(list(ids))

    def piece_bytes(self, ids):
        return [_piece_to_bytes(piece) for piece in self.pieces(ids)]


def _piece_to_bytes(piece):
    if all(char in _BYTE_OF_CHAR for char in piece):
        return bytes(_BYTE_OF_CHAR[char] for char in piece)
    return piece.encode("utf-8")  # a special token such as <|endoftext|>


class LetterTokens:
    """One token per letter (the bundled nano-sort model): "CBABBC" -> [2, 1, 0, 1, 1, 2].

    Spaces between letters are allowed and ignored, so "C B A B B C" works too.
    """

    def __init__(self, letters):
        self.letters = letters

    def encode(self, text):
        letters = "".join(text.split())
        unknown = sorted({char for char in letters if char not in self.letters})
        if unknown:
            shown = ", ".join(repr(char) for char in unknown)
            allowed = ", ".join(self.letters)
            raise UserError(f"this model knows only the letters {allowed} (spaces are ignored); got {shown}")
        return [self.letters.index(char) for char in letters]

    def __len__(self):
        return len(self.letters)

    def pieces(self, ids):
        return [self.letters[i] for i in ids]

    def piece_bytes(self, ids):
        return [piece.encode("utf-8") for piece in self.pieces(ids)]
