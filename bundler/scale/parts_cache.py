"""Completed parts of national runs and sweeps, kept on disk so a re-run resumes.

A part is one province planned under one scenario. Its key hashes everything
that decides the answer: the input files' sha256, the resolved scenario (its
name aside), the province, the solver settings and the ps-bundler version.
Each part is stored atomically as it completes, so a run that is killed or
that fails in one province keeps the others; the next run with the same
inputs and settings plans only what is missing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bundler.config.scenario import Scenario, to_dict
from bundler.outputs.files import atomic_output_dir
from bundler.scale.province_job import ProvinceResult
from bundler.version import __version__

SUMMARY_FILE = "summary.json"


def part_key(inputs: dict, scenario: Scenario, province: str, settings: dict) -> str:
    """A stable hex key for one part.

    Parameters
    ----------
    inputs : dict
        ``name -> {"path", "sha256"}``; only the hashes enter the key, so a
        moved or renamed file still finds its parts.
    scenario : Scenario
        Its name does not enter the key: a sweep's ``price=10`` and a file
        with the same values share parts.
    province : str
        Province code.
    settings : dict
        Solver name, time limit, gap, seed, threads, whether reports are written.

    Returns
    -------
    str
        24 hex digits.
    """
    scen = to_dict(scenario)
    scen.pop("name", None)
    payload = {
        "ps_bundler": __version__,
        "inputs": sorted(v["sha256"] for v in inputs.values()),
        "scenario": scen,
        "province": str(province),
        "settings": settings,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class PartsCache:
    """A folder of completed parts, one sub-folder per key.

    Parameters
    ----------
    root : Path
        The cache folder; created on first store.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, key: str) -> Path:
        """Where the part with ``key`` lives (it may not exist yet)."""
        return self.root / key

    def load(self, key: str) -> dict | None:
        """The summary of a completed part, or ``None`` when it is absent or unreadable."""
        path = self.folder(key) / SUMMARY_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def store(self, key: str, result: ProvinceResult) -> Path:
        """Write a part's files and summary, all or nothing, and return its folder."""
        target = self.folder(key)
        with atomic_output_dir(target, force=True) as tmp:
            for name, data in result.files.items():
                (tmp / name).write_bytes(data)
            # the summary is the part's completion mark, so it is written last
            (tmp / SUMMARY_FILE).write_text(json.dumps(result.summary, indent=2) + "\n")
        return target
