"""The page's skeleton: the HTML document, its sections, tables and embedded figures, the CSS."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from matplotlib.figure import Figure

# (anchor, heading) of the sections every report has, in page order.
SECTIONS = (
    ("overview", "Overview"),
    ("clusters", "Clusters in the data"),
    ("membership", "Membership of every row"),
    ("posterior", "Weights and means"),
    ("convergence", "Convergence of the sampler"),
    ("diagnostics", "Diagnostics"),
    ("parameters", "Parameter table"),
    ("settings", "Settings"),
)
# (anchor, heading) of the sections some reports have, in page order before the settings.
OPTIONAL_SECTIONS = (
    ("noise", "Rows taken by the noise component"),
    ("reference", "Clusters vs known classes"),
    ("comparison", "Number of clusters"),
)


def page(title: str, body: list[str], shown: set[str] = frozenset()) -> str:
    """The HTML document: title, links to every section, the sections in ``body``.

    ``shown`` names the optional sections the page holds (anchors of ``OPTIONAL_SECTIONS``).
    """
    sections = list(SECTIONS)
    for anchor, heading in OPTIONAL_SECTIONS:
        if anchor in shown:
            sections.insert(-1, (anchor, heading))
    nav = " · ".join(f'<a href="#{anchor}">{e(heading)}</a>' for anchor, heading in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{e(title)}</h1><nav>{nav}</nav></header><main>"
        + "".join(body)
        + "</main></body></html>\n"
    )


def section(anchor: str, content: str, heading: str | None = None) -> str:
    """One <section>, headed by its entry in ``SECTIONS`` unless ``heading`` is given."""
    heading = heading or dict(SECTIONS)[anchor]
    return f'<section id="{anchor}"><h2>{e(heading)}</h2>{content}</section>'


def table_html(frame: pd.DataFrame, *, index: bool) -> str:
    """A table of the page (values escaped, missing values blank)."""
    return frame.to_html(index=index, border=0, escape=True, na_rep="")


def e(text) -> str:
    """``text`` escaped for HTML, quotes included."""
    return html.escape(str(text), quote=True)


class FigureCounter:
    """Numbers the figures and turns each into an embedded <figure>."""

    def __init__(self) -> None:
        self.n = 0

    def figure(self, fig: Figure, title: str, caption: str) -> str:
        self.n += 1
        return (
            f'<figure><img src="{_png_data_uri(fig)}" alt="{e(title)}">'
            f"<figcaption><b>Figure {self.n}. {e(title)}.</b> {e(caption)}</figcaption>"
            "</figure>"
        )


def _png_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
header { background: #243447; color: white; padding: 1em 2em; }
header h1 { margin: 0 0 0.3em 0; font-size: 1.6em; }
nav a { color: #cfe3ff; text-decoration: none; font-size: 0.9em; }
main { max-width: 1150px; margin: 0 auto; padding: 0 2em 3em 2em; }
section { background: white; margin: 1.2em 0; padding: 0.6em 1.4em 1.2em 1.4em;
          border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; font-size: 1.25em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.5em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; }
th { background: #f0f3f7; }
td:first-child, th:first-child { text-align: left; }
#diagnostics td, #diagnostics th, #settings th { text-align: left; vertical-align: top; }
#settings td { text-align: left; font-family: ui-monospace, monospace; }
tr.ok td:nth-child(4) { color: #1a7f37; font-weight: bold; }
tr.check td:nth-child(4) { color: #b35900; font-weight: bold; }
tr.fixed td:nth-child(4) { color: #0b5cad; font-weight: bold; }
p.ok { color: #1a7f37; } p.warn { color: #b35900; font-weight: bold; }
"""
