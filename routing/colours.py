"""One colour per collector, shared by the GeoJSON and the SVG (no I/O)."""

from __future__ import annotations

# Kelly's colours of maximum contrast (without white and black), then darker variants.
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
    "#469990", "#800000", "#808000", "#000075", "#bfef45", "#dcbeff", "#aaffc3", "#ffd8b1",
    "#fabed4", "#a9a9a9", "#ffe119", "#7f3c8d",
)  # fmt: skip


def colour_of(index: int) -> str:
    """The colour of the ``index``-th collector of a plan (collectors sorted by id)."""
    return PALETTE[index % len(PALETTE)]


def collector_colours(collector_ids: list[str]) -> dict[str, str]:
    """Colours for a plan's collectors, stable for a given set of ids."""
    return {cid: colour_of(i) for i, cid in enumerate(sorted(collector_ids))}
