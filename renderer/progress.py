"""The one progress display of a render job: scenes done of all, time elapsed, time left.

On stderr for the command line; in a Jupyter notebook, one bar in the cell (tqdm.auto: a
widget where ipywidgets is installed, else a line of text redrawn in place).
"""

import sys
import time
import warnings

import click


def minutes(seconds):
    """m:ss, for times a person reads."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """The job's one progress display on stderr: scenes done of all, time elapsed, time left.

    On a terminal it is one line redrawn in place; in a log (not a terminal) one line per
    finished scene; in a Jupyter kernel (and no `stream` given) a tqdm.auto bar. The time
    left assumes each scene still to come takes as long as the finished ones did on average,
    with `jobs` of them rendering at once.
    """

    def __init__(self, total, jobs, stream=None):
        self.stream = stream or sys.stderr
        self.bar = notebook_bar(total) if stream is None and in_jupyter() else None
        self.live = self.bar is None and self.stream.isatty()
        self.total, self.jobs = total, jobs
        self.start = time.monotonic()
        self.running = {}  # scene name -> when it started
        self.seconds = []  # how long each finished scene took

    def report(self, event, task):
        """Called by render_in_parallel with "started", "done" or "tick" (task None)."""
        now = time.monotonic()
        if event == "started":
            self.running[task.scene.name] = now
        elif event == "done":
            self.seconds.append(now - self.running.pop(task.scene.name))
        if self.bar is not None:  # redrawn in place, ticks included: the elapsed time moves
            self.bar.n = len(self.seconds)
            self.bar.set_description_str(self.status(), refresh=True)
        elif self.live:
            self.stream.write("\r\033[K" + self.status())
            self.stream.flush()
        elif event == "done":
            click.echo(self.status(finished=task.scene.name), err=True)

    def time_left(self):
        if not self.seconds:
            return None
        now = time.monotonic()
        average = sum(self.seconds) / len(self.seconds)
        running = sum(max(average - (now - started), 0) for started in self.running.values())
        waiting = self.total - len(self.seconds) - len(self.running)
        return (running + waiting * average) / self.jobs

    def status(self, finished=None):
        done = len(self.seconds)
        line = f"scene {done} of {self.total} done" + (f" ({finished})" if finished else "")
        line += f", {minutes(time.monotonic() - self.start)} elapsed, "
        if done == self.total:
            return line + "all rendered"
        left = self.time_left()
        line += ("estimating the time left" if left is None else
                 f"about {minutes(left)} left" if left >= 1 else "almost done")
        if self.running and (self.live or self.bar is not None):
            line += f"; rendering {', '.join(self.running)}"
        return line

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.live:
            self.stream.write("\n")
            self.stream.flush()


def in_jupyter():
    """Whether this process is a Jupyter kernel (its stderr is a cell's output, not a terminal)."""
    ipython = sys.modules.get("IPython")  # imported already in a kernel: never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def notebook_bar(total):
    """A tqdm.auto bar of `total` scenes whose text is the Progress status line."""
    from tqdm import TqdmWarning

    with warnings.catch_warnings():  # without ipywidgets the bar is text: that is fine, say nothing
        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.auto import tqdm

        return tqdm(total=total, bar_format="{bar} {desc}", leave=True)
