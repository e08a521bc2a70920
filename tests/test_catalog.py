"""The catalog: what each scene follows matches its base class, the storyboard's shape,
and a scene added to a copy of the catalog is picked up and checked like every other."""

import pytest
from example_scenes import EXAMPLE, MISSING_KEY, UNTAGGED_NUMBER, WRONG_NUMBER
from meanings import wrong_numbers
from scene_checks import (LANGUAGE_TRACES, key_problems, legibility_problems, render_problems, scene_cases,
                          untagged_problems)

from scenes import base
from scenes.catalog import CATALOG, FOLLOWS


def every_problem(report, trace):
    """What the per-scene tests (test_scenes, test_legibility, test_scene_numbers) check."""
    return (render_problems(report) + key_problems(report) + legibility_problems(report) + untagged_problems(report)
            + wrong_numbers(trace, report.numbers()))


@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_what_a_scene_follows_is_its_base_class(info):
    scene_class = info.load()
    expected = getattr(base, FOLLOWS[info.follows])
    assert issubclass(scene_class, expected), f"{info.name} follows {info.follows} but is no {expected.__name__}"
    deeper = [getattr(base, name) for name in FOLLOWS.values() if getattr(base, name) is not expected
              and issubclass(getattr(base, name), expected)]
    assert not any(issubclass(scene_class, cls) for cls in deeper), f"{info.name} follows more than {info.follows}"


def test_the_storyboard_opens_with_the_title_and_the_deep_dive_is_one_run():
    names = [info.name for info in CATALOG]
    assert names[0] == "title" and len(set(names)) == len(names)
    following = [i for i, info in enumerate(CATALOG) if info.follows is not None]
    assert following == list(range(following[0], following[-1] + 1)), "scenes that follow a layer stay together"


def test_a_scene_added_to_the_catalog_is_checked_like_every_other(scene_report, scene_trace):
    catalog = [*CATALOG, EXAMPLE]
    cases = [param.values for param in scene_cases(catalog)]
    assert [(name, options.language) for info, name, options in cases if info is EXAMPLE] == \
        [(name, language) for language, names in LANGUAGE_TRACES.items() for name in names]
    for trace_name in ("nano_sort_trace", "gpt2_twelve_trace"):
        report = scene_report(EXAMPLE, trace_name)
        assert [len(section.numbers) for section in report.sections] == [12, 12] and report.keys, "checked"
        assert every_problem(report, scene_trace(trace_name)) == []


@pytest.mark.parametrize("info, wanted", [
    (MISSING_KEY, "uses the string key 'example.not_in_any_table', which a string table lacks"),
    (UNTAGGED_NUMBER, "a number that says nothing of where it comes from: '4.20'"),
    (WRONG_NUMBER, "shows 1234.50, the Trace says"),
], ids=lambda value: getattr(value, "name", ""))
def test_the_checks_fail_a_broken_scene(info, wanted, scene_report, nano_sort_trace):
    problems = every_problem(scene_report(info, "nano_sort_trace"), nano_sort_trace)
    assert any(wanted in problem for problem in problems), problems
