"""What must be present before a render starts: the native libraries, each scene's module,
and for Japanese the font that draws it.

All are checked in a fraction of a second, before any model runs or file is written, so a
broken installation is one clear error line (with how to fix it), not a traceback from a
worker minutes later.
"""

import importlib.util
import shutil
import subprocess

# The native libraries Manim draws, lays out text and encodes with. Loading them takes a
# tenth of a second (importing Manim takes seconds), so a missing one is named, with how
# to install it, before any work starts.
RENDER_LIBRARIES = (("cairo", "Cairo"), ("manimpango", "Pango"), ("av", "FFmpeg (through PyAV)"))
INSTALL_HINT = ("install the system libraries, e.g. `sudo apt-get install libcairo2-dev libpango1.0-dev ffmpeg` "
                "(Debian/Ubuntu) or `brew install cairo pango ffmpeg` (macOS), then `pip install -e .` again")


FONT_HINT = ("install it with `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu) or "
             "`brew install --cask font-noto-sans-cjk` (macOS)")


def check_can_render(infos, language="en"):
    """Raise a UserError unless the render libraries load, every scene in `infos` is present,
    and the fonts that `language` needs are installed."""
    require_render_libraries()
    check_scenes_exist(infos)
    require_fonts(language)


def require_fonts(language):
    """Japanese needs the theme's CJK fonts: without them Pango draws every Japanese glyph
    as a white box, and says nothing. (English falls back to any font, and looks fine.)"""
    from scenes.theme import NUMBER_FONT, TEXT_FONT
    from tracer.errors import UserError

    if language != "ja" or shutil.which("fc-list") is None:  # no fontconfig: nothing to ask
        return
    listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30).stdout
    families = {name.strip() for line in listing.splitlines() for name in line.split(",")}
    for font in (TEXT_FONT, NUMBER_FONT):
        if font not in families:
            raise UserError(f"cannot draw Japanese: the font {font!r} is not installed; {FONT_HINT}")


def require_render_libraries():
    from tracer.errors import UserError

    for module, library in RENDER_LIBRARIES:
        try:
            __import__(module)
        except (ImportError, OSError) as error:
            raise UserError(missing_library_message(error, module, library))


def missing_library_message(error, module, library):
    from tracer.errors import first_line

    if isinstance(error, ModuleNotFoundError) and error.name == module:
        return f"the Python package {module} is not installed (Manim needs it): run `pip install -e .` in this project"
    text = first_line(error)
    for needle, named in (("cairo", "Cairo"), ("pango", "Pango"), ("glib", "GLib (Pango needs it)"),
                          ("harfbuzz", "HarfBuzz (Pango needs it)"), ("avcodec", "FFmpeg"), ("avformat", "FFmpeg")):
        if needle in text.lower():
            library = named
            break
    return f"cannot render: the system library {library} is missing or broken ({text}); {INSTALL_HINT}"


def check_scenes_exist(infos):
    """Each selected scene's module is present (found, not imported: the workers import them)."""
    from tracer.errors import UserError

    for info in infos:
        if importlib.util.find_spec(info.module) is None:
            raise UserError(f"the scene {info.name!r} is not available in this version ({info.module} is missing)")
