"""One bound scene to one file, a clip (MP4) or a still (the last frame, PNG), through Manim.

Manim is driven from Python with `tempconfig` (never by shelling out to the manim command),
with every output inside a private work directory and Manim's own cache off (see files.py).
Manim is imported only when a render starts.
"""

import os

from renderer.captions import save_cues, scene_cues
from renderer.files import private_directory, publish
from renderer.presets import Quality, quality_preset


def manim_settings(work, quality, output_name, still):
    """Manim config for one render: everything inside `work`, no cache, no terminal output."""
    return {
        "media_dir": work,
        "video_dir": work,
        "images_dir": work,
        "partial_movie_dir": os.path.join(work, "segments"),
        "output_file": output_name,
        # "png" writes only the last frame and skips the animations (the cheap mode);
        # "mp4" rather than "auto", which would write a PNG for a scene without play().
        "format": "png" if still else "mp4",
        "pixel_width": quality.width,
        "pixel_height": quality.height,
        "frame_rate": quality.fps,
        "video_encoder_options": dict(quality.encoder_options),
        "disable_caching": True,  # we own the caching: a killed run must not poison the next
        "save_sections": False,
        "preview": False,
        "log_to_file": False,
        "verbosity": "ERROR",
        "progress_bar": "none",
    }


def render_with_manim(scene_class, work, quality, output_name, still):
    """Render `scene_class` into `work`; returns the path Manim wrote and the rendered scene."""
    from manim import config, tempconfig

    settings = manim_settings(work, quality, output_name, still)
    unknown = set(settings) - set(config)  # tempconfig silently drops keys it does not know
    assert not unknown, f"not Manim config keys: {unknown}"
    with tempconfig(settings):
        scene = scene_class()
        scene.render()
    written = os.path.join(work, output_name + (".png" if still else ".mp4"))
    if not os.path.isfile(written):
        raise RuntimeError(f"{scene_class.__name__} wrote no {'image' if still else 'video'} "
                           "(a scene must play at least one animation or wait)")
    return written, scene


def render_clip(scene_class, out, quality="low", fps=None, cues_out=None):
    """Render one bound scene to the MP4 file `out`; returns `out`. With `cues_out`, the
    caption lines the scene showed, and when, go there too (see captions.py)."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality, fps)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        written, scene = render_with_manim(scene_class, work, quality, "clip", still=False)
        if cues_out is not None:
            cues = os.path.join(work, "clip.cues.json")
            save_cues(scene_cues(scene, scene.renderer.time), cues)
            publish(cues, cues_out)
        return publish(written, out)


def render_still(scene_class, out, quality="high"):
    """Write the last frame of one bound scene as the PNG file `out` (animations skipped)."""
    quality = quality if isinstance(quality, Quality) else quality_preset(quality)
    with private_directory(os.path.dirname(os.path.abspath(out))) as work:
        return publish(render_with_manim(scene_class, work, quality, "still", still=True)[0], out)
