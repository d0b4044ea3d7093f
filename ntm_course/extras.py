"""The course's optional parts and what they need: a missing one fails with the extra to install.

``pip install ntm-course`` gives the library (torch, numpy, tqdm). The rest comes in extras: ``lessons``
(JupyterLab, ipywidgets, matplotlib: the figures and widgets), and the instructor's distribution with its own
extra: ``grading`` (``pip install ntm-course-instructor``: nbgrader and nbconvert, for release and grade) and
``site`` (``pip install 'ntm-course-instructor[site]'``: Jupyter Book, for render).
A module that needs one imports it inside :func:`needs`::

    with needs("lessons", __name__):
        import ipywidgets as widgets

and without ipywidgets installed, importing it raises :class:`MissingExtra` (a ``ModuleNotFoundError``), in one
line::

    ntm_course.presentation.widgets needs the course's 'lessons' extra (no module named 'ipywidgets'):
    pip install 'ntm-course[lessons]'
"""
import contextlib


EXTRAS = {"lessons": "ntm-course[lessons]", "grading": "ntm-course-instructor",
          "site": "ntm-course-instructor[site]"}
"""Each optional part of the course, and the pip requirement that installs it."""


class MissingExtra(ModuleNotFoundError):
    """An optional part of the course was used without the extra that installs what it needs."""


@contextlib.contextmanager
def needs(extra, user):
    """Turn a missing third-party module inside the block into a :class:`MissingExtra` naming ``extra``.

    ``user`` names what needs it in the message (a module's ``__name__``, or ``ntm-course-instructor grade``). A missing
    module of the course itself is a bug, not a missing extra: that error passes unchanged. A ``MissingExtra``
    raised further in for the same extra is named again for this ``user`` (the outermost one speaks: a command
    rather than the module it imports); one for another extra passes unchanged.
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {tuple(EXTRAS)}, got {extra!r}")
    try:
        yield
    except MissingExtra as error:
        if error.extra != extra:
            raise
        raise _missing(user, extra, error.name) from error.__cause__
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] == __package__:
            raise
        raise _missing(user, extra, error.name) from error


def _missing(user, extra, module):
    error = MissingExtra(f"{user} needs the course's {extra!r} extra (no module named {module!r}): "
                         f"pip install '{EXTRAS[extra]}'", name=module)
    error.extra = extra
    return error


def ipython_shell():
    """The running IPython shell (a notebook's kernel), or None outside IPython or without it installed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
