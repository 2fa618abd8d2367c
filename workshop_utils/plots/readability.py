"""Is a figure readable? Labelled axes and colour-blind-safe colours, checked on the figure itself.

:func:`figure_problems` lists what is wrong with one matplotlib figure. :func:`start_figure_audit`
checks every figure drawn from then on (in a notebook: every plot a cell or a widget shows), and
:func:`figure_audit_report` returns what it found; the browser test runs each notebook that way.
"""

from __future__ import annotations

from .style import COLOUR_BLIND_SAFE

# Rainbow-like maps that hide differences from colour-blind readers (and mislead everyone else).
NOT_COLOUR_BLIND_SAFE_MAPS = {"jet", "rainbow", "hsv", "gist_rainbow", "nipy_spectral", "gist_ncar", "turbo",
                              "RdYlGn", "Spectral", "RdGy", "brg", "prism", "flag", "tab10", "tab20", "Set1"}
_AUDIT: list[dict] | None = None


def _is_allowed_colour(colour) -> bool:
    """A colour of the workshop's colour-blind-safe set (Okabe-Ito and two more), or a grey."""
    from matplotlib.colors import to_hex, to_rgba

    red, green, blue, alpha = to_rgba(colour)
    if alpha == 0:
        return True
    if max(red, green, blue) - min(red, green, blue) < 0.02:
        return True  # a grey
    return to_hex((red, green, blue)).lower() in {c.lower() for c in COLOUR_BLIND_SAFE}


def _colour_map_name(artist) -> str | None:
    """The colour map an image or a colour-mapped collection uses, or None when it uses none."""
    if getattr(artist, "get_array", None) is None or artist.get_array() is None:
        return None
    cmap = artist.get_cmap()
    return cmap.name.removesuffix("_r") if cmap is not None else None


def figure_problems(fig) -> list[str]:
    """What makes ``fig`` hard to read: axes with data but no title or label, off-palette line or bar
    colours, rainbow colour maps. An empty list means none of these."""
    problems = []
    has_figure_title = bool(fig._suptitle and fig._suptitle.get_text())
    for number, ax in enumerate(fig.axes, start=1):
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        has_data = bool(ax.lines or ax.collections or ax.patches or ax.images)
        if not has_data:
            continue
        where = f"axes {number}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        if not (ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or has_figure_title):
            problems.append(f"{where}: no title and no axis label")
        elif ax.axison and ax.lines and not (ax.get_xlabel() or ax.get_ylabel()):
            problems.append(f"{where}: curves with no axis label")
        off_palette = sorted({str(line.get_color()) for line in ax.get_lines()
                              if line.get_visible() and not _is_allowed_colour(line.get_color())})
        off_palette += sorted({str(tuple(round(v, 2) for v in patch.get_facecolor())) for patch in ax.patches
                               if patch.get_visible() and patch.get_fill() and not _is_allowed_colour(patch.get_facecolor())})
        if off_palette:
            problems.append(f"{where}: colours outside the colour-blind-safe palette: {off_palette[:4]}")
        for artist in list(ax.images) + list(ax.collections):
            name = _colour_map_name(artist)
            if name in NOT_COLOUR_BLIND_SAFE_MAPS:
                problems.append(f"{where}: colour map {name!r} is not colour-blind safe (use viridis or cividis)")
    return problems


def figure_title(fig) -> str:
    """The figure's suptitle, else its axes titles joined (to name a figure in a report)."""
    if fig._suptitle and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    return " | ".join(ax.get_title() for ax in fig.axes if ax.get_title())[:120]


def start_figure_audit() -> None:
    """From now on, check every figure when it is drawn to an image (how notebooks show figures)."""
    global _AUDIT
    from matplotlib.backend_bases import FigureCanvasBase

    if _AUDIT is not None:
        return
    _AUDIT = []
    original = FigureCanvasBase.print_figure

    def print_and_audit(canvas, *args, **kwargs):
        fig = canvas.figure
        if not getattr(fig, "_workshop_audited", False):
            fig._workshop_audited = True
            _AUDIT.append({"title": figure_title(fig), "problems": figure_problems(fig)})
        return original(canvas, *args, **kwargs)

    FigureCanvasBase.print_figure = print_and_audit


def figure_audit_report() -> list[dict]:
    """One entry per figure drawn since :func:`start_figure_audit`: its title and its problems."""
    if _AUDIT is None:
        raise RuntimeError("start_figure_audit() was not called in this kernel")
    return list(_AUDIT)
