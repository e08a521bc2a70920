"""The MLP of the layer, on the last prompt token: its vector after LayerNorm 2 (d numbers)
times W_in, plus a bias, gives 4d pre-activations; GELU bends each one (the curve drawn,
with this token's real (pre, post) pairs placed on it, one neuron worked through); the
most active neurons; times W_out back to d numbers (the Trace's MLP output), added to the
residual stream (resid_mid + mlp_out = resid_post)."""

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Axes, Circle, Create, Group, VGroup, VMobject

from scenes.base import LayerScene
from scenes.kit.charts import dot_cloud, probability_bars
from scenes.kit.motion import Fade
from scenes.kit.numbers import fmt_value, mono, value_text
from scenes.kit.text import fit_within
from scenes.views import activation_curve


# The activation's formula, by config `activation_function` (GPT-2: gelu_new).
FORMULAS = {"gelu_new": "mlp.formula_tanh", "gelu_pytorch_tanh": "mlp.formula_tanh", "gelu_fast": "mlp.formula_tanh",
            "gelu": "mlp.formula_erf", "relu": "mlp.formula_relu"}


class MLPScene(LayerScene):
    label_size = 22
    n_neurons = 6  # the most active neurons listed
    graph_size = (6.0, 4.6)  # the GELU graph's axes, width x height

    def construct(self):
        self.show_heading("mlp.heading")
        view, last = self.layer_view, self.last
        self.d_model, self.d_mlp = self.trace.d_model, view.mlp_pre.shape[1]
        L = self.layer

        # -- beat 1: d numbers in, 4d pre-activations out -------------------------------------------
        expand = self.matrix_beat("expand", self.say("mlp.explain_expand", d_model=self.d_model, d_mlp=self.d_mlp),
                                  [], view.mlp_in[last], "ln2.hook_normalized", "mlp.input",
                                  view.mlp_pre[last], "mlp.hook_pre", "mlp.pre", "W_in", "b_in")

        # -- beat 2: GELU on every pre-activation ----------------------------------------------------
        self.beat("gelu")
        self.set_caption(self.say("mlp.explain_gelu", d_mlp=self.d_mlp))
        self.hide([part for group in expand for part in group])
        graph = self.gelu_graph()
        neuron = int(view.most_active(last, 1)[0])
        worked = self.worked_neuron(neuron, graph)
        self.play(Create(graph.axes), Create(graph.curve), *[Fade(m) for m in graph.labels], run_time=1.0)
        self.play(Fade(graph.cloud), run_time=0.6)
        self.show(worked, run_time=0.8)
        self.wait(2)

        # -- beat 3: the most active neurons --------------------------------------------------------------
        self.beat("neurons")
        self.set_caption(self.say("mlp.explain_neurons", n=self.n_neurons))
        self.hide(worked[1:])
        chart = self.neuron_chart(graph)
        self.show(chart, run_time=1.0, lag_ratio=0.05)
        self.wait(2)

        # -- beat 4: back to d numbers ----------------------------------------------------------------------
        project = self.matrix_beat("project", self.say("mlp.explain_project", d_model=self.d_model, d_mlp=self.d_mlp),
                                   [graph, worked[0], *chart], view.mlp_post[last], "mlp.hook_post", "mlp.post",
                                   view.mlp_out[last], "hook_mlp_out", "mlp.out", "W_out", "b_out")

        # -- beat 5: added to the residual stream ---------------------------------------------------------
        self.beat("residual")
        self.set_caption(self.say("mlp.explain_residual", layer=L))
        self.hide([part for group in project for part in group])
        rows = self.adding_rows(("mlp.resid_mid", "mlp.added", "mlp.resid_post"),
                                (view.resid_mid[last], view.mlp_out[last], view.resid_post[last]),
                                ("hook_resid_mid", "hook_mlp_out", "hook_resid_post"))
        self.show(rows[0] + rows[1], run_time=1.0)
        self.show(rows[2], run_time=1.0)
        self.wait(2.5)

    # -- beats 1 and 4: a vector times a matrix -----------------------------------------------------

    def matrix_beat(self, name, caption, leaving, *step):
        """A beat of a vector times a matrix: its caption, what leaves, then the vector in, the
        weights, the vector out (see matrix_step); returns those three lists."""
        self.beat(name)
        self.set_caption(caption)
        self.hide(leaving)
        parts = self.matrix_step(*step)
        for group, run_time in zip(parts, (0.8, 0.6, 0.8)):
            self.show(group, run_time=run_time)
        self.wait(2)
        return parts

    def matrix_step(self, before, before_name, before_key, after, after_name, after_key, matrix, bias):
        """The vector in (label, values, strip), "× W (n × m) + b", the vector out: three lists."""
        L = self.layer
        rows = []
        for k, (vector, name, key) in enumerate(((before, before_name, before_key), (after, after_name, after_key))):
            label = self.words(key, size=self.label_size + 2, color=self.theme.accent if k else self.theme.text,
                               n=len(vector), layer=L)
            rows += self.vector_rows([(label, vector, f"blocks.{L}.{name}")], top=self.content_top() - 0.3 - 2.7 * k)
        shape = self.say("shape", rows=len(before), cols=len(after))
        times = VGroup(mono(self.theme, f"× {matrix}", size=30, color=self.theme.accent_2),
                       mono(self.theme, f"({shape})", size=22, color=self.theme.muted),
                       mono(self.theme, f"+ {bias}", size=30, color=self.theme.accent_2)).arrange(RIGHT, buff=0.3)
        times.move_to([self.left_edge() + 0.3 + times.width / 2, self.content_top() - 1.85, 0])
        note = self.words("mlp.weights_note", size=20, color=self.theme.muted)
        note.next_to(times, RIGHT, buff=0.5)
        return [rows[0], [times, note], rows[1]]

    # -- beat 2: the GELU curve with this token's points ------------------------------------------------

    def gelu_graph(self):
        """Axes spanning this token's pre-activations, GELU drawn as a curve, and every one of
        its (pre, post) pairs as a dot on it (one image: 3,072 dots would be 3,072 mobjects)."""
        pre, post = self.layer_view.mlp_pre[self.last], self.layer_view.mlp_post[self.last]
        x_lo, x_hi = float(np.floor(min(pre.min(), -1))), float(np.ceil(max(pre.max(), 1)))
        y_lo, y_hi = min(float(np.floor(post.min())), -0.5), float(max(np.ceil(post.max()), 1))  # GELU's least: -0.17
        width, height = self.graph_size
        axes = Axes(x_range=[x_lo, x_hi, x_hi - x_lo], y_range=[y_lo, y_hi, y_hi - y_lo], x_length=width,
                    y_length=height, tips=False, axis_config={"color": self.theme.muted, "stroke_width": 2,
                                                              "include_ticks": False})
        axes.move_to([self.left_edge() + 0.5 + width / 2, (self.content_top() + self.caption_top()) / 2 + 0.1, 0])
        xs = np.linspace(x_lo, x_hi, 200)
        ys = activation_curve(self.trace.config.get("activation_function", "gelu_new"), xs)
        curve = VMobject(stroke_color=self.theme.accent_2, stroke_width=3)
        if ys is not None:
            curve.set_points_as_corners([axes.c2p(x, y) for x, y in zip(xs, ys)])
        cloud = dot_cloud(np.array([axes.c2p(x, y) for x, y in zip(pre, post)]), axes, self.theme.accent)
        ticks = []
        for value, where, side in ((x_lo, axes.c2p(x_lo, 0), DOWN), (x_hi, axes.c2p(x_hi, 0), DOWN),
                                   (y_hi, axes.c2p(0, y_hi), LEFT)):
            tick = value_text(self.theme, value, ("axis", value), size=18, color=self.theme.muted,
                              fmt=lambda v: fmt_value(v, 0))
            ticks.append(tick.next_to(where, side, buff=0.12))
        x_name = self.words("mlp.axis_pre", size=18, color=self.theme.muted)
        x_name.next_to(axes.c2p(x_hi, 0), DOWN, buff=0.12).shift(LEFT * (x_name.width / 2 + ticks[1].width / 2 + 0.2))
        y_name = self.words("mlp.axis_post", size=18, color=self.theme.muted)
        y_name.next_to(axes.c2p(0, y_hi), RIGHT, buff=0.15)
        graph = Group(axes, curve, cloud, *ticks, x_name, y_name)
        graph.axes, graph.curve, graph.cloud, graph.labels = axes, curve, cloud, [*ticks, x_name, y_name]
        return graph

    def worked_neuron(self, neuron, graph):
        """The most active neuron circled on the curve, and GELU(pre) = post written out."""
        L, last = self.layer, self.last
        pre, post = self.layer_view.mlp_pre[last, neuron], self.layer_view.mlp_post[last, neuron]
        ring = Circle(radius=0.12, color=self.theme.text, stroke_width=3).move_to(graph.axes.c2p(pre, post))
        left = graph.axes.get_right()[0] + 0.6
        title = self.words("mlp.neuron", size=self.label_size, color=self.theme.accent, neuron=neuron)
        activation = self.trace.config.get("activation_function", "gelu_new")
        name = "ReLU" if activation == "relu" else "GELU" if activation.startswith("gelu") else activation
        equation = VGroup(mono(self.theme, f"{name}(", size=26),
                          value_text(self.theme, pre, ("trace", f"blocks.{L}.mlp.hook_pre", (last, neuron)), size=26),
                          mono(self.theme, ") =", size=26),
                          value_text(self.theme, post, ("trace", f"blocks.{L}.mlp.hook_post", (last, neuron)),
                                     size=26, color=self.theme.accent)).arrange(RIGHT, buff=0.06)
        equation[3].shift(RIGHT * 0.1)  # room round the "=" (")" and "=" share one text)
        formula = self.words(FORMULAS.get(activation, "mlp.formula_other"), size=20, color=self.theme.muted,
                             name=activation)
        why = self.words("mlp.gelu_why", size=20, color=self.theme.muted)
        block = VGroup(title, equation, formula, why).arrange(DOWN, aligned_edge=LEFT, buff=0.3)
        fit_within(block, width=self.right_edge() - left)
        block.move_to([left, graph.axes.get_center()[1], 0], aligned_edge=LEFT)
        return [ring, *block]

    # -- beat 3: the most active neurons ------------------------------------------------------------------

    def neuron_chart(self, graph):
        """The n largest outputs after GELU, as bars labelled by the neuron's index."""
        L, last = self.layer, self.last
        neurons = [int(n) for n in self.layer_view.most_active(last, self.n_neurons)]
        values = [float(self.layer_view.mlp_post[last, n]) for n in neurons]
        rows = probability_bars(self.theme, [self.say("mlp.neuron", neuron=n) for n in neurons],
                                values, 2.2, size=22, row_height=0.5, label_width=2.2, fmt=fmt_value,
                                largest=max(max(values), 1e-9),
                                meanings=[("trace", f"blocks.{L}.mlp.hook_post", (last, n)) for n in neurons])
        title = self.words("mlp.most_active", size=20, color=self.theme.muted)
        title.next_to(rows, UP, buff=0.3).align_to(rows, LEFT)
        chart = VGroup(title, rows)
        left = graph.axes.get_right()[0] + 0.6
        fit_within(chart, width=self.right_edge() - left, height=self.content_top() - self.caption_top() - 0.3)
        chart.move_to([left, graph.axes.get_center()[1], 0], aligned_edge=LEFT)
        return [title, *rows]

