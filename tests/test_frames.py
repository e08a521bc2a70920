"""Last-frame comparison tests: the look of key frames, pinned with Manim's frames_comparison.

The control frames live in tests/control_data/scene_frames/ (854x480, compared with
Manim's tolerance). After a deliberate change of look, write them anew with

    .venv/bin/python -m pytest tests/test_frames.py --set_test

and look at the new PNGs (written beside the .npz files) before committing them.
Manim's decorator reads the pytest options --set_test and --show_diff, which
tests/conftest.py registers as Manim's own test suite does. The pinned traces are
deterministic: nano-sort's trained weights with greedy decoding, and GPT-2's real
tokenizer (the token IDs do not depend on the random weights).
"""

import os

import numpy as np
import pytest
from manim.utils.testing import frames_comparison as manim_frames
from manim.utils.testing.frames_comparison import frames_comparison
from PIL import Image

from scenes.base import SceneOptions
from scenes.catalog import get

__module_test__ = "scene_frames"  # control data folder: tests/control_data/scene_frames/

# Manim skips these tests below Cairo 1.18 because its own control frames were drawn with
# 1.18; ours are drawn here, by the Cairo this project runs on (1.16 on Debian 12), so the
# comparison is like with like. A machine with another Cairo, Pango or font version can
# differ by a few anti-aliased pixels: regenerate the control data there.
manim_frames.MIN_CAIRO_VERSION = 0


# The scenes' own frames are pinned without the corner map (its frames are pinned on their own below),
# so a change of the map does not redraw every control frame.
NO_MAP = SceneOptions(corner_map=False)


def compare_last_frame(test_name, scene_name, trace, request, tmp_path, options=NO_MAP):
    """Draw `scene_name` on `trace` to its last frame and compare it with the control frame."""
    bound = get(scene_name).load().bind(trace, options)

    def construct(scene):
        bound.construct(scene)

    construct.__name__ = f"test_{test_name}"
    check = frames_comparison(construct, base_scene=bound, pixel_width=854, pixel_height=480)
    check(request=request, tmp_path=tmp_path)
    if request.config.getoption("--set_test"):  # a PNG beside the control data, to look at before committing
        control = os.path.join(os.path.dirname(__file__), "control_data", __module_test__, f"{test_name}.npz")
        Image.fromarray(np.load(control)["frame_data"][-1]).save(control.replace(".npz", ".png"))


@pytest.mark.parametrize("scene_name", ["title", "tokens", "softmax", "prediction", "loop"])
def test_nano_sort_frame(scene_name, nano_sort_trace, request, tmp_path):
    compare_last_frame(f"nano_sort_{scene_name}", scene_name, nano_sort_trace, request, tmp_path)


def test_gpt2_tokens_frame_light_theme(gpt2_vocab_checkpoint, request, tmp_path):
    from tracer.models import load_model
    from tracer.record import trace_prompt

    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "日本語 and\ttabs 😀", generate=0)
    compare_last_frame("gpt2_tokens_light", "tokens", trace, request, tmp_path,
                       SceneOptions(theme="light", corner_map=False))


@pytest.mark.parametrize("scene_name", ["map", "softmax"])
def test_nano_sort_frame_with_the_map(scene_name, nano_sort_trace, request, tmp_path):
    """The map scene, and a later scene with the corner map lighting its part."""
    name = "nano_sort_map" if scene_name == "map" else f"nano_sort_{scene_name}_corner_map"
    compare_last_frame(name, scene_name, nano_sort_trace, request, tmp_path, SceneOptions())
