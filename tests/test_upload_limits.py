"""Uploads are capped while they stream in, also without Content-Length (chunked)."""

from __future__ import annotations

import asyncio

import pytest
from api_support import make_store

from api.limits import BodyLimit, UploadTooLarge


def test_middleware_stops_reading_at_the_cap():
    pulled = [0]

    async def endless():
        pulled[0] += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def app(scope, receive, send):
        while True:  # an app that would read for ever
            await receive()

    limited = BodyLimit(app, cap_mb=1)
    with pytest.raises(UploadTooLarge):
        asyncio.run(limited({"type": "http"}, endless, None))
    assert pulled[0] == (1024 * 1024 + 64 * 1024) // 65536 + 1  # one chunk past the cap, not more


@pytest.mark.parametrize("kind", ["geopackage", "postgis"])
def test_chunked_upload_over_the_cap_is_413_and_changes_nothing(kind, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import add_key
    from api.settings import Settings

    store, pg = make_store(kind, tmp_path)
    try:
        key = add_key(store, "adm", "admin", user="test")
        client = TestClient(create_app(Settings(store=store.url, max_upload_mb=1), store=store))
        history = len(store.history())

        def body():  # a generator: httpx sends it chunked, with no Content-Length
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.geojson\"\r\n\r\n"
            for _ in range(40):
                yield b" " * 65536
            yield b"\r\n--b--\r\n"

        r = client.post(
            "/collections/reserve_parcels/import",
            content=body(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert r.status_code == 413, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "上限" in r.json()["detail"]
        assert "content-length" not in {k.lower() for k in r.request.headers}
        assert len(store.history()) == history and not store.layer_exists("reserve_parcels")
    finally:
        store.close()
        if pg:
            pg.drop()
