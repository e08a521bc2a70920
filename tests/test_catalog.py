"""The catalog: what each scene follows matches its base class, the storyboard's shape,
and a scene added to the catalog is picked up and checked like every other: one added in
the three files the README names (its file, its catalog line, its strings) passes every
check the suite runs over the whole catalog."""

import pytest
from example_scenes import (EXAMPLE, MISSING_KEY, OFF_FRAME, POSITIONS, POSITIONS_STRINGS, TEXT_NUMBER,
                            UNDER_CAPTION, UNTAGGED_NUMBER, WRONG_NUMBER)
from meanings import wrong_numbers
from scene_checks import (LANGUAGE_TRACES, check_scene, key_problems, legibility_problems, render_problems,
                          scene_cases, untagged_problems)
from test_languages import table_problems, untranslated
from test_lazy_trace import check_reads
from test_map import check_corner_map, place_problems
from test_scenes import twin_keys

from renderer.balance import UNKNOWN_SECONDS, estimated_seconds, longest_first
from renderer.presets import quality_preset
from renderer.workers import RenderTask
from scenes import base, catalog, strings
from scenes.catalog import CATALOG, FOLLOWS


def every_problem(report, trace):
    """What the per-scene tests (test_scenes, test_legibility, test_scene_numbers) check."""
    return (render_problems(report) + key_problems(report) + legibility_problems(report) + untagged_problems(report)
            + wrong_numbers(trace, report.numbers()))


def follows_problems(info):
    """Its catalog line's `follows` against the scene's base class."""
    scene_class = info.load()
    expected = getattr(base, FOLLOWS[info.follows])
    where = f"scenes/catalog.py, the line of scene {info.name!r}, says follows={info.follows!r}"
    if not issubclass(scene_class, expected):
        return [f"{where}, but {info.class_name} is no {expected.__name__}"]
    deeper = [getattr(base, name) for name in FOLLOWS.values() if getattr(base, name) is not expected
              and issubclass(getattr(base, name), expected)]
    return [f"{where}, but {info.class_name} is a {cls.__name__}" for cls in deeper if issubclass(scene_class, cls)]


def storyboard_problems(scenes):
    names = [info.name for info in scenes]
    problems = [] if names[0] == "title" else ["the storyboard opens with the title"]
    problems += [f"scenes/catalog.py: two lines are named {name!r}" for name in set(names) if names.count(name) > 1]
    following = [i for i, info in enumerate(scenes) if info.follows is not None]
    if following != list(range(following[0], following[-1] + 1)):
        problems.append("scenes/catalog.py: the scenes that follow a layer stay together")
    return problems


@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_what_a_scene_follows_is_its_base_class(info):
    assert follows_problems(info) == []


def test_the_storyboard_opens_with_the_title_and_the_deep_dive_is_one_run():
    assert storyboard_problems(CATALOG) == []
    assert "the scenes that follow a layer stay together" in storyboard_problems(
        [*CATALOG[:3], catalog.get("mlp"), *CATALOG[3:]])[-1]


def test_a_scene_added_to_the_catalog_is_checked_like_every_other(scene_report, scene_trace):
    catalog = [*CATALOG, EXAMPLE]
    cases = [param.values for param in scene_cases(catalog)]
    assert [(name, options.language) for info, name, options in cases if info is EXAMPLE] == \
        [(name, language) for language, names in LANGUAGE_TRACES.items() for name in names]
    for trace_name in ("nano_sort_trace", "gpt2_twelve_trace"):
        report = scene_report(EXAMPLE, trace_name)
        assert [len(section.numbers) for section in report.sections] == [12, 12] and report.keys, "checked"
        assert every_problem(report, scene_trace(trace_name)) == []


@pytest.fixture
def positions_added(monkeypatch):
    """POSITIONS added as a contributor adds a scene: its line in the catalog (after the
    embeddings) and its strings in both tables (copies of them, for this test)."""
    for language, added in POSITIONS_STRINGS.items():
        monkeypatch.setitem(strings.STRINGS, language, {**strings.STRINGS[language], **added})
    CATALOG.insert(catalog.names().index("embeddings") + 1, POSITIONS)
    yield CATALOG
    CATALOG.remove(POSITIONS)


def test_a_scene_added_in_three_files_passes_every_catalog_wide_check(positions_added, scene_report, scene_trace,
                                                                      nano_sort_trace_file, tmp_path):
    assert catalog.get("positions") is POSITIONS and catalog.names().index("positions") == 4
    # the catalog (test_catalog), the string tables (test_languages, test_scenes), the map (test_map)
    assert follows_problems(POSITIONS) + storyboard_problems(positions_added) + place_problems(POSITIONS) == []
    assert table_problems("ja") == [] and untranslated() == []
    for language, added in POSITIONS_STRINGS.items():  # its sentences say what no other key says
        assert [keys for keys in twin_keys(strings.STRINGS[language]) if set(keys) & set(added)] == []
    check_corner_map(POSITIONS, scene_trace("nano_sort_trace"))
    # what it reads (test_lazy_trace), and the balancer's estimate before its first render (test_balance)
    check_reads(str(nano_sort_trace_file), tmp_path / "reads", POSITIONS)
    task = RenderTask(index=5, scene=POSITIONS, trace_path="t.safetensors", options={}, quality=quality_preset("low"),
                      out="05_positions.mp4")
    assert estimated_seconds(task, {}) == UNKNOWN_SECONDS
    assert task in longest_first([task])
    # every trace, both languages (test_scenes, test_legibility, test_scene_numbers)
    for param in scene_cases([POSITIONS]):
        info, trace_name, options = param.values
        report = scene_report(info, trace_name, options)
        assert report.numbers() and report.keys, "checked"
        assert every_problem(report, scene_trace(trace_name)) == [], (trace_name, options.language)
    # and the map scene, whose path now shows it
    report = check_scene(catalog.get("map"), scene_trace("nano_sort_trace"), tmp_path / "map")
    assert every_problem(report, scene_trace("nano_sort_trace")) == []
    assert strings.say("en", "map.step", number=3, name="Positions") in report.section("path").words


@pytest.mark.parametrize("info, wanted", [
    (MISSING_KEY, "uses the string key 'example.not_in_any_table', which a string table lacks: add it to "
                  "scenes/strings.py, scenes/strings_ja.py"),
    (UNTAGGED_NUMBER, "a number that says nothing of where it comes from: '4.20'"),
    (WRONG_NUMBER, "shows 1234.50, the Trace says"),
    (TEXT_NUMBER, "'the largest value is 3.14 here' has the digits '3.14' typed into it: tag the number "
                  "(kit.numbers.value_text with its meaning) or put it in a string table placeholder"),
    (OFF_FRAME, "outside the frame: ImageMobject at x 6.00..9.00"),
    (UNDER_CAPTION, "on the caption line: ImageMobject at y"),
], ids=lambda value: getattr(value, "name", ""))
def test_the_checks_fail_a_broken_scene(info, wanted, scene_report, nano_sort_trace):
    problems = every_problem(scene_report(info, "nano_sort_trace"), nano_sort_trace)
    assert any(wanted in problem for problem in problems), problems
