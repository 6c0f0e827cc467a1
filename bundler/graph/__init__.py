"""Stage 2, graph: which units may be bundled together (boundaries at most ``max_gap_m``
apart, or a shared landscape id), and summaries of its connected groups.

Data flow: file -> units -> **graph** + scores -> problems -> ... Each connected group of
eligible units becomes one independent problem in :mod:`bundler.planning`.
"""

from typing import TYPE_CHECKING

from bundler._lazy import lazy_exports

if TYPE_CHECKING:
    from bundler.graph.adjacency import GraphSummary, build_adjacency, edges_frame, graph_summary

_EXPORTS = {
    "GraphSummary": "bundler.graph.adjacency",
    "build_adjacency": "bundler.graph.adjacency",
    "edges_frame": "bundler.graph.adjacency",
    "graph_summary": "bundler.graph.adjacency",
}
__all__ = [
    "GraphSummary",
    "build_adjacency",
    "edges_frame",
    "graph_summary",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
