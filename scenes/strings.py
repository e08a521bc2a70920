"""Every word a scene writes on screen, one table per language (English here, Japanese
in strings_ja.py).

Scenes ask for a key (`say("tokens.ids", vocab_size=50257)`) and never spell out a word,
so adding a language means adding a table here with the same keys, and nothing else.
Numbers go in through named placeholders with their format in the table
("{vocab_size:,}"), because how a number is written is part of the language too.
"""

from scenes.spoken import spoken_piece
from scenes.strings_ja import JA, SPOKEN_JA

STRINGS = {
    "en": {
        # -- shared -------------------------------------------------------------------
        "separator": "   ·   ",
        "window_note": "showing {shown} of {total} tokens",
        "focus_last_token": "The last token of the prompt:",
        "token_id": "ID {token_id}",
        "shape": "{rows:,} × {cols:,}",
        "values_more": "… {n_more:,} more",
        "scale_legend": "colour scale  −{limit} … +{limit}",
        "resid_entering": "x: the residual stream entering layer {layer}",
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
        # -- map: the whole forward pass (sizes go in as {placeholders}: numbers drawn with their meaning)
        "map.heading": "The whole model",
        "map.count": "T = {T}",
        "map.by": "{a} × {b}",
        "map.layers": "× {N} layers",
        "map.attention": "Attention",
        "map.heads": "{H} heads of {dh}",
        "map.mlp_sizes": "{d} → {d_mlp} → {d}",
        "map.chosen": "the chosen token",
        "map.joins": "joins the text",
        "map.stream": "residual stream: {d} numbers per token",
        "map.explain_whole": "The whole model: the residual stream carries each token through {n_layer} layers, "
                             "then becomes a probability for every token.",
        "map.explain_block": "One layer opened up: attention, then the MLP. Each reads the stream through a "
                             "LayerNorm and adds its result back (+).",
        "map.explain_path": "The path of this video: the small map in the corner shows where we are.",
        "map.step": "{number}  {name}",
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
        "embeddings.position": "position {position}",
        "embeddings.token_row": "token embedding: row {row} of W_E",
        "embeddings.position_row": "position embedding: row {row:,} of W_P",
        "embeddings.sum_row": "their sum: the residual stream x₀, the input of block 0",
        "embeddings.dims": "{d_model:,} dimensions →",
        "embeddings.explain_token": "The ID picks one row of W_E: a vector of {d_model:,} numbers.",
        "embeddings.explain_position": "The position picks one row of W_P: where the token stands.",
        "embeddings.explain_sum": "Their sum is what the first layer reads: the residual stream x₀.",
        "embeddings.explain_all": "Every token becomes a vector: {n_tokens} rows × {d_model:,} numbers.",
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
        "prediction.explain_final_norm": "After the last of the {n_layers} layers, one more LayerNorm: the final one, "
                                          "ln_f.",
        "prediction.leaving": "the residual stream leaving layer {layer}",
        "prediction.final_x": "x: after the final LayerNorm",
        "prediction.explain_tied": "logits = x · W_U ({d_model:,} × {vocab_size:,}), and W_U is W_E, the embedding "
                                   "matrix, reused (tied).",
        "prediction.explain_untied": "logits = x · W_U ({d_model:,} × {vocab_size:,}): this model's own unembedding, "
                                     "not W_E.",
        "prediction.column": "the column of “{piece}” in W_U",
        "prediction.logit_of": "all added up: the logit of “{piece}”",
        # -- loop ---------------------------------------------------------------------
        "loop.heading": "The loop",
        "loop.explain": "The chosen token joins the text, and the model runs again on all of it.",
        "loop.step": "step {step} of {n_steps}",
        "loop.runs": "runs on {n_tokens} tokens",
        "loop.more_steps": "… {n_more} more steps, one token each",
        "loop.done": "{n_steps} tokens generated, one forward pass each.",
        "loop.no_steps": "No tokens were generated (try --generate 5).",
        # -- attention deep dive: shared ---------------------------------------------
        "attention.tag": "layer {layer} · head {head}",
        "attention.tag_layer": "layer {layer}",
        "attention.corner": "query ↓   key →",
        "attention.hidden_tokens": "⋮ {n_hidden} more",
        "attention.why_rule": "Layer {layer}, head {head}, the most focused head (a stated rule): {does}.",
        "attention.why_user": "Layer {layer}, head {head}, as chosen with --layer and --head: {does}.",
        "head.previous": "it looks at the token just before ({percent} of its attention)",
        "head.first": "it mostly looks at the first token ({percent} of its attention)",
        "head.self": "each token looks at itself ({percent} of its attention)",
        "head.induction": "it looks at the token after an earlier copy of this one ({percent} of its attention)",
        "head.one": "each token puts most of its attention on one other token ({percent} on average)",
        "head.spread": "its attention is spread over several tokens (the largest share averages {percent})",
        # -- layernorm ----------------------------------------------------------------
        "layernorm.heading": "LayerNorm",
        "layernorm.normalised": "(x − mean) ÷ spread",
        "layernorm.scaled": "× gain + bias: what attention reads",
        "layernorm.stats": "mean",
        "layernorm.spread": "spread",
        "layernorm.explain_before": "Layer {layer} first normalises each token's vector of {d_model:,} numbers.",
        "layernorm.explain_normalised": "Subtract the mean, divide by the spread (plus a tiny ε): "
                                        "now mean 0, spread about 1.",
        "layernorm.explain_scaled": "A learned gain and bias then stretch and shift each of the {d_model:,} numbers.",
        # -- queries, keys, values ------------------------------------------------------
        "qkv.heading": "Queries, keys, values",
        "qkv.input_header": "x after LayerNorm",
        "qkv.weights_note": "each {rows:,} × {cols:,}",
        "qkv.q_header": "q  query",
        "qkv.k_header": "k  key",
        "qkv.v_header": "v  value",
        "qkv.explain_input": "Each token's vector x, after LayerNorm: {d_model:,} numbers per token.",
        "qkv.explain_query": "x times W_Q, plus a bias, gives each token's query q: what it looks for.",
        "qkv.explain_key": "x times W_K gives each token's key k: what it can be found by.",
        "qkv.explain_value": "x times W_V gives each token's value v: what it passes on. {d_head} numbers each.",
        # -- dot products ---------------------------------------------------------------
        "dots.heading": "Dot products",
        "dots.explain_grid": "Each query meets each key: the dot product q · k, one number per pair of tokens.",
        "dots.explain_cell": "One cell worked through: multiply the paired numbers, then add up all {d_head} products.",
        "dots.q_label": "q of “{piece}”",
        "dots.k_label": "k of “{piece}”",
        "dots.products": "multiplied",
        "dots.rest": "+ {n_rest} more:",
        "dots.total": "all {d_head} added up",
        "dots.explain_why": "Why scale? Raw dot products grow with the {d_head} dimensions, and their softmax "
                            "turns too sharp.",
        "dots.raw_title": "raw",
        "dots.scaled_title": "divided by {root:g} first",
        "dots.row_title": "The last token “{piece}”: its row of dot products, through softmax",
        "dots.explain_scale": "So every cell is divided by √{d_head} = {root:g}: these are the attention scores.",
        "dots.scale_note": "every cell ÷ √{d_head} = {root:g}",
        # -- causal mask ----------------------------------------------------------------
        "mask.heading": "Causal mask",
        "mask.explain_scores": "The scaled scores of every pair, even for tokens that come later.",
        "mask.explain_mask": "A token may only look back: the score of every later token becomes −∞.",
        "mask.explain_row": "“{piece}” may look at {n_seen} of the {n_tokens} tokens: itself and those before it.",
        # -- softmax --------------------------------------------------------------------
        "softmax.heading": "Softmax",
        "softmax.explain_scores": "Softmax turns each row of scores into probabilities.",
        "softmax.explain_exp": "First e to the power of each score (e^−∞ = 0), and their sum.",
        "softmax.explain_divide": "Then each is divided by the sum: the row adds up to 1.",
        "softmax.explain_all": "Every row at once: the attention pattern. Each row sums to 1.",
        "softmax.sum_header": "sum",
        "softmax.hidden_column": "⋯  the {n_hidden} hidden tokens, added up",
        # -- weighted values --------------------------------------------------------------
        "weighted.heading": "Weighted values",
        "weighted.weight_header": "weight",
        "weighted.value_header": "v: the value vectors",
        "weighted.scaled_header": "weight × v",
        "weighted.sum_label": "z = sum",
        "weighted.explain_weights": "The last token “{piece}” takes its row of the pattern: one weight per token.",
        "weighted.explain_values": "Each token offers its value vector v: {d_head} numbers.",
        "weighted.explain_scale": "Each v is multiplied by its weight: tokens with more attention count more.",
        "weighted.explain_sum": "Their sum is this head's output z for “{piece}”: {d_head} numbers.",
        # -- all heads --------------------------------------------------------------------
        "heads.heading": "All heads",
        "heads.head": "head {head}",
        "heads.legend": "attention weight",
        "heads.explain_patterns": "Layer {layer} has {n_heads} heads, each with its own pattern on the same tokens.",
        "heads.z_label": "z of every head, side by side",
        "heads.out_label": "attention output",
        "heads.explain_concat": "Each head's output z ({n_tokens} × {d_head}) is placed side by side: "
                                "{n_tokens} × {d_model:,}.",
        "heads.explain_project": "Times W_O ({d_model:,} × {d_model:,}), plus a bias: the attention output.",
        "heads.explain_residual": "It is added to the residual stream, for every token; here the last one.",
        "heads.attn_out": "+ the attention output",
        "heads.resid_mid": "= the residual stream after attention",
        # -- MLP ----------------------------------------------------------------------------
        "mlp.heading": "MLP",
        "mlp.explain_expand": "The MLP reads the vector after LayerNorm 2 ({d_model:,} numbers): times W_in, "
                              "plus a bias, gives {d_mlp:,} pre-activations.",
        "mlp.input": "x after LayerNorm 2: {n:,} numbers",
        "mlp.pre": "pre-activations: {n:,} numbers, one per neuron",
        "mlp.weights_note": "the model's learned weights",
        "mlp.explain_gelu": "GELU bends each of the {d_mlp:,} numbers: negatives fade to about 0, positives pass.",
        "mlp.axis_pre": "before GELU",
        "mlp.axis_post": "after GELU",
        "mlp.neuron": "neuron {neuron:,}",
        "mlp.formula_tanh": "GELU(x) ≈ ½ x (1 + tanh(0.7979 (x + 0.044715 x³)))",
        "mlp.formula_erf": "GELU(x) = x · Φ(x), Φ: the normal distribution's CDF",
        "mlp.formula_relu": "ReLU(x) = max(x, 0)",
        "mlp.formula_other": "{name}: the model's own activation function",
        "mlp.gelu_why": "each dot: one of this token's neurons",
        "mlp.explain_neurons": "The {n} most active neurons of this token: the largest values after GELU.",
        "mlp.most_active": "most active neurons, after GELU",
        "mlp.explain_project": "Times W_out, plus a bias: the {d_mlp:,} numbers go back to {d_model:,}, "
                               "the MLP's output.",
        "mlp.post": "after GELU: {n:,} numbers",
        "mlp.out": "the MLP's output: {n:,} numbers",
        "mlp.explain_residual": "The MLP's output is added to the residual stream: what layer {layer} passes on.",
        "mlp.resid_mid": "the residual stream after attention in layer {layer}",
        "mlp.added": "+ the MLP's output",
        "mlp.resid_post": "= the residual stream leaving layer {layer}",
        # -- the stack ----------------------------------------------------------------------
        "layers.heading": "The stack",
        "layers.explain_stack": "Each of the {n_layers} layers adds attention's output, then the MLP's, to the "
                                "residual stream.",
        "layers.explain_stream": "The residual stream holds everything added so far: its length after each layer.",
        "layers.explain_lens": "The logit lens: the stream after each layer, read with the final LayerNorm and the "
                               "unembedding, gives a best guess.",
        "layers.explain_settled": "From layer {layer} on, the best guess is the final prediction “{piece}”.",
        "layers.explain_settled_embeddings": "Already the embeddings guess the final prediction “{piece}”.",
        "layers.explain_settled_last": "Only the last layer settles on the final prediction “{piece}”.",
        "layers.embeddings": "embeddings",
        "layers.attn_header": "attention adds",
        "layers.mlp_header": "the MLP adds",
        "layers.stream_header": "the stream",
        "layers.guess_header": "best guess (logit lens)",
        # -- sampling -----------------------------------------------------------------------
        "sampling.heading": "Sampling",
        "sampling.explain_probs": "The model's probabilities for the next token: softmax of the last position's "
                                  "logits (the {n} most probable).",
        "sampling.raw_header": "probability (temperature 1)",
        "sampling.explain_temperature_own": "Temperature divides the logits before the softmax: below 1 sharper, "
                                            "above 1 flatter. Yours is marked.",
        "sampling.explain_temperature": "Temperature divides the logits before the softmax: below 1 sharper, "
                                        "above 1 flatter.",
        "sampling.temperature_header": "temperature {temperature:g}",
        "sampling.temperature_own": "temperature {temperature:g} (yours)",
        "sampling.explain_cuts": "Top-k {top_k} keeps the {kept_k:,} most probable; top-p {top_p:g} keeps them until "
                                 "the running sum passes {top_p:g}. Tokens left: {kept:,}.",
        "sampling.cumulative_header": "running sum",
        "sampling.final_header": "renormalised",
        "sampling.cut": "cut",
        "sampling.explain_renormalise": "The tokens left are divided by their sum, so they add up to 100% again.",
        "sampling.explain_draw": "The generator (seed {seed}) draws u between 0 and 1; the token whose slice holds u "
                                 "is chosen.",
        "sampling.u": "u =",
        "sampling.slice_to": "≤ u <",
        "sampling.lands": "u lands in its slice: a {percent} chance (rank {rank:,})",
        "sampling.greedy": "Greedy decoding (temperature 0): no draw, the largest bar is chosen.",
        "sampling.no_steps": "No token was generated, so nothing was drawn (try --generate 5).",
        # -- compare: two prompts, the same word in each (scenes/compare) ---------------------------
        "compare.side_a": "A",
        "compare.side_b": "B",
        "compare.tokens_heading": "One word, two contexts",
        "compare.explain_prompts": "Two prompts, one model ({model}): the same word in two contexts.",
        "compare.explain_word": "“{piece}” is token {token_id} in both: position {position_a} in A, {position_b} in B.",
        "compare.explain_word_same_position": "“{piece}” is token {token_id} in both, at position {position_a} in each.",
        "compare.explain_word_pieces": "“{word}” is {n_pieces} tokens here: we follow its last, “{piece}” "
                                       "(token {token_id}), at position {position_a} in A and {position_b} in B.",
        "compare.embedding_heading": "The same row, two positions",
        "compare.explain_token_row": "The same ID picks the same row of W_E in both: the same {d_model:,} numbers.",
        "compare.explain_position_rows": "The position picks a row of W_P: row {position_a} in A, row {position_b} in B.",
        "compare.explain_position_same": "Both stand at position {position_a}: the same row of W_P too.",
        "compare.explain_x0": "x₀ = W_E row + W_P row. Before any attention they differ only by position.",
        "compare.explain_x0_same": "x₀ = W_E row + W_P row: the same vector in both. Only attention can tell them apart.",
        "compare.token_row": "W_E row {row}",
        "compare.position_row": "W_P row {row}",
        "compare.x0_row": "x₀: their sum",
        "compare.cosine_x0": "cosine similarity of the two x₀:",
        "compare.attention_heading": "Where the word looks",
        "compare.why_rule": "Layer {layer}, head {head}: the most focused head on both prompts together (the stated rule).",
        "compare.why_user": "Layer {layer}, head {head}: the head you chose.",
        "compare.explain_rows": "Layer {layer}, head {head}: how much “{piece}” attends to each token before it, "
                                "in each prompt.",
        "compare.explain_top": "In A it looks most at “{piece_a}” ({share_a}), in B at “{piece_b}” ({share_b}).",
        "compare.explain_top_same": "In both it looks most at “{piece_a}”: {share_a} in A, {share_b} in B.",
        "compare.key_label": "{piece} ({position})",
        "compare.drift_heading": "Two vectors drift apart",
        "compare.explain_drift": "The cosine similarity of “{piece}” in A and in B, after every layer (1: the same "
                                 "direction).",
        "compare.explain_drift_apart": "From {first} at x₀ to {last} after layer {layer}: each layer mixes in its own "
                                       "context.",
        "compare.explain_drift_closer": "From {first} at x₀ to {last} after layer {layer}: these layers bring them "
                                        "closer.",
        "compare.explain_same_prefix": "The tokens up to “{piece}” are the same in both, and GPT-2 reads only what "
                                       "comes before: one vector at every layer.",
        "compare.x0_tick": "x₀",
        "compare.layer_axis": "after layer",
        "compare.prediction_heading": "Two predictions",
        "compare.explain_predictions": "What the model expects after “{piece}” in each prompt: its top {n}, from the "
                                       "logits at that position.",
        "compare.explain_shared": "{n_shared} of the top {n} are in both lists: the same token, two predictions.",
        "compare.is_last": "the prompt's next token",
        "compare.inside": "the logit lens at position {position}, last layer",
    },
    "ja": JA,
}

