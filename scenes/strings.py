"""Every word a scene writes on screen, one table per language.

Scenes ask for a key (`say("tokens.ids", vocab_size=50257)`) and never spell out a word,
so adding a language means adding a table here with the same keys, and nothing else.
Numbers go in through named placeholders with their format in the table
("{vocab_size:,}"), because how a number is written is part of the language too.
"""

STRINGS = {
    "en": {
        # -- shared -------------------------------------------------------------------
        "separator": "   ·   ",
        "window_note": "showing {shown} of {total} tokens",
        # -- title --------------------------------------------------------------------
        "title.heading": "How a transformer reads a prompt",
        "title.prompt_label": "The prompt",
        "title.parameters": "{n_params:,} parameters",
        "title.layers": "{n_layer} layers",
        "title.heads": "{n_head} attention heads",
        "title.width": "width {n_embd}",
        "title.vocab": "vocabulary of {vocab_size:,}",
        "title.context": "context of {n_positions:,} tokens",
        "title.pretrained": "trained weights",
        "title.random": "random, untrained weights: real numbers, meaningless predictions",
        "title.promise": "Every number in this video is the model's own, computed for this prompt.",
        # -- tokens -------------------------------------------------------------------
        "tokens.heading": "Tokens",
        "tokens.text": "The model never sees letters: first the text is cut into pieces.",
        "tokens.pieces": "{n_tokens} pieces, each from a vocabulary of {vocab_size:,}.",
        "tokens.pieces_spaces": "{n_tokens} pieces, each from a vocabulary of {vocab_size:,}   (␣ marks a space)",
        "tokens.ids": "Each piece is a row number in the vocabulary: its token ID.",
        "tokens.bytes": "GPT-2 reads bytes: a character can span several pieces.",
        "tokens.char_bytes": "{char}  =  {hex}",
        # -- embeddings ---------------------------------------------------------------
        "embeddings.heading": "Embeddings",
        "embeddings.focus": "The last token of the prompt:",
        "embeddings.id": "ID {token_id}",
        "embeddings.position": "position {position}",
        "embeddings.shape": "{rows:,} × {cols:,}",
        "embeddings.token_row": "token embedding: row {row} of W_E",
        "embeddings.position_row": "position embedding: row {row:,} of W_P",
        "embeddings.sum_row": "their sum: the residual stream x₀, the input of block 0",
        "embeddings.dims": "{d_model:,} dimensions →",
        "embeddings.values_more": "… {n_more:,} more",
        "embeddings.explain_token": "The ID picks one row of W_E: a vector of {d_model:,} numbers.",
        "embeddings.explain_position": "The position picks one row of W_P: where the token stands.",
        "embeddings.explain_sum": "Their sum is what the first layer reads: the residual stream x₀.",
        "embeddings.explain_all": "Every token becomes a vector: {n_tokens} rows × {d_model:,} numbers.",
        "embeddings.scale": "colour scale  −{limit} … +{limit}",
        # -- prediction ---------------------------------------------------------------
        "prediction.heading": "Prediction",
        "prediction.after": "After the last token",
        "prediction.logits": "The last position's vector becomes one score (logit) per vocabulary entry: {vocab_size:,} scores.",
        "prediction.softmax": "Softmax turns the scores into probabilities that add up to 100%.",
        "prediction.rest": "all {n_rest:,} others: {percent}",
        "prediction.logit_header": "logit",
        "prediction.prob_header": "probability",
        "prediction.greedy": "Greedy: the most probable token is chosen.",
        "prediction.sampled": "Sampled (temperature {temperature:g}, top-k {top_k}, top-p {top_p:g}): "
                              "after the cuts it had a {percent} chance.",
        "prediction.no_steps": "No token was generated: the most probable one is shown.",
        "prediction.chosen": "next token",
        "prediction.rank": "rank {rank:,}",
        "prediction.unknown_piece": "ID {token_id}",
        # -- loop ---------------------------------------------------------------------
        "loop.heading": "The loop",
        "loop.explain": "The chosen token joins the text, and the model runs again on all of it.",
        "loop.step": "step {step} of {n_steps}",
        "loop.runs": "runs on {n_tokens} tokens",
        "loop.more_steps": "… {n_more} more steps, one token each",
        "loop.done": "{n_steps} tokens generated, one forward pass each.",
        "loop.no_steps": "No tokens were generated (try --generate 5).",
    },
}

DEFAULT_LANGUAGE = "en"


def say(language, key, **values):
    """The text for `key` in `language`, with `values` filled in.

    A key missing from a language's table falls back to English, so a half-translated
    table still renders; an unknown key is a bug and raises KeyError.
    """
    table = STRINGS.get(language, STRINGS[DEFAULT_LANGUAGE])
    template = table.get(key)
    if template is None:
        template = STRINGS[DEFAULT_LANGUAGE][key]
    return template.format(**values)
