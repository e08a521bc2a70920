"""The sampling scene shows the step as the tracer recorded it (transformers' warpers), also when
more tokens survive the cuts than the step records slices for (the tail is one block)."""

from meanings import wrong_numbers
from scene_checks import check_scene, untagged_problems

from scenes.catalog import get
from scenes.readouts import Sampling
from tracer.models import load_model
from tracer.record import trace_prompt
from tracer.sampling import N_SLICES, Sampling as Settings


def test_a_long_tail_is_drawn_as_one_block_with_every_number_the_traces(gpt2_vocab_checkpoint, tmp_path):
    # random weights at temperature 3 with no top-p cut: nearly every one of 5000 kept tokens survives
    trace = trace_prompt(load_model(str(gpt2_vocab_checkpoint)), "Once upon a time", generate=1,
                         sampling=Settings(temperature=3.0, top_k=5000, top_p=1.0, seed=4))
    step = trace.steps[0]
    assert step["kept_top_k"] == 5000 and step["kept"] > N_SLICES and len(step["slices"]) == N_SLICES
    view = Sampling(trace)
    assert view.kept_by_k == 5000 and view.tail == step["kept"] - N_SLICES
    start, end = view.slice
    assert start <= step["draw"] < end and abs(end - start - step["chosen"]["prob_final"]) < 1e-12
    report = check_scene(get("sampling"), trace, tmp_path)
    problems = untagged_problems(report) + wrong_numbers(trace, report.numbers())
    assert not problems, "\n".join(problems)
