"""The outputs as real clients read them: headless Chromium (driven by Playwright) plays the
joined transparent WebM and parses the WebVTT captions.

A check with FFmpeg alone misses what a browser sees: FFmpeg's libvpx decoder finds a VP9
alpha plane that Chromium ignores unless the Matroska track says it is there, and webvtt-py
reads a cue's text without parsing its markup. `make test-tools` installs Chromium (Debian's
`chromium` package; Playwright's own browser download is not needed).

The page is served from a local HTTP server: Chromium refuses a <track> from a file:// page,
and a video from one taints the canvas it is drawn on.
"""

import functools
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from renderer.captions import Cue, write_caption_files

ROOT = Path(__file__).resolve().parent.parent


def chromium_executable():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: "
                                         "pip install -e '.[dev]' (with -c constraints.txt)")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed: `make test-tools` installs it as root; "
                    "else sudo apt-get install -y chromium")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page(browser, tmp_path):
    """A blank page served from tmp_path (so its files are same-origin) and that folder."""
    (tmp_path / "index.html").write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tab = browser.new_page()
    try:
        tab.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        yield tab, tmp_path
    finally:
        tab.close()
        server.shutdown()
        thread.join()


# -- WebM with alpha -------------------------------------------------------------------------

DRAW_FRAME = """([src, time]) => new Promise((ok, fail) => {
    // Played up to `time`, then drawn from the frame being presented (a seek is not enough:
    // Chromium may still draw the first frame after its "seeked" event).
    const video = document.createElement('video');
    video.muted = true;
    video.src = src;
    document.body.appendChild(video);
    video.onerror = () => fail(video.error.message);
    setTimeout(() => fail(`no frame at ${time} s of ${src}`), 60000);
    const draw = (now, frame) => {
        if (frame.mediaTime < time) {
            video.requestVideoFrameCallback(draw);
            return;
        }
        video.pause();
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const context = canvas.getContext('2d');
        context.drawImage(video, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let clear = 0, opaque = 0;
        for (let i = 3; i < pixels.length; i += 4) {
            if (pixels[i] === 0) clear++;
            if (pixels[i] === 255) opaque++;
        }
        video.remove();
        ok({clear, opaque, total: pixels.length / 4, time: frame.mediaTime, duration: video.duration});
    };
    video.requestVideoFrameCallback(draw);
    video.playbackRate = 4;
    video.play().catch(fail);
})"""


def test_chromium_draws_the_joined_transparent_webm_with_a_clear_background(page, nano_sort_trace_file):
    tab, folder = page
    # two scenes, so the video is a join of two clips (a single clip is only retagged)
    result = subprocess.run([sys.executable, str(ROOT / "render.py"), "video", "--trace", str(nano_sort_trace_file),
                             "--scenes", "title,tokens", "--quality", "low", "--fps", "5", "--format", "webm",
                             "--transparent", "--no-captions", "--out", str(folder / "v.webm")],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    offset = 0.0
    for clip in ("01_title.webm", "02_tokens.webm"):
        drawn_clip = tab.evaluate(DRAW_FRAME, [f"v/clips/{clip}", 3.0])  # 3 s in: its first pictures are there
        drawn = tab.evaluate(DRAW_FRAME, ["v.webm", offset + 3.0])
        for what, picture in ((clip, drawn_clip), (f"v.webm at {offset + 3.0:.1f} s", drawn)):
            assert picture["clear"] > picture["total"] / 2, f"Chromium draws {what} opaque: {picture}"
            assert picture["opaque"] > 0, f"{what} is drawn empty: {picture}"
        offset += drawn_clip["duration"]


# -- WebVTT ----------------------------------------------------------------------------------

READ_CUES = """src => new Promise((ok, fail) => {
    const video = document.createElement('video');
    const track = document.createElement('track');
    track.src = src;
    track.onload = () => ok([...track.track.cues].map(cue =>
        [cue.startTime, cue.endTime, cue.getCueAsHTML().textContent]));
    track.onerror = () => fail('Chromium could not read ' + src);
    video.appendChild(track);
    document.body.appendChild(video);
    track.track.mode = 'hidden';
})"""

TRICKY_TEXTS = ["x <", "a < b > c & d &amp; e", "x -->", "<b>not bold</b>", "1 --> 2\nline two"]


def test_chromium_reads_every_cue_text_as_it_was_shown(page):
    import srt

    tab, folder = page
    cues = [Cue(index * 26 / 3, (index + 1) * 26 / 3, text) for index, text in enumerate(TRICKY_TEXTS)]
    write_caption_files(cues, str(folder / "v.mp4"))
    read = tab.evaluate(READ_CUES, "v.vtt")
    assert [text for _, _, text in read] == TRICKY_TEXTS  # nothing swallowed as a tag, no cue split
    subrip = list(srt.parse((folder / "v.srt").read_text(encoding="utf-8")))
    assert [cue.content for cue in subrip] == TRICKY_TEXTS  # SubRip keeps the text literally
    # both files give every cue the same millisecond (26/3 s is 8.667 in each)
    assert [(start, end) for start, end, _ in read] == \
           [(cue.start.total_seconds(), cue.end.total_seconds()) for cue in subrip]
    assert read[0][1] == 8.667
