"""The one error type the command line turns into a one-line message and exit status 2."""


class UserError(Exception):
    """Bad input from the user: a prompt, an option, a model or a file that cannot be used."""


def first_line(error):
    """An exception's message cut to one line, for a one-line error message."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
