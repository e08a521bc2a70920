"""The comparison's data (scenes/compare/pair.py): the followed word found by token ID in each
prompt, one model per comparison, and the numbers the compare scenes show, recomputed here
from both traces' raw arrays (tests/meanings.py)."""

import numpy as np
import pytest
from meanings import cosine_of_rows

from scenes.compare.pair import Pair, choose_shared_head, follow_word
from scenes.views import choose_head
from tracer.errors import UserError
from tracer.models import load_model
from tracer.record import trace_prompt
from tracer.testing import build_random_checkpoint, real_gpt2_tokenizer
from tracer.trace import readable_piece

SMALL = dict(n_layer=2, n_head=2, n_embd=16, n_positions=128)


@pytest.fixture(scope="module")
def model(gpt2_vocab_checkpoint):
    return load_model(str(gpt2_vocab_checkpoint))


@pytest.fixture(scope="module")
def trace_of(model):
    cache = {}

    def get(prompt):
        if prompt not in cache:
            cache[prompt] = trace_prompt(model, prompt)
        return cache[prompt]

    return get


def test_the_default_word_is_the_longest_shared_piece_by_id(trace_of):
    a, b = trace_of("We walked along the river bank"), trace_of("She put her money in the bank")
    followed = follow_word(a, b)
    bank = a.token_ids[-1]
    assert a.tokens[-1] == "Ġbank" and b.tokens[-1] == "Ġbank"
    # " the" is shared too, but " bank" has more bytes
    assert followed.token_id == bank and followed.positions == (a.n_prompt_tokens - 1, b.n_prompt_tokens - 1)
    assert followed.n_pieces() == 1 and followed.word is None


def test_the_positions_are_right_when_the_prompts_differ_in_length_before_the_word(trace_of):
    a = trace_of("After a long walk along the muddy river, we sat on the bank and rested")
    b = trace_of("The bank raised rates")
    pair = Pair(a, b, word="bank")
    pa, pb = pair.positions["a"], pair.positions["b"]
    assert a.tokens[pa] == "Ġbank" and b.tokens[pb] == "Ġbank" and pa != pb
    assert a.token_ids[pa] == b.token_ids[pb]
    # the same W_E row (hook_embed), a different W_P row, as the embedding scene says
    assert np.array_equal(a["hook_embed"][pa], b["hook_embed"][pb])
    assert not np.allclose(a["hook_pos_embed"][pa], b["hook_pos_embed"][pb])


def test_a_word_of_several_tokens_follows_its_last_token(trace_of):
    a, b = trace_of("I read about photosynthesis today"), trace_of("Plants do photosynthesis in light")
    pieces = [a.tokens[i] for i in range(a.n_prompt_tokens)]
    followed = follow_word(a, b, "photosynthesis")
    first, last = followed.spans[0]
    assert followed.n_pieces() == last - first + 1 > 1, pieces  # GPT-2 splits it
    assert a.text(first, last + 1).strip() == "photosynthesis"
    assert followed.positions[0] == last and followed.token_id == a.token_ids[last]
    assert b.token_ids[followed.positions[1]] == followed.token_id


@pytest.mark.parametrize("word, message", [
    ("zebra", "--word 'zebra' is in neither prompt"),
    ("river", "--word 'river' is only in prompt A, not in prompt B"),
    ("money", "--word 'money' is only in prompt B, not in prompt A"),
])
def test_a_word_missing_from_a_prompt_is_named(trace_of, word, message):
    a, b = trace_of("We walked along the river bank"), trace_of("She put her money in the bank")
    with pytest.raises(UserError, match="^" + message.replace("(", r"\(")) as error:
        follow_word(a, b, word)
    assert "\n" not in str(error.value)


def test_a_word_that_is_other_tokens_in_each_prompt_is_refused(trace_of):
    a, b = trace_of("bank holidays"), trace_of("The bank raised rates")  # "bank" vs " bank": two IDs
    with pytest.raises(UserError, match="different tokens in the two prompts"):
        follow_word(a, b, "bank")


