"""Scenes to files: quality presets, Manim settings, worker processes, joining, publishing, progress.

Data flows one way: the command line hands this package a Trace and catalog entries
(scenes.catalog.SceneInfo); it renders them and writes files. Nothing here imports torch:
a worker process reads the Trace from its .safetensors file. The one exception is
commands.run_tracer, the commands' step that runs a model: it imports the tracer when it
runs. Manim and PyAV are imported inside the functions that use them, so every module here
imports in an instant (`render.py --help` reads the presets).
"""
