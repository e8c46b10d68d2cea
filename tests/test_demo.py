"""`veedor demo`, the README's first command, runs end to end on the bundled data."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from veedor.cli import app


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Read actas matching the V1 table: 23; differing: 0" in text
    assert (
        "No distribution of the unverified tables' votes can make the official result boletin-2 true" in text
    )
    lines = [json.loads(line) for line in (out / "scan-report.jsonl").read_text().splitlines()]
    assert sum(r["status"] == "ok" for r in lines) == 23
    # Two more copies: a witness's QR photo and a forged sheet; all 23 mesas stay counted.
    copies = {r["grade"] for r in map(json.loads, (out / "copies-report.jsonl").read_text().splitlines())}
    assert copies == {"qr_only", "contradictory"}
    assert "counted 23" in text and "with alerts 1" in text
    # It ends by offering the public site, which serves what it just counted.
    assert "veedor serve --db" in text
    from fastapi.testclient import TestClient

    from veedor.definitions import load_definition
    from veedor.store import open_store
    from veedor.web.site import create_site

    store = open_store(str(out / "veedor.db"))
    site = TestClient(create_site(store, load_definition("ve-2024-presidential"), out / "evidence"))
    national = site.get("/api/v1/national").json()
    assert national["result"]["actas"] == 23 and national["tables"][0]["actas"] == 24532
    counted = [m for m in site.get("/api/v1/units/040202001").json()["children"] if m["counted"]]
    first = site.get(f"/api/v1/mesas/040202001/{counted[0]['mesa']}").json()
    assert site.get(f"/image/{first['copies'][0]['image']}").headers["content-type"] == "image/jpeg"
    store.engine.dispose()
    # It only ever deletes a folder it made itself.
    foreign = tmp_path / "not-a-demo"
    foreign.mkdir()
    refused = CliRunner().invoke(app, ["demo", "--out", str(foreign)])
    assert refused.exit_code == 2 and "not a demo folder" in refused.output