def test_prompts_that_share_no_piece_are_refused_with_their_pieces(trace_of):
    a, b = trace_of("Cats purr"), trace_of("Dogs bark loudly")
    with pytest.raises(UserError) as error:
        follow_word(a, b)
    message = str(error.value)
    assert message.startswith("the two prompts share no token")
    assert "A is ['C', 'ats', ' pur', 'r']" in message and "B is ['D', 'ogs', ' bark', ' loudly']" in message
    assert "\n" not in message


def test_two_models_are_refused(tmp_path, trace_of, tiny_checkpoint):
    a = trace_of("The bank raised rates")
    other_config = trace_prompt(load_model(str(tiny_checkpoint)), "The bank raised rates")
    with pytest.raises(UserError, match="two models"):
        Pair(a, other_config)
    # the same name and shape, other weights: the shared token's W_E rows differ
    twin = build_random_checkpoint(tmp_path / "twin", real_gpt2_tokenizer(), seed=7, **SMALL)
    b = trace_prompt(load_model(str(twin)), "The bank raised rates")
    b.model, b.weights = a.model, a.weights
    with pytest.raises(UserError, match="two different rows of W_E"):
        Pair(a, b)


def test_the_cosines_are_those_of_both_traces_raw_arrays(trace_of):
    a = trace_of("After a long walk along the muddy river, we sat on the bank and rested")
    b = trace_of("The bank raised rates")
    pair = Pair(a, b)
    pa, pb = pair.positions["a"], pair.positions["b"]
    names = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_post" for l in range(a.n_layers)]
    assert [name for name, _ in pair.similarities] == names
    for name, similarity in pair.similarities:
        u, v = a[name][pa].astype(np.float64), b[name][pb].astype(np.float64)
        assert similarity == pytest.approx(u @ v / np.linalg.norm(u) / np.linalg.norm(v), abs=1e-12)
        assert similarity == pytest.approx(cosine_of_rows(a, b, name, pa, pb), abs=1e-12)
    # x0 is the embedding plus the position row, in each trace
    for side, trace, position in (("a", a, pa), ("b", b, pb)):
        token_row, position_row, x0 = pair.embedding(side)
        assert np.allclose(token_row + position_row, x0, atol=1e-6)


def test_the_same_prefix_gives_the_same_vector_at_every_layer(trace_of):
    """GPT-2 reads only what comes before a token: "The bank" starts both prompts, so " bank"
    has one vector in both however they go on (a check that the cosines read the right rows)."""
    pair = Pair(trace_of("The bank of the river"), trace_of("The bank raised interest rates"))
    assert pair.same_position
    assert all(similarity == pytest.approx(1.0, abs=1e-6) for _, similarity in pair.similarities)


def test_the_head_rule_on_both_traces_together(trace_of):
    a, b = trace_of("We walked along the river bank"), trace_of("She put her money in the bank")
    assert choose_shared_head(a, a) == choose_head(a)  # on one trace twice: the rule as it is
    choice = choose_shared_head(a, b)
    assert choice.by_rule and 0 <= choice.layer < a.n_layers and 0 <= choice.head < a.n_heads
    chosen = choose_shared_head(a, b, layer=1, head=0)
    assert (chosen.layer, chosen.head, chosen.by_rule) == (1, 0, False)
    pair = Pair(a, b)
    row = pair.attention_row("a")
    pattern = a.block(pair.choice.layer, "attn.hook_pattern")[pair.choice.head]
    assert np.array_equal(row, pattern[pair.positions["a"], : pair.positions["a"] + 1].astype(np.float64))
    assert row.sum() == pytest.approx(1.0, abs=1e-5)


