"""Small XMILE models written by the tests (not corpus files)."""

from __future__ import annotations

from pathlib import Path

NAMESPACE = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
EULER = '<sim_specs method="Euler" time_units="Months"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>'


def write_xmile(folder: Path, name: str, variables: str, *, specs: str = EULER, head: str = "", views: str = "",
                model: str = "") -> Path:
    """Write an XMILE file: ``variables`` go in ``<model><variables>``, ``head`` before ``<model>``."""
    path = folder / name
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<xmile version="1.0" xmlns="{NAMESPACE}" xmlns:isee="http://iseesystems.com/XMILE">\n'
        "<header><vendor>gscsd tests</vendor><product version=\"1\">hand-written</product></header>\n"
        f"{specs}\n{head}\n"
        f"<model>\n<variables>\n{variables}\n</variables>\n<views>{views}</views>\n</model>\n{model}"
        "</xmile>\n",
        encoding="utf-8",
    )
    return path
