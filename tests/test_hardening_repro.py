"""Every reproduction of the hardening issue (13), against a real `landgis serve`, on both stores.

Each request is one an attacker or a careless client sent: it must get its 4xx (or, for valid
input that used to fail, its 2xx), never a 500, and the server must still be up and answering
/health after it. The figure (how many reproductions, how many answered as expected, whether the
server survived every one) is printed by `make test`.
"""

from __future__ import annotations

import io

import httpx
import pytest

from api_support import LiveServer, PgSchema

PLANTED_TAX = 76543.21


@pytest.fixture(scope="module", params=["geopackage", "postgis"])
def live(request, tmp_path_factory):
    from typer.testing import CliRunner

    from api.auth import add_key
    from api.cli import app
    from gis.store import open_store

    pg = None
    if request.param == "geopackage":
        url = str(tmp_path_factory.mktemp("repro") / "repro.gpkg")
    else:
        pg = PgSchema()
        url = pg.url
    assert CliRunner().invoke(app, ["init", "--store", url]).exit_code == 0
    store = open_store(url)
    keys = {role: add_key(store, f"repro-{role}", role, user="test") for role in ("analyst", "admin")}
    store.close()
    # The sample has 9 reserve parcels, 13 parks and 2 boundaries: a served page (reserve parcels
    # tiled above 5) embeds 15 features, a download all 24 — so the cap of 20 refuses only the download.
    server = LiveServer(url, env={"LANDGIS_MAP_DOWNLOAD_MAX_FEATURES": "20", "LANDGIS_MAP_LARGE_THRESHOLD": "5", "LANDGIS_MAX_UPLOAD_MB": "4"})
    try:
        yield request.param, server, keys
    finally:
        server.stop()
        if pg:
            pg.drop()


def _h(keys: dict, role: str) -> dict:
    return {"Authorization": f"Bearer {keys[role]}"}


def reproductions(keys: dict) -> list[tuple[str, str, str, dict, set[int]]]:
    """(label, method, path, httpx kwargs, accepted statuses)."""
    admin, analyst = _h(keys, "admin"), _h(keys, "analyst")
    items = "/collections/reserve_parcels/items"
    csv = "enterprise_id,name\nE1,甲\n".encode()
    bad4xx = set(range(400, 500))
    return [
        ("CQL2 unary-minus chain", "GET", items, {"params": {"filter": "seq=" + "-" * 4000 + "1"}}, bad4xx),
        ("CQL2 NOT chain", "GET", items, {"params": {"filter": "NOT " * 3000 + "id='x'"}}, bad4xx),
        ("CQL2 parentheses", "GET", items, {"params": {"filter": "(" * 5000 + "id='x'" + ")" * 5000}}, bad4xx),
        ("CQL2-JSON nesting", "GET", items, {"params": {"filter-lang": "cql2-json", "filter": '{"op":"not","args":[' * 600 + '{"op":"=","args":[{"property":"id"},"x"]}' + "]}" * 600}}, bad4xx),
        ("NUL in feature id", "GET", items + "/a%00b", {}, bad4xx),
        ("NUL in queryable", "GET", items, {"params": {"name": "a\x00b"}}, bad4xx),
        ("NUL in filter", "GET", items, {"params": {"filter": "name='a\x00b'"}}, bad4xx),
        ("NUL in PATCH value", "PATCH", items + "/RP-01", {"json": {"properties": {"name": "a\x00b"}}, "headers": admin}, bad4xx),
        ("NUL in status reason", "POST", items + "/RP-01/status", {"json": {"status": "已组卷上报", "reason": "a\x00b"}, "headers": admin}, bad4xx),
        ("NUL in a CSV cell", "POST", "/collections/reserve_parcels/import", {"files": {"file": ("p.csv", io.BytesIO("id,name,lon,lat\nNUL-1,a\x00b,112.6,33.0\n".encode()), "text/csv")}, "headers": admin}, bad4xx),
        ("integer overflow in queryable", "GET", items, {"params": {"seq": "99999999999999999999"}}, bad4xx),
        ("integer overflow in filter", "GET", items, {"params": {"filter": "seq=99999999999999999999999"}}, bad4xx),
        ("column named with %", "PATCH", items + "/RP-02", {"json": {"properties": {"绿地率%": 30}, "reason": "列名含 %"}, "headers": admin}, {200}),
        ("column named with ?", "PATCH", items + "/RP-02", {"json": {"properties": {"是否?": "是"}, "reason": "列名含 ?"}, "headers": admin}, {200}),
        ("upload named .", "POST", "/scoring/efficiency", {"files": {"file": (".", io.BytesIO(csv), "text/csv")}, "headers": analyst}, bad4xx),
        ("upload named ..", "POST", "/scoring/efficiency", {"files": {"file": ("..", io.BytesIO(csv), "text/csv")}, "headers": analyst}, bad4xx),
        ("import named ..", "POST", "/collections/reserve_parcels/import", {"files": {"file": ("..", io.BytesIO(csv), "text/csv")}, "headers": admin}, bad4xx),
        ("encoding=punycode", "POST", "/scoring/efficiency", {"files": {"file": ("e.csv", io.BytesIO(csv), "text/csv")}, "data": {"encoding": "punycode"}, "headers": analyst}, bad4xx),
        ("map download over the cap", "GET", "/maps/parcels", {"params": {"download": "1"}}, {413}),
        ("anonymous JSON body", "POST", "/study/land-balance", {"content": b"[" * (3 * 1024 * 1024), "headers": {"content-type": "application/json"}}, {401}),
        ("over-cap body on a typed route", "POST", "/study/land-balance", {"content": b" " * (5 * 1024 * 1024), "headers": {"content-type": "application/json", **analyst}}, {413}),
        ("method not allowed", "DELETE", "/collections", {}, {405}),
        ("job body not JSON", "POST", "/jobs", {"content": b"{", "headers": {"content-type": "application/json", **analyst}}, bad4xx),
    ]


