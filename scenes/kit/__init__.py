"""Manim building blocks the scenes share, one family per module.

text (user text shown safely, fonts, wrapping), numbers (formats, the glyph cache),
tokens (chips, the window onto long prompts), colour (maps, legends, images), vectors
(VectorRow, MatrixBlock), grid (TokenGrid), charts (probability bars), motion (Glide, Fade),
shapes (rounded boxes built once and copied).
Nothing here knows a particular scene; everything takes the theme it draws with.
"""
