"""The autoregressive loop: the model reads the text, its top candidates appear, the chosen
token joins the text, and the model runs again on all of it, step after step."""

from manim import (
    DOWN, LEFT, RIGHT, UP, Arrow, ReplacementTransform, ShowPassingFlash,
    VGroup,
)

from scenes.base import TraceScene
from scenes.kit.charts import probability_bars, row_highlight
from scenes.kit.motion import Fade, Glide
from scenes.kit.shapes import rounded_rectangle
from scenes.kit.text import fit_within, words
from scenes.kit.tokens import ellipsis_chip, token_chip
from scenes.views import Prediction


class LoopScene(TraceScene):
    n_candidates = 5
    max_animated_steps = 8  # later steps are appended together in one last beat
    chip_size = 26
    row_size = 24
    bar_length = 3.0
    label_width = 2.8  # longer pieces shrink to fit
    model_box_size = (3.6, 1.9)
    model_box_centre = (-4.6, -0.55)
    arrow_length = 0.9  # from the model box to the candidates

    def construct(self):
        self.show_heading("loop.heading")
        self.chips = [self.chip(i) for i in range(self.trace.n_prompt_tokens)]
        self.shown = []  # chips on screen in the text row
        self.row_ellipsis = ellipsis_chip(self.theme, size=self.chip_size)

        # -- beat 1: the text and the model ---------------------------------------------------
        self.beat("setup")
        self.set_caption(self.say("loop.explain"))
        self.play(*self.relayout_row(), run_time=0.8)
        model = self.model_box()
        self.play(Fade(model), Fade(self.arrows(model)), run_time=0.8)
        self.wait(1)

        # -- beats 2..: one per generated token -------------------------------------------------
        chart = None
        for number, step in enumerate(self.steps[: self.max_animated_steps], start=1):
            self.beat(f"step {number}")
            chart = self.run_step(number, step, model, chart)

        # -- last beat: the remaining steps at once, then the whole text --------------------------
        self.beat("done")
        if self.steps:
            self.finish(model, chart)
        else:
            self.set_caption(self.say("loop.no_steps"))
            self.wait(2.5)

    # -- facts ------------------------------------------------------------------------------------

    @property
    def steps(self):
        return self.trace.steps

    # -- one step -----------------------------------------------------------------------------------

    def run_step(self, number, step, model, old_chart):
        """The model runs on the text so far, its candidates appear, the chosen one joins the text."""
        prefix = step["prefix_length"]
        runs = self.runs_label(model, prefix)
        self.play(self.pulse(model.box), ReplacementTransform(model.runs, runs), run_time=0.6)
        model.remove(model.runs)
        model.runs = runs
        model.add(runs)
        prediction = Prediction(self.trace, prefix - 1, step, k=self.n_candidates)
        chart = self.candidate_chart(prediction, number)
        swap = [Fade(chart, shift=0.15 * LEFT)] + ([Fade(old_chart, appear=False)] if old_chart is not None else [])
        self.play(*swap, run_time=0.6)
        chosen_row = chart.rows[chart.chosen]
        highlight = row_highlight(chart.rows, chart.chosen, self.theme)
        chart.add(highlight)  # leaves with the chart
        self.play(Fade(highlight), run_time=0.3)
        self.add_token(prefix, source=chosen_row.label)
        self.wait(0.4)
        return chart

    def add_token(self, index, source):
        """The chip of token `index` flies from `source` to the end of the text row."""
        chip = self.chip(index).move_to(source)
        self.chips.append(chip)
        self.play(*self.relayout_row(arriving=chip), run_time=0.8)

    def finish(self, model, chart):
        """Append the steps past the animated ones at once, then say what happened."""
        rest = self.steps[self.max_animated_steps:]
        if rest:
            for step in rest:
                self.chips.append(self.chip(step["prefix_length"]).move_to(model.box))
            self.play(*self.relayout_row(), run_time=1)
            self.set_caption(self.say("loop.more_steps", n_more=len(rest)))
            self.wait(0.8)  # keeps a 10-step loop within 30 s
        self.set_caption(self.say("loop.done", n_steps=len(self.steps)))
        self.wait(2)

    # -- the text row --------------------------------------------------------------------------------

    def chip(self, index):
        """Token `index` as a chip: prompt tokens plain, generated ones edged in the accent."""
        generated = index >= self.trace.n_prompt_tokens
        return token_chip(self.theme, self.piece(index), size=self.chip_size,
                          edge=self.theme.accent if generated else None,
                          text_color=self.theme.accent if generated else None)

    def relayout_row(self, arriving=None):
        """Animations that lay the text row out to show its newest chips, left-aligned, with
        an ellipsis in front when the oldest no longer fit. `arriving` flies to its place
        from wherever it is; other new chips fade in."""
        gap, room = 0.1, self.content_width - self.row_ellipsis.width - 0.1
        visible, used = [], 0.0
        for chip in reversed(self.chips):
            if used + chip.width > room:
                break
            visible.insert(0, chip)
            used += chip.width + gap
        y, x = self.top - 1.0, self.left_edge()
        animations = []
        if len(visible) < len(self.chips):
            self.row_ellipsis.move_to([x + self.row_ellipsis.width / 2, y, 0])
            x += self.row_ellipsis.width + gap
            if self.row_ellipsis not in self.mobjects:
                animations.append(Fade(self.row_ellipsis))
        for chip in visible:
            target = [x + chip.width / 2, y, 0]
            if chip in self.shown or chip is arriving:
                animations.append(Glide(chip, target))
            else:
                animations.append(Fade(chip.move_to(target)))
            x += chip.width + gap
        animations += [Fade(chip, appear=False) for chip in self.shown if chip not in visible]
        self.shown = visible
        return animations

    # -- the model and its candidates -----------------------------------------------------------------

    def model_box(self):
        width, height = self.model_box_size
        box = rounded_rectangle(width, height, 0.15, fill_color=self.theme.panel, fill_opacity=1,
                                stroke_color=self.theme.accent_2, stroke_width=2.5)
        box.move_to([*self.model_box_centre, 0])
        name = words(self.theme, self.model_name(), size=30, color=self.theme.accent_2)
        fit_within(name, width=width - 0.4)
        name.move_to(box.get_center() + 0.3 * UP)
        group = VGroup(box, name)
        group.box, group.name = box, name
        group.runs = self.runs_label(group, self.trace.n_prompt_tokens)
        group.add(group.runs)
        return group

    def pulse(self, box):
        """A flash of light running round the model box: it runs once more."""
        outline = box.copy().set_fill(opacity=0).set_stroke(self.theme.accent, width=6)
        return ShowPassingFlash(outline, time_width=0.6)

    def runs_label(self, model, n_tokens):
        label = self.words("loop.runs", size=self.row_size, color=self.theme.muted, n_tokens=n_tokens)
        fit_within(label, width=model.box.width - 0.3)
        return label.move_to(model.box.get_center() + 0.35 * DOWN)

    def arrows(self, model):
        """Text row -> model (it reads everything so far) -> candidates."""
        colour = self.theme.muted
        down = Arrow([model.box.get_x(), self.top - 1.45, 0], model.box.get_top(), buff=0.1, color=colour,
                     stroke_width=3, max_tip_length_to_length_ratio=0.2)
        right = Arrow(model.box.get_right(), model.box.get_right() + RIGHT * self.arrow_length, buff=0.1,
                      color=colour, stroke_width=3, max_tip_length_to_length_ratio=0.2)
        return VGroup(down, right)

    def candidate_chart(self, prediction, number):
        """This step's top candidates with their real probabilities; the chosen one lit."""
        entries, chosen = prediction.rows()
        rows = probability_bars(self.theme, [self.candidate_label(e) for e in entries], [e["prob"] for e in entries],
                                self.bar_length, highlight=chosen, size=self.row_size, row_height=0.46,
                                label_width=self.label_width, notes=self.rank_notes(entries),
                                meanings=[("probability", prediction.position, e["id"]) for e in entries])
        title = self.words("loop.step", size=self.row_size, color=self.theme.text, step=number,
                           n_steps=len(self.steps))
        title.next_to(rows, UP, buff=0.3).align_to(rows[0].bar, LEFT)
        chart = VGroup(title, rows)
        left = self.model_box_centre[0] + self.model_box_size[0] / 2 + self.arrow_length + 0.3  # past the arrow
        top, bottom = self.top - 1.7, self.caption_top()
        chart.scale(min(1.25, (self.right_edge() - left) / chart.width, (top - bottom) / chart.height))
        chart.move_to([left + chart.width / 2, self.model_box_centre[1], 0])
        chart.rows, chart.chosen = rows, chosen
        return chart
