"""Manim scenes that draw a Trace. Nothing here imports torch: scenes read only the Trace.

`scenes.catalog` (no Manim import) lists the scenes in storyboard order; each scene is a
`scenes.base.TraceScene` subclass bound to one Trace and its options.
"""