def test_the_predictions_after_the_word_are_the_logits_softmax(trace_of, model):
    a = trace_of("After a long walk along the muddy river, we sat on the bank and rested")
    b = trace_of("The bank raised rates")
    pair = Pair(a, b)
    for side, trace in (("a", a), ("b", b)):
        position = pair.positions[side]
        logits = trace["logits"][position].astype(np.float64)
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        top = pair.predictions(side, 5)
        assert [entry["id"] for entry in top] == list(np.argsort(-probs, kind="stable")[:5])
        assert [entry["prob"] for entry in top] == pytest.approx(probs[[e["id"] for e in top]], rel=1e-9)
        # the lens's last row names the same tokens, and the trace holds each one's piece
        assert list(trace["logit_lens.token_ids"][-1, position, :5]) == [entry["id"] for entry in top]
        for entry in top:
            assert entry["piece"] == readable_piece(model.tokens.piece_bytes([entry["id"]])[0])


def test_the_compare_scenes_never_import_torch_and_the_pair_no_manim():
    import subprocess
    import sys
    from pathlib import Path

    from scenes.compare.catalog import COMPARE_CATALOG

    def imported(modules, forbidden):
        code = "; ".join(f"import {m}" for m in modules) + \
            f"; import sys; print([m for m in {forbidden!r} if m in sys.modules])"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                                cwd=Path(__file__).resolve().parent.parent)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    scenes = ["scenes.compare.base", *(info.module for info in COMPARE_CATALOG)]
    assert imported(scenes, ["torch", "transformers"]) == "[]"
    assert imported(["scenes.compare.pair", "scenes.compare.catalog"], ["manim", "torch"]) == "[]"


def test_the_readme_example_follows_bank_at_two_positions(trace_of):
    """The README's compare command: its two prompts share " bank", at two positions, and
    " bank" is what the default rule follows (with the real GPT-2 tokenizer)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Two prompts: the same word in two contexts\n", 1)[1].split("\n## ", 1)[0]
    command = section.split("render.py compare ", 1)[1].split("\n    render.py", 1)[0]
    prompts = re.findall(r'--prompt "([^"]+)"', command)
    assert len(prompts) == 2, command
    pair = Pair(trace_of(prompts[0]), trace_of(prompts[1]))
    a = pair.trace("a")
    assert a.tokens[pair.positions["a"]] == "Ġbank" and not pair.same_position and not pair.same_prefix


def test_the_pair_checks_catch_a_number_of_the_wrong_trace(trace_of):
    """tests/meanings.py's pair check: a number read from B but tagged A, a cosine written wrong,
    and a number that says no trace all fail."""
    from types import SimpleNamespace

    from meanings import wrong_pair_numbers

    from scenes.kit.numbers import fmt_cosine, fmt_value

    a = trace_of("After a long walk along the muddy river, we sat on the bank and rested")
    b = trace_of("The bank raised rates")
    pair = Pair(a, b)
    pa, pb = pair.positions["a"], pair.positions["b"]
    traces = {"a": a, "b": b}

    def number(value, meaning, source, fmt=fmt_value):
        return SimpleNamespace(text=fmt(value), value=value, meaning=meaning, source=source)

    d = next(d for d in range(b.d_model)  # a dimension where A's token at pb and B's read apart
             if fmt_value(float(a["hook_embed"][pb, d])) != fmt_value(float(b["hook_embed"][pb, d])))
    b_value = float(b["hook_embed"][pb, d])
    right = number(b_value, ("trace", "hook_embed", (pb, d)), "b")
    assert wrong_pair_numbers(traces, [right]) == []
    mislabelled = number(b_value, ("trace", "hook_embed", (pb, d)), "a")  # A's token at pb is another token
    assert len(wrong_pair_numbers(traces, [mislabelled])) == 1
    name, similarity = pair.similarities[-1]
    assert wrong_pair_numbers(traces, [number(similarity, ("cosine", name, pa, pb), "ab", fmt_cosine)]) == []
    assert len(wrong_pair_numbers(traces, [number(similarity + 0.01, ("cosine", name, pa, pb), "ab",
                                                  fmt_cosine)])) == 1
    with pytest.raises(AssertionError, match="does not say which trace"):
        wrong_pair_numbers(traces, [number(b_value, ("trace", "hook_embed", (pb, d)), None)])