def test_every_reproduction_is_answered_and_the_server_survives(live, record_property):
    kind, server, keys = live
    wrong: list[str] = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        cases = reproductions(keys)
        for label, method, path, kwargs, accepted in cases:
            try:
                r = client.request(method, path, **kwargs)
                status, ctype, text = r.status_code, r.headers.get("content-type", ""), r.text
            except httpx.HTTPError as exc:  # a server that hangs up on a refused upload still answered first
                status, ctype, text = -1, "", repr(exc)
            if status not in accepted:
                wrong.append(f"{label}: {status} {text[:160]}")
            elif status >= 400 and not ctype.startswith("application/problem+json"):
                wrong.append(f"{label}: {status} answered as {ctype}, not problem+json")
            if not server.alive():
                wrong.append(f"{label}: the server died")
                break
    record_property("report_line", f"hardening reproductions {kind}: {len(cases)} sent, {len(cases) - len(wrong)} answered as expected, server alive: {server.alive()}")
    assert not wrong, "\n".join(wrong)


def test_planted_restricted_field_leaves_no_anonymous_path(live):
    kind, server, keys = live
    with httpx.Client(base_url=server.base, timeout=60) as client:
        r = client.patch("/collections/reserve_parcels/items/RP-03", json={"properties": {"tax": PLANTED_TAX}, "reason": "植入受限字段"}, headers=_h(keys, "admin"))
        assert r.status_code == 200, r.text
        assert str(PLANTED_TAX) in client.get("/collections/reserve_parcels/items/RP-03", headers=_h(keys, "analyst")).text
        for path in (
            "/collections/reserve_parcels/items/RP-03",
            "/collections/reserve_parcels/items?limit=100",
            "/collections/reserve_parcels/items?f=html",
            "/collections/reserve_parcels/items/RP-03/history",
            "/maps/parcels",
            "/standard-land/sheets/RP-03",
        ):
            r = client.get(path)
            assert r.status_code in (200, 204), (path, r.status_code, r.text[:200])
            assert str(PLANTED_TAX).encode() not in r.content, path
        tile = _tile_over(client, "RP-03")
        assert tile and all("tax" not in f["properties"] for layer in tile.values() for f in layer["features"]), tile.keys()
        history = client.get("/collections/reserve_parcels/items/RP-03/history").json()["history"]
        assert all(not h.get("user") and not h.get("reason") for h in history), history


def _tile_over(client: httpx.Client, fid: str) -> dict:
    """The decoded z14 vector tile under a parcel's centre, as an anonymous caller gets it."""
    import mapbox_vector_tile
    import morecantile
    import shapely

    feature = client.get(f"/collections/reserve_parcels/items/{fid}").json()
    centre = shapely.geometry.shape(feature["geometry"]).representative_point()
    t = morecantile.tms.get("WebMercatorQuad").tile(centre.x, centre.y, 14)
    r = client.get(f"/collections/reserve_parcels/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}")
    assert r.status_code == 200, r.text[:200]
    return mapbox_vector_tile.decode(r.content)
