"""The layer contract of issue 10 holds (docs/architecture.md): apps import only lower layers, imports inside
functions included, and the apps' import graph has no cycle. `make lint` runs the same contract (lint-imports)."""

import configparser
import graphlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = configparser.ConfigParser()
CONFIG.read(ROOT / ".importlinter")
APPS = CONFIG["importlinter"]["root_packages"].split()
LAYERS = [line.strip() for line in CONFIG["importlinter:contract:layers"]["layers"].strip().splitlines()]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*APPS, cache_dir=None)  # every import, those inside functions included


def _app_edges(graph) -> dict[str, set[str]]:
    return {
        a: {b for b in APPS if b != a and graph.direct_import_exists(importer=a, imported=b, as_packages=True)}
        for a in APPS
    }


def test_the_layer_contract_is_kept():
    result = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--no-cache", "--config", ROOT / ".importlinter"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_every_app_is_in_the_contract_and_in_one_layer():
    installed = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert installed <= set(APPS)  # a new app must be placed in a layer
    in_layers = [app.strip() for layer in LAYERS for app in layer.split("|")]
    assert sorted(in_layers) == sorted(APPS)
    assert LAYERS[0] == "demo" and LAYERS[-1] == "csp"


def test_the_apps_import_graph_has_no_cycle(graph):
    edges = _app_edges(graph)
    order = list(graphlib.TopologicalSorter(edges).static_order())  # raises CycleError on a cycle
    assert set(order) == set(APPS)
    assert not any("demo" in imported for imported in edges.values())  # nothing imports demo


def test_the_known_cycles_are_gone(graph):
    edges = _app_edges(graph)
    for low, high in [
        ("accounts", "events"),
        ("accounts", "segments"),
        ("accounts", "timeline"),
        ("events", "support"),
        ("timeline", "health"),
        ("timeline", "events"),
        ("playbooks", "triggers"),
    ]:
        assert high not in edges[low], f"{low} imports {high}"


def test_a_new_upward_import_breaks_the_contract(tmp_path):
    # The contract is not vacuous: the same config over a copy with one lazy upward import fails.
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    target = tmp_path / "accounts" / "selectors.py"
    target.write_text(target.read_text() + "\n\ndef _upward():\n    from health import selectors  # noqa\n")
    result = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--no-cache", "--config", ROOT / ".importlinter"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "accounts is not allowed to import health" in result.stdout
