"""Title: the prompt, the model, its size, and whether its weights are trained."""

from manim import DOWN, LEFT, UP, RoundedRectangle, VGroup, Write

from scenes.base import TraceScene
from scenes.kit.motion import Fade
from scenes.kit.text import display_text, fit_within, words, wrap_columns


class TitleScene(TraceScene):
    prompt_size = 34
    prompt_columns = 44  # wrap the prompt at this many monospace columns ...
    prompt_lines = 3  # ... over at most this many lines (then an ellipsis)
    fact_size = 26
    model_size = 40

    def construct(self):
        # -- beat 1: the prompt -----------------------------------------------------------
        self.beat("prompt")
        heading = self.words("title.heading", size=self.heading_size, color=self.theme.muted)
        heading.move_to([0, self.top - heading.height / 2, 0])
        prompt = self.prompt_block().next_to(heading, DOWN, buff=0.5)
        self.play(Fade(heading), run_time=0.6)
        self.play(Fade(prompt, shift=0.2 * UP))
        self.wait(2)

        # -- beat 2: the model and its size ------------------------------------------------
        self.beat("model")
        model = self.place_below(self.model_block(), prompt, buff=0.55)
        self.play(Write(model.name), run_time=0.8)
        self.play(Fade(model.facts, lag_ratio=0.15), run_time=1.2)
        self.play(Fade(model.weights), run_time=0.6)
        self.wait(2.5)

        # -- beat 3: the promise ------------------------------------------------------------
        self.beat("promise")
        self.set_caption(self.say("title.promise"))
        self.wait(2.5)

    # -- pieces ------------------------------------------------------------------------------

    @classmethod
    def shown_prompt(cls, prompt):
        """The prompt's lines as the title shows them (a deck's title slide too): safely
        displayed, wrapped, cut with an ellipsis after the last line."""
        return wrap_columns(display_text(prompt), cls.prompt_columns, cls.prompt_lines)

    def prompt_block(self):
        """The prompt, safely displayed and wrapped, in a panel with its label above."""
        text = words(self.theme, "\n".join(self.shown_prompt(self.trace.prompt)), size=self.prompt_size)
        fit_within(text, width=self.content_width - 1.0)
        panel = RoundedRectangle(corner_radius=0.15, width=max(text.width + 0.8, 4), height=text.height + 0.6,
                                 fill_color=self.theme.panel, fill_opacity=1, stroke_color=self.theme.panel_edge,
                                 stroke_width=1.5)
        text.move_to(panel)
        label = self.words("title.prompt_label", size=22, color=self.theme.muted)
        label.next_to(panel, UP, buff=0.12, aligned_edge=LEFT)
        return VGroup(label, panel, text)

    def model_block(self):
        """The model's name, its size in a 3 x 2 grid of facts, and what its weights are."""
        config = self.trace.config
        name = words(self.theme, self.model_name(), size=self.model_size, color=self.theme.accent)
        rows = [["title.parameters", "title.layers", "title.heads"], ["title.width", "title.vocab", "title.context"]]
        separator = self.say("separator")
        # One Text per row, so the facts of a row share a baseline.
        facts = VGroup(*[words(self.theme, separator.join(self.say(key, **config) for key in keys),
                               size=self.fact_size) for keys in rows]).arrange(DOWN, buff=0.25)
        weights_key = "title.pretrained" if self.trace.pretrained else "title.random"
        weights = self.words(weights_key, size=self.fact_size - 2,
                             color=self.theme.accent_2 if self.trace.pretrained else self.theme.muted)
        block = VGroup(name, facts, weights).arrange(DOWN, buff=0.35)
        block.name, block.facts, block.weights = name, facts, weights
        return block

