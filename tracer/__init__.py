"""Runs a GPT-2-family model and records its intermediates.

Importing this package is cheap: `tracer.trace` (the Trace file format) needs only
NumPy and safetensors, so scenes can read a Trace without importing torch. The parts
that run models (`tracer.record`, `tracer.models`) import torch when they are imported.
"""
