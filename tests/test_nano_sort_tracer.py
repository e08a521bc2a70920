"""nano-sort everywhere the tracer takes a model: its tokenizer, the context rule, the CLI."""

import pytest

from tracer.errors import UserError
from tracer.models import load_model
from tracer.record import trace_prompt
from tracer.sampling import Sampling
from tracer.trace import Trace
from cli_checks import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def nano_sort():
    return load_model("nano-sort")


def test_trace_records_the_sort(nano_sort_trace):
    trace = nano_sort_trace
    assert trace.tokens == list("CBABBCABBBCC") and trace.token_ids == [2, 1, 0, 1, 1, 2, 0, 1, 1, 1, 2, 2]
    assert trace.generated_text == "ABBBCC"
    assert trace.model == "nano-sort" and trace.pretrained is True and "sort" in trace.weights
    assert trace.config["n_layer"] == 3 and trace.config["n_head"] == 3 and trace.config["n_embd"] == 48


def test_generation_past_the_context_keeps_the_last_token_in_its_step(nano_sort_trace):
    # 6 + 6 = 12 tokens > 11 positions: the pass covers 11, the 12th is only in its step.
    assert nano_sort_trace.n_traced == 11 and len(nano_sort_trace.token_ids) == 12
    last = nano_sort_trace.steps[-1]
    assert last["prefix_length"] == 11 and last["chosen"]["id"] == nano_sort_trace.token_ids[11]
    assert nano_sort_trace["logits"].shape == (11, 3)


def test_spaces_between_letters_are_ignored(nano_sort):
    spaced = trace_prompt(nano_sort, " C B A\tB B C ", generate=6, sampling=Sampling(temperature=0))
    assert spaced.token_ids[:6] == [2, 1, 0, 1, 1, 2] and spaced.generated_text == "ABBBCC"


def test_default_sampling_still_sorts(nano_sort):
    assert trace_prompt(nano_sort, "CCBAAB", generate=6).generated_text == "AABBCC"


@pytest.mark.parametrize("prompt, words", [("CBXBBC", "only the letters A, B, C"), ("cbabbc", "'a', 'b', 'c'"),
                                           ("ABCABCABCABC", "12 tokens long"), ("", "empty")])
def test_bad_letters_and_lengths_are_refused(nano_sort, prompt, words):
    with pytest.raises(UserError, match=words):
        trace_prompt(nano_sort, prompt)


def test_cli_prints_the_sorted_letters(capsys, tmp_path):
    out = tmp_path / "x.safetensors"
    status, stdout, _ = run_cli(capsys, "trace", "--model", "nano-sort", "--prompt", "CBABBC", "--generate", "6",
                                "--out", str(out))
    assert status == 0
    assert "Generated 6 tokens: 'ABBBCC'" in stdout
    assert Trace.load(str(out)).generated_text == "ABBBCC"


def test_cli_refuses_a_foreign_letter(capsys, tmp_path):
    out = tmp_path / "x.safetensors"
    status, _, stderr = run_cli(capsys, "trace", "--model", "nano-sort", "--prompt", "CBA?BC", "--out", str(out))
    assert status == 2
    assert_one_line_error(stderr, "this model knows only the letters A, B, C")
    assert not out.exists()
