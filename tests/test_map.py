"""The map: the map scene's sizes are the config's, every scene has a place on it, the corner
map lights that place, stays clear of what a scene draws (at three shapes, in both languages),
and --no-map turns it off (and keys the clip cache)."""

import numpy as np
import pytest
from cli_checks import run_cli
from meanings import expected_value, wrong_numbers
from PIL import Image
from scene_checks import legibility_problems

from renderer.cache import clip_key
from renderer.presets import quality_preset
from renderer.workers import RenderTask
from scenes.base import SceneOptions
from scenes.catalog import CATALOG, SceneInfo, get, names
from scenes.kit.diagram import BLOCK_PARTS, FLOW, PARTS, CornerMap
from scenes.map import path_scenes
from scenes.strings import STRINGS
from scenes.theme import get_theme

THREE_SHAPES = ["nano_sort_trace", "gpt2_twelve_trace", "gpt2_xl_shape_trace"]


# -- where each scene sits ------------------------------------------------------------------------------

def place_problems(info):
    """What is wrong with where a catalog line puts its scene on the map, one line each."""
    where = f"scenes/catalog.py, the line of scene {info.name!r}"
    problems = []
    if info.lights and not set(info.lights) <= set(PARTS):
        problems.append(f"{where}: lights parts the map lacks: {sorted(set(info.lights) - set(PARTS))} "
                        "(scenes/kit/diagram.py PARTS)")
    if info.lights and not (info.heading in STRINGS["en"] and info.heading.endswith(".heading")):
        problems.append(f"{where}: heading={info.heading!r} is not a heading's key in scenes/strings.py")
    return problems


@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_every_scene_has_a_place_on_the_map(info):
    problems = place_problems(info)
    assert not problems, "\n".join(problems)


def test_every_scene_after_the_map_sits_on_it():
    assert names()[:2] == ["title", "map"], "the map comes right after the title (and so do its slides)"
    assert [name for name in names() if not get(name).lights] == ["title", "map"]
    assert [info.name for info in path_scenes()] == names()[2:]


def test_a_wrong_place_names_the_catalog_line():
    wrong = SceneInfo("attention-sinks", "scenes.sinks", "SinksScene", "Sinks.", lights=("attn", "sinks"),
                      heading="sinks.title")
    assert place_problems(wrong) == [
        "scenes/catalog.py, the line of scene 'attention-sinks': lights parts the map lacks: ['sinks'] "
        "(scenes/kit/diagram.py PARTS)",
        "scenes/catalog.py, the line of scene 'attention-sinks': heading='sinks.title' is not a heading's key in "
        "scenes/strings.py"]


def test_a_scene_on_the_map_without_a_heading_is_named_with_where_to_add_it():
    with pytest.raises(ValueError, match="scenes/catalog.py, the line of scene 'attention-sinks': a scene on the map "
                                         "names its heading's string key"):
        SceneInfo("attention-sinks", "scenes.sinks", "SinksScene", "Sinks.", lights=("attn",))


def scene_after_setup(name, trace, options=SceneOptions()):
    """The catalog scene `name`, set up (its furniture built) but not drawn."""
    scene = get(name).load().bind(trace, options)()
    scene.setup()
    return scene


@pytest.mark.parametrize("name", [name for name in names() if get(name).lights])
def test_the_corner_map_lights_the_scenes_place(name, nano_sort_trace):
    check_corner_map(get(name), nano_sort_trace)


def check_corner_map(info, trace):
    """The scene of catalog line `info`, set up, carries the corner map with its `lights` lit."""
    scene_class = info.load().bind(trace)
    scene_class.info = info  # found in CATALOG too; a test's scene is not
    scene = scene_class()
    scene.setup()
    corner, lit = scene.corner_map, set(info.lights)
    assert corner in scene.mobjects
    accent = get_theme("dark").accent.lower()
    on = {part for part, chip in corner.chips.items() if chip.get_fill_color().to_hex().lower() == accent}
    wanted = {part for part in FLOW if part in lit or ("block" in lit and part in BLOCK_PARTS)}
    assert on == wanted
    assert (corner.loop[0].get_stroke_color().to_hex().lower() == accent) == ("loop" in lit)
    assert (corner.outline.get_stroke_color().to_hex().lower() == accent) == ("block" in lit)


def test_the_title_and_the_map_draw_no_corner_map_and_no_map_turns_it_off(nano_sort_trace):
    assert scene_after_setup("title", nano_sort_trace).corner_map is None
    assert scene_after_setup("map", nano_sort_trace).corner_map is None
    scene = scene_after_setup("qkv", nano_sort_trace, SceneOptions(corner_map=False))
    assert scene.corner_map is None and not any(isinstance(mob, CornerMap) for mob in scene.mobjects)


