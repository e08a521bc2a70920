"""Caption files: every caption line shown on screen, as SRT and WebVTT cues timed on the
joined video (and on each clip), in the video's language; and videos for a lecturer who
narrates (no caption line drawn, the same timing, the files still written)."""

import html

import pytest
import srt
import webvtt
from cli_checks import run_cli
from scene_checks import legibility_problems

from renderer.video import video_info
from scenes.base import SceneOptions
from scenes.catalog import CATALOG
from scenes.strings import say

FRAME = 1 / 15  # --quality low


def srt_cues(path):
    return [(cue.start.total_seconds(), cue.end.total_seconds(), cue.content)
            for cue in srt.parse(path.read_text(encoding="utf-8"))]


def vtt_cues(path):
    return [(caption.start_in_seconds + caption.start_time.milliseconds / 1000,
             caption.end_in_seconds + caption.end_time.milliseconds / 1000, html.unescape(caption.text))
            for caption in webvtt.read(str(path))]  # a cue's text is markup: &lt; is "<"


def length(path):
    info = video_info(path)
    return info.frames / info.fps


def render(capsys, trace_file, out, *options):
    status, stdout, stderr = run_cli(capsys, "video", "--trace", str(trace_file), "--quality", "low", "--out",
                                     str(out), *options)
    assert status == 0, stderr
    return stdout


def assert_well_formed(cues, duration):
    assert cues, "no cues"
    for (start, end, text), following in zip(cues, cues[1:] + [None]):
        assert 0 <= start < end <= duration + FRAME and text
        if following is not None:
            assert end <= following[0] + 1e-3, "cues overlap or are out of order"


def test_a_video_has_caption_files_timed_on_the_joined_clips(capsys, nano_sort_trace_file, tmp_path):
    out = tmp_path / "v.mp4"
    stdout = render(capsys, nano_sort_trace_file, out, "--scenes", "title,tokens")
    assert f"Captions: {tmp_path / 'v.srt'}, {tmp_path / 'v.vtt'}" in stdout
    video = srt_cues(tmp_path / "v.srt")
    assert_well_formed(video, length(out))
    assert abs(video[-1][1] - length(out)) <= FRAME, "the last cue ends with the video"
    assert [cue[2] for cue in video][:2] == [say("en", "title.promise"), say("en", "tokens.text")]
    vtt = vtt_cues(tmp_path / "v.vtt")
    assert [cue[2] for cue in vtt] == [cue[2] for cue in video]
    assert all(abs(a[0] - b[0]) < 2e-3 and abs(a[1] - b[1]) < 2e-3 for a, b in zip(vtt, video))

    clips = tmp_path / "v" / "clips"
    offset, shifted = 0.0, []
    for clip in ("01_title", "02_tokens"):
        cues = srt_cues(clips / f"{clip}.srt")
        assert_well_formed(cues, length(clips / f"{clip}.mp4"))
        assert [cue[2] for cue in vtt_cues(clips / f"{clip}.vtt")] == [cue[2] for cue in cues]
        shifted += [(start + offset, end + offset, text) for start, end, text in cues]
        offset += length(clips / f"{clip}.mp4")
    assert len(shifted) == len(video)
    assert all(abs(a[0] - b[0]) < 2e-3 and abs(a[1] - b[1]) < 2e-3 and a[2] == b[2] for a, b in zip(shifted, video))


def test_srt_and_vtt_give_every_cue_the_same_millisecond(tmp_path):
    from renderer.captions import Cue, write_caption_files

    # 130 frames at 15 fps is 8.6666... s: SubRip's library cut it to 08,666, WebVTT rounded to 08.667
    cues = [Cue(0.0, 130 / 15, "one"), Cue(130 / 15, 131 / 15, "two")]
    write_caption_files(cues, str(tmp_path / "v.mp4"))
    assert "00:00:08,667" in (tmp_path / "v.srt").read_text() and "00:00:08.667" in (tmp_path / "v.vtt").read_text()
    assert [cue[:2] for cue in srt_cues(tmp_path / "v.srt")] == [cue[:2] for cue in vtt_cues(tmp_path / "v.vtt")]


@pytest.mark.parametrize("text", ["x <", "x -->", "a & b &amp; <b>c</b>", "one\n\ntwo"])
def test_vtt_cue_text_is_escaped_markup_and_srt_keeps_it_literally(tmp_path, text):
    from renderer.captions import Cue, write_caption_files

    write_caption_files([Cue(0.0, 1.0, text)], str(tmp_path / "v.mp4"))  # "-->" raised ValueError here
    written = (tmp_path / "v.vtt").read_text(encoding="utf-8").split("\n", 3)[3]
    assert "<" not in written and "-->" not in written  # no tag, no timing line inside the cue
    kept = text.replace("\n\n", "\n")  # a blank line would end the cue (srt drops it too)
    assert [cue[2] for cue in vtt_cues(tmp_path / "v.vtt")] == [kept]
    assert [cue[2] for cue in srt_cues(tmp_path / "v.srt")] == [kept]


def test_captions_speak_the_videos_language(capsys, nano_sort_trace_file, tmp_path):
    out = tmp_path / "ja.mp4"
    render(capsys, nano_sort_trace_file, out, "--scenes", "title", "--lang", "ja")
    assert [cue[2] for cue in srt_cues(tmp_path / "ja.srt")] == [say("ja", "title.promise")]


def test_no_captions_writes_no_caption_files(capsys, nano_sort_trace_file, tmp_path):
    render(capsys, nano_sort_trace_file, tmp_path / "v.mp4", "--scenes", "title", "--no-captions")
    assert not list(tmp_path.rglob("*.srt")) and not list(tmp_path.rglob("*.vtt"))


def test_without_the_caption_line_the_files_are_still_written(capsys, nano_sort_trace_file, tmp_path):
    with_line, without = tmp_path / "with.mp4", tmp_path / "without.mp4"
    render(capsys, nano_sort_trace_file, with_line, "--scenes", "title")
    render(capsys, nano_sort_trace_file, without, "--scenes", "title", "--no-on-screen-captions")
    assert length(without) == pytest.approx(length(with_line), abs=FRAME)
    hidden, shown = srt_cues(tmp_path / "without.srt"), srt_cues(tmp_path / "with.srt")
    assert [cue[2] for cue in hidden] == [cue[2] for cue in shown]
    assert all(abs(a[0] - b[0]) <= FRAME + 1e-3 and abs(a[1] - b[1]) <= FRAME + 1e-3 for a, b in zip(hidden, shown))


@pytest.mark.parametrize("info", CATALOG, ids=lambda info: info.name)
def test_without_the_caption_line_the_scene_keeps_its_timing_and_draws_no_caption(info, scene_report):
    shown = scene_report(info, "nano_sort_trace")
    hidden = scene_report(info, "nano_sort_trace", SceneOptions(on_screen_captions=False))
    assert hidden.duration == pytest.approx(shown.duration)
    assert [s.name for s in hidden.sections] == [s.name for s in shown.sections]
    captions = set(shown.words()) - set(hidden.words())
    assert captions, "the caption line is gone"
    assert not legibility_problems(hidden), "the layout keeps its place"