# What an English voice reads where the written line does not read aloud (symbols, matrix
# names, a layout note): same placeholders as the written line. scenes/spoken.py makes the
# rest speakable (pieces, minus signs, ...).
SPOKEN = {
    "en": {
        "map.explain_block": "One layer opened up: attention, then the MLP. Each reads the stream through a "
                             "LayerNorm and adds its result back.",
        "tokens.pieces_spaces": "{n_tokens} pieces, each from a vocabulary of {vocab_size:,}. A small mark shows "
                                "each space.",
        "embeddings.explain_token": "The ID picks one row of the token embedding matrix: a vector of {d_model:,} "
                                    "numbers.",
        "embeddings.explain_position": "The position picks one row of the position embedding matrix: where the "
                                       "token stands.",
        "embeddings.explain_sum": "Their sum is what the first layer reads: the residual stream.",
        "embeddings.explain_all": "Every token becomes a vector: {n_tokens} rows of {d_model:,} numbers.",
        "prediction.sampled": "Sampled at temperature {temperature:g}, top k {top_k}, top p {top_p:g}: after the "
                              "cuts it had a {percent} chance.",
        "prediction.explain_final_norm": "After the last of the {n_layers} layers, one more LayerNorm: the final one.",
        "prediction.explain_tied": "The logits are the vector times the unembedding matrix, which is the embedding "
                                   "matrix, reused.",
        "prediction.explain_untied": "The logits are the vector times the unembedding matrix: this model's own, "
                                     "not the embedding matrix.",
        "loop.more_steps": "{n_more} more steps, one token each.",
        "layernorm.explain_normalised": "Subtract the mean, divide by the spread: now the mean is 0, and the "
                                        "spread about 1.",
        "qkv.explain_input": "Each token's vector, after LayerNorm: {d_model:,} numbers per token.",
        "qkv.explain_query": "The vector times the query weights, plus a bias, gives each token's query: what it "
                             "looks for.",
        "qkv.explain_key": "The vector times the key weights gives each token's key: what it can be found by.",
        "qkv.explain_value": "The vector times the value weights gives each token's value: what it passes on. "
                             "{d_head} numbers each.",
        "dots.explain_grid": "Each query meets each key: their dot product, one number per pair of tokens.",
        "dots.explain_scale": "So every cell is divided by the square root of {d_head}, which is {root:g}: these "
                              "are the attention scores.",
        "mask.explain_mask": "A token may only look back: the score of every later token becomes minus infinity.",
        "softmax.explain_exp": "First e to the power of each score, and their sum.",
        "weighted.explain_values": "Each token offers its value vector: {d_head} numbers.",
        "weighted.explain_sum": "Their sum is this head's output for {piece}: {d_head} numbers.",
        "heads.explain_concat": "Each head's output is placed side by side: {n_tokens} rows of {d_model:,} numbers.",
        "heads.explain_project": "Times the output weights, plus a bias: the attention output.",
        "mlp.explain_expand": "The MLP reads the vector after the second LayerNorm: times the input weights, plus "
                              "a bias, gives {d_mlp:,} pre-activations.",
        "mlp.explain_project": "Times the output weights, plus a bias: the {d_mlp:,} numbers go back to "
                               "{d_model:,}, the MLP's output.",
        "sampling.explain_cuts": "Top k {top_k} keeps the {kept_k:,} most probable; top p {top_p:g} keeps them until "
                                 "the running sum passes {top_p:g}. Tokens left: {kept:,}.",
        "sampling.greedy": "Greedy decoding, at temperature 0: no draw, the largest bar is chosen.",
        "sampling.no_steps": "No token was generated, so nothing was drawn.",
        "loop.no_steps": "No token was generated.",
        # compare (scenes/compare): W_E, W_P and "x₀ = ... + ..." in words
        "compare.explain_token_row": "The same ID picks the same row of the token embedding matrix in both: the "
                                     "same {d_model:,} numbers.",
        "compare.explain_position_rows": "The position picks a row of the position embedding matrix: row "
                                         "{position_a} in A, row {position_b} in B.",
        "compare.explain_position_same": "Both stand at position {position_a}: the same row of the position "
                                         "embedding matrix too.",
        "compare.explain_x0": "x zero is the sum of the two rows. Before any attention, they differ only by position.",
        "compare.explain_x0_same": "x zero is the sum of the two rows: the same vector in both. Only attention can "
                                   "tell them apart.",
        "compare.explain_drift": "The cosine similarity of {piece} in A and in B, after every layer. 1 means the "
                                 "same direction.",
        "compare.explain_same_prefix": "The tokens up to {piece} are the same in both, and GPT two reads only what "
                                       "comes before: one vector at every layer.",
    },
    "ja": SPOKEN_JA,
}
LANGUAGES = tuple(STRINGS)  # what --lang accepts

DEFAULT_LANGUAGE = "en"


def say(language, key, **values):
    """The text for `key` in `language`, with `values` filled in.

    Every table has every key (a test checks it), so there is no fallback: an unknown
    language or key is a bug and raises KeyError.
    """
    return STRINGS[language][key].format(**values)


def is_piece(name):
    """Whether the placeholder `name` holds a token piece: piece, or piece_a and piece_b (compare)."""
    return name == "piece" or name.startswith("piece_")


def say_both(language, key, **values):
    """(written, spoken) for `key`: the line as `say` writes it, and the words a voice reads (its
    SPOKEN variant, each token piece as a voice reads it), or None where the written line will do
    (scenes/spoken.py makes it speakable)."""
    written = say(language, key, **values)
    spoken = SPOKEN[language].get(key)
    if spoken is None and not any(is_piece(name) for name in values):
        return written, None
    spoken_values = {name: spoken_piece(value, language) if is_piece(name) else value
                     for name, value in values.items()}
    return written, (spoken or STRINGS[language][key]).format(**spoken_values)