def test_the_corner_map_is_a_strip_a_few_dozen_pixels_high(nano_sort_trace):
    scene = scene_after_setup("softmax", nano_sort_trace)
    pixels_at_1080p = scene.corner_map.height * 1080 / 8
    assert 25 <= pixels_at_1080p <= 60
    assert scene.corner_map.get_bottom()[1] > scene.top, "in the top margin, above everything a scene lays out"


def test_no_map_keys_the_clip_cache():
    def key(corner_map):
        options = dict(language="en", theme="dark", on_screen_captions=True, layer=None, head=None,
                       corner_map=corner_map)
        return clip_key(RenderTask(index=1, scene=get("qkv"), trace_path="/t.safetensors", options=options,
                                   quality=quality_preset("low"), out="/a/05_qkv.mp4"), "ab" * 32)

    assert key(True) != key(False)


def test_no_map_reaches_the_still(capsys, nano_sort_trace_file, tmp_path):
    """The still with --no-map lacks the strip at the top right, and only there differs."""
    pictures = []
    for flag in ("--map", "--no-map"):
        out = tmp_path / f"qkv{flag}.png"
        status, _, stderr = run_cli(capsys, "still", "--scene", "qkv", "--trace", str(nano_sort_trace_file), flag,
                                    "--quality", "low", "--out", str(out))
        assert status == 0, stderr
        pictures.append(np.asarray(Image.open(out).convert("RGB"), dtype=int))
    changed = np.argwhere(np.abs(pictures[0] - pictures[1]).sum(axis=2) > 30)
    assert len(changed) > 100, "--no-map changed nothing"
    assert changed[:, 0].max() < 480 * 0.06 and changed[:, 1].min() > 854 * 0.5, "only the top right strip changes"


# -- the map scene's numbers, and legibility --------------------------------------------------------------

@pytest.mark.parametrize("trace_name", THREE_SHAPES)
def test_every_size_on_the_map_is_the_configs(trace_name, scene_report, scene_trace):
    trace = scene_trace(trace_name)
    report = scene_report(get("map"), trace_name)
    assert not wrong_numbers(trace, report.numbers())
    whole = report.section("whole")
    shown = {number.meaning: number.text for number in whole.numbers}
    c = trace.config
    wanted = {("config", "n_layer"): c["n_layer"], ("config", "n_embd"): c["n_embd"],
              ("config", "vocab_size"): c["vocab_size"], ("n_tokens",): trace.n_prompt_tokens}
    assert {meaning: shown.get(meaning) for meaning in wanted} == {m: f"{v:,}" for m, v in wanted.items()}
    block = {number.meaning: number.text for number in report.section("block").numbers}
    assert block[("config", "n_head")] == f"{c['n_head']:,}" and block[("config", "n_inner")] == f"{c['n_inner']:,}"
    assert block[("d_head",)] == f"{c['n_embd'] // c['n_head']:,}"
    assert expected_value(trace, ("d_head",)) == trace.d_head


def test_gpt2_small_sizes_read_as_a_lecturer_writes_them(scene_report):
    texts = {number.text for number in scene_report(get("map"), "gpt2_twelve_trace").numbers()}
    assert {"768", "12", "64", "3,072", "50,257"} <= texts


def test_the_path_names_every_later_scene_in_order(scene_report):
    words = scene_report(get("map"), "nano_sort_trace").section("path").words
    from scenes.strings import say

    steps = [say("en", "map.step", number=k, name=say("en", info.heading)) for k, info in enumerate(path_scenes(), 1)]
    assert [word for word in words if word in steps] == steps


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("trace_name", THREE_SHAPES)
@pytest.mark.parametrize("scene_name", ["map", "qkv", "layers"])
def test_the_map_and_the_corner_map_are_legible(scene_name, trace_name, language, scene_report):
    report = scene_report(get(scene_name), trace_name, SceneOptions(language=language))
    problems = legibility_problems(report)
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_text_over_the_corner_map(nano_sort_trace):
    from manim import Text
    from scene_checks import covering_the_corner_map

    scene = scene_after_setup("qkv", nano_sort_trace)
    assert covering_the_corner_map(scene, []) == []
    stray = Text("stray", font_size=20).move_to(scene.corner_map)
    assert covering_the_corner_map(scene, [stray]) == ["'stray' covers the corner map"]


def test_a_renamed_subclass_keeps_its_corner_map(nano_sort_trace):
    """A test's subclass (frames_comparison names its own) still finds the scene's place."""
    renamed = type("Renamed", (get("softmax").load().bind(nano_sort_trace),), {})()
    renamed.setup()
    assert renamed.corner_map is not None
