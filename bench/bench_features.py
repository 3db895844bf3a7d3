"""OGC API – Features benchmark (SPEC §10): landgis (GeoPackage and PostGIS) vs pygeoapi and tipg.

One run, same machine, same synthetic parcels (bench/parcels_data.py), every server a single
uvicorn process without access logs, wrk with 8 connections. Prints a table and the ratios the
bars of SPEC §10 ask for.

    .venv/bin/python bench/bench_features.py --sizes 10000,1000000 --duration 10

Peers are installed into their own virtualenv (default ~/.cache/landgis-peers: `pip install
pygeoapi tipg "uvicorn[standard]" psycopg2-binary geoalchemy2`) so that they never change the
project's dependencies. landgis runs as deployed, with its revision-keyed tile cache; for the MVT
case two more landgis servers run with the cache off (LANDGIS_TILE_CACHE_MB=0, "-cold"), like
tipg, which has none — both figures are printed, so the encoder and the cache are seen apart.

"MVT cold z14/z15" asks every server for tiles it has never seen (SPEC §10, issue 19): the distinct
z14 and z15 tiles lying wholly inside the data, shuffled, each requested once (a wrk Lua script
walks the list with one shared counter and stops at its end). landgis runs with its tile cache on,
as deployed — a tile never seen is a miss anyway. Warm-up walks a disjoint part of the same list.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import morecantile
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.parcels_data import CELL_DEG, CENTER, load_geopackage, load_postgis, make_parcels  # noqa: E402

LUA = """
done = function(summary, latency, requests)
  io.write(string.format('JSON{"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50":%.3f,"p95":%.3f,"p99":%.3f}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50)/1000, latency:percentile(95)/1000, latency:percentile(99)/1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server at {url} did not come up")


def wait_db_idle(pg_url: str, timeout: float = 120) -> float:
    """Wait until no other query runs in the bench database; the seconds waited. Why: a peer's
    slow queries (tipg's deep OFFSET of 10^6 rows) go on in PostgreSQL after wrk has stopped
    and took the CPU from whichever server ran next (a landgis GeoPackage case measured 4× slow)."""
    started = time.monotonic()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()").fetchone()[0]
            if not busy:
                break
            time.sleep(0.5)
    return time.monotonic() - started


def wrk(url: str, *, duration: int, connections: int, headers: dict | None = None, script: str = LUA) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        script = f.name
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", script]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    os.unlink(script)
    m = re.search(r"JSON(\{.*\})", out)
    if not m:
        raise RuntimeError(f"wrk failed: {out}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


COLD_LUA = """
paths = {}
for line in io.lines("{LIST}") do paths[#paths + 1] = line end
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[((i - 1) % #paths) + 1])
end
response = function(status, headers, body)
  if i >= #paths then wrk.thread:stop() end
end
""" + LUA


def cold_tiles(n: int, seed: int = 19) -> list[tuple[int, int, int]]:
    """Distinct z14/z15 tiles wholly inside the synthetic parcels' square (bench/parcels_data.py),
    shuffled with a fixed seed so every server gets the same tiles in the same order."""
    import math
    import random

    tms = morecantile.tms.get("WebMercatorQuad")
    side = math.ceil(math.sqrt(n))
    w, e = CENTER[0] - side / 2 * CELL_DEG, CENTER[0] + side / 2 * CELL_DEG
    s, north = CENTER[1] - side / 2 * CELL_DEG, CENTER[1] + side / 2 * CELL_DEG
    out = []
    for t in tms.tiles(w, s, e, north, [14, 15]):
        b = tms.bounds(t)
        if b.left >= w and b.right <= e and b.bottom >= s and b.top <= north:
            out.append((t.z, t.x, t.y))
    random.Random(seed).shuffle(out)
    return out


def wrk_paths(url: str, paths: list[str], *, duration: int, connections: int, headers: dict | None = None) -> dict:
    """wrk over a list of paths on `url`'s host, each asked once, in order (stops at the list's end)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        listing = f.name
    try:
        return wrk(url, duration=duration, connections=connections, headers=headers, script=COLD_LUA.replace("{LIST}", listing))
    finally:
        os.unlink(listing)


def pg_admin(base: str, dbname: str) -> str:
    """Make sure the bench database exists (with PostGIS); returns its URL."""
    with psycopg.connect(base, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(f"CREATE DATABASE {dbname}")
    url = base.rsplit("/", 1)[0] + "/" + dbname
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def prepare(n: int, pg_url: str, workdir: Path) -> tuple[str, str, str]:
    """GeoPackage path, landgis PostGIS store URL, schema: loaded once, reused by later runs."""
    schema = f"bench_{n}"
    gpkg = workdir / f"parcels_{n}.gpkg"
    store_url = f"{pg_url}?options=-csearch_path%3D{schema},public"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        have_pg = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name IN ('parcels', 'parcels_4326')", (schema,)).fetchone()[0] == 2
        if not have_pg:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
    if have_pg and gpkg.exists():
        return str(gpkg), store_url, schema
    t = time.time()
    geoms, attrs = make_parcels(n)
    print(f"  generated {n} parcels in {time.time() - t:.1f}s", flush=True)
    if not gpkg.exists():
        t = time.time()
        tmp = gpkg.with_suffix(".tmp.gpkg")
        tmp.unlink(missing_ok=True)
        load_geopackage(str(tmp), "parcels", geoms, attrs)
        tmp.rename(gpkg)
        print(f"  GeoPackage loaded in {time.time() - t:.1f}s", flush=True)
    if not have_pg:
        t = time.time()
        load_postgis(store_url, "parcels", geoms, attrs, copy_4326="parcels_4326")
        print(f"  PostGIS loaded in {time.time() - t:.1f}s", flush=True)
    return str(gpkg), store_url, schema


class Servers:
    def __init__(self, peers_bin: Path, log_dir: Path):
        self.procs: list[subprocess.Popen] = []
        self.peers_bin = peers_bin
        self.log_dir = log_dir

    def start(self, name: str, cmd: list[str], env: dict, health: str, cwd: Path = REPO) -> None:
        log = open(self.log_dir / f"{name}.log", "w")
        p = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=str(cwd))
        self.procs.append(p)
        wait_up(health)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


def pygeoapi_config(path: Path, port: int, pg: dict, schema: str) -> None:
    cfg = f"""
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: OSM}}
logging:
  level: ERROR
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://example.org/terms
    url: https://example.org
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench}}
resources:
  parcels:
    type: collection
    title: parcels
    description: bench parcels
    keywords: [parcels]
    extents:
      spatial: {{bbox: [111.6, 32.4, 113.4, 33.6], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {pg['host']}, port: {pg['port']}, dbname: {pg['dbname']}, user: {pg['user']}, password: '{pg['password']}', search_path: [{schema}, public]}}
        id_field: fid
        table: parcels_4326
        geom_field: geom
"""
    path.write_text(cfg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--pg", default=os.environ.get("LANDGIS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--db", default="landgis_bench")
    ap.add_argument("--peers-venv", default=str(Path.home() / ".cache" / "landgis-peers"))
    ap.add_argument("--workdir", default=str(Path.home() / ".cache" / "landgis-bench"), help="generated data, configs and server logs (kept out of the repository)")
    ap.add_argument("--only", default="", help="comma list of servers: landgis-gpkg,landgis-pg,pygeoapi,tipg (a landgis server brings its -cold twin for MVT)")
    ap.add_argument("--json", default="", help="write raw results here")
    ap.add_argument("--baseline", default="", help="another landgis checkout (e.g. a `git worktree` of the previous commit): its servers run the MVT cases as landgis-gpkg-base/landgis-pg-base, same run")
    ap.add_argument("--rounds", type=int, default=4, help="cold-tile case: interleaved rounds per server")
    ap.add_argument("--cases", default="", help="comma list of case labels to run (default: all), e.g. 'MVT z14'")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    workdir = Path(args.workdir).resolve()  # absolute: the --baseline servers run from another directory
    workdir.mkdir(parents=True, exist_ok=True)
    peers_bin = Path(args.peers_venv) / "bin"
    pg_url = pg_admin(args.pg, args.db)
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    pg = {"host": info.get("host", "127.0.0.1"), "port": info.get("port", 5432), "dbname": args.db, "user": info.get("user", "postgres"), "password": info.get("password", "")}
    only = set(filter(None, args.only.split(",")))
    results: list[dict] = []

    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"== {n} parcels", flush=True)
        gpkg, store_url, schema = prepare(n, pg_url, workdir)
        # an analyst key: the bench layer is not in parcels/schema.py, so it is restricted
        from api.auth import add_key
        from gis.store import open_store

        keys = {}
        for label, url in (("landgis-gpkg", gpkg), ("landgis-pg", store_url)):
            s = open_store(url)
            name = f"bench-{int(time.time())}"
            keys[label] = add_key(s, name, "analyst", user="bench")
            s.close()
        servers = Servers(peers_bin, workdir)
        ports = {k: free_port() for k in ("landgis-gpkg", "landgis-pg", "landgis-gpkg-cold", "landgis-pg-cold", "landgis-gpkg-base", "landgis-pg-base", "pygeoapi", "tipg")}
        landgis_cmd = lambda port: [sys.executable, "-m", "uvicorn", "--factory", "bench.landgis_app:make", "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]  # noqa: E731
        try:
            if not only or "landgis-gpkg" in only:
                servers.start("landgis-gpkg", landgis_cmd(ports["landgis-gpkg"]), {"LANDGIS_STORE": gpkg}, f"http://127.0.0.1:{ports['landgis-gpkg']}/health")
                servers.start("landgis-gpkg-cold", landgis_cmd(ports["landgis-gpkg-cold"]), {"LANDGIS_STORE": gpkg, "LANDGIS_TILE_CACHE_MB": "0"}, f"http://127.0.0.1:{ports['landgis-gpkg-cold']}/health")
            if not only or "landgis-pg" in only:
                servers.start("landgis-pg", landgis_cmd(ports["landgis-pg"]), {"LANDGIS_STORE": store_url}, f"http://127.0.0.1:{ports['landgis-pg']}/health")
                servers.start("landgis-pg-cold", landgis_cmd(ports["landgis-pg-cold"]), {"LANDGIS_STORE": store_url, "LANDGIS_TILE_CACHE_MB": "0"}, f"http://127.0.0.1:{ports['landgis-pg-cold']}/health")
            if args.baseline:
                base_env = {"PYTHONPATH": str(Path(args.baseline).resolve())}
                for kind, url in (("gpkg", gpkg), ("pg", store_url)):
                    if not only or f"landgis-{kind}" in only:
                        port = ports[f"landgis-{kind}-base"]
                        servers.start(f"landgis-{kind}-base", landgis_cmd(port), {**base_env, "LANDGIS_STORE": url}, f"http://127.0.0.1:{port}/health", cwd=Path(args.baseline))
            if not only or "tipg" in only:
                env = {"DATABASE_URL": pg_url, "TIPG_DB_SCHEMAS": json.dumps([schema]), "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": json.dumps(["public", "pg_catalog"]), "TIPG_DB_TABLES": json.dumps([f"{schema}.parcels"])}
                servers.start("tipg", [str(peers_bin / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(ports["tipg"]), "--no-access-log", "--log-level", "warning"], env, f"http://127.0.0.1:{ports['tipg']}/collections")
            if not only or "pygeoapi" in only:
                cfg = workdir / f"pygeoapi_{n}.yml"
                oas = workdir / f"pygeoapi_{n}_openapi.yml"
                pygeoapi_config(cfg, ports["pygeoapi"], pg, schema)
                env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oas)}
                subprocess.run([str(peers_bin / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file", str(oas)], env={**os.environ, **env}, check=True, capture_output=True)
                servers.start("pygeoapi", [str(peers_bin / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", "127.0.0.1", "--port", str(ports["pygeoapi"]), "--no-access-log", "--log-level", "warning"], env, f"http://127.0.0.1:{ports['pygeoapi']}/collections")

            half = 0.0067  # ≈ 22 × 22 cells ≈ 500 parcels
            bbox = f"{CENTER[0] - half},{CENTER[1] - half},{CENTER[0] + half},{CENTER[1] + half}"
            tile = morecantile.tms.get("WebMercatorQuad").tile(CENTER[0] + CELL_DEG / 3, CENTER[1] + CELL_DEG / 3, 14)
            mid = n // 2
            pid = f"P{mid:07d}"
            targets = {
                "landgis-gpkg": (f"http://127.0.0.1:{ports['landgis-gpkg']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-gpkg']}"}, pid, True),
                "landgis-pg": (f"http://127.0.0.1:{ports['landgis-pg']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-pg']}"}, pid, True),
                "landgis-gpkg-cold": (f"http://127.0.0.1:{ports['landgis-gpkg-cold']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-gpkg']}"}, pid, True),
                "landgis-pg-cold": (f"http://127.0.0.1:{ports['landgis-pg-cold']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-pg']}"}, pid, True),
                "landgis-gpkg-base": (f"http://127.0.0.1:{ports['landgis-gpkg-base']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-gpkg']}"}, pid, True),
                "landgis-pg-base": (f"http://127.0.0.1:{ports['landgis-pg-base']}/collections/parcels", {"Authorization": f"Bearer {keys['landgis-pg']}"}, pid, True),
                "pygeoapi": (f"http://127.0.0.1:{ports['pygeoapi']}/collections/parcels", {}, str(mid + 1), False),
                "tipg": (f"http://127.0.0.1:{ports['tipg']}/collections/{schema}.parcels", {}, str(mid + 1), True),
            }
            cases = [
                ("items limit=100", "/items?limit=100"),
                ("items limit=1000", "/items?limit=1000"),
                ("bbox ~500 hits", f"/items?limit=1000&bbox={bbox}"),
                ("item by id", "/items/{id}"),
                ("MVT z14", f"/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"),
                ("MVT cold z14/z15", "{cold}"),
            ]
            cold = cold_tiles(n)
            if len(cold) < 500:  # too few distinct tiles to keep wrk busy for a run without repeats
                print(f"  MVT cold z14/z15: only {len(cold)} distinct z14/z15 tiles inside {n} parcels, case skipped", flush=True)
                cases = [c for c in cases if c[1] != "{cold}"]
            if n > 100_000:
                cases = [c for c in cases if c[0] in ("items limit=100", "bbox ~500 hits", "MVT z14", "MVT cold z14/z15")]
                # deep pages (SPEC §10, bar p50 < 50 ms): a plain offset, and the keyset `next` link
                # a client following the pages gets (landgis only; the peers page by offset)
                cases += [("deep page offset", f"/items?limit=100&offset={n // 2}"), ("deep page next link", "{next}")]
            if args.cases:
                cases = [c for c in cases if c[0] in args.cases.split(",")]
            cold_results: dict[str, dict] = {}
            for label, suffix in cases:
                for server, (base, headers, fid, has_tiles) in targets.items():
                    if only and server.removesuffix("-cold").removesuffix("-base") not in only:
                        continue
                    if server.endswith("-base") and (not args.baseline or not label.startswith("MVT")):
                        continue
                    if label.startswith("MVT") and not has_tiles:
                        continue
                    if server.endswith("-cold") and (not label.startswith("MVT") or suffix == "{cold}"):
                        continue
                    if suffix == "{cold}":
                        if not cold_results:
                            eligible = {k: v for k, v in targets.items() if v[3] and not k.endswith("-cold") and (not only or k.removesuffix("-base") in only) and (args.baseline or not k.endswith("-base"))}
                            cold_results.update(cold_case(eligible, cold, args))
                        r = cold_results[server]
                        r.update({"size": n, "case": label, "server": server})
                        results.append(r)
                        print(f"  {label:18s} {server:17s} {r['rps']:8.1f} req/s  p95 {r['p95']:8.1f} ms  errors {r['errors']:4d}  ({r['requests']} distinct tiles of {len(cold)}, {r['statuses']})", flush=True)
                        continue
                    if suffix == "{next}":
                        if not server.startswith("landgis"):
                            continue
                        first = httpx.get(base + f"/items?limit=100&offset={n // 2}", headers=headers, timeout=120).json()
                        url = next(link["href"] for link in first["links"] if link["rel"] == "next")
                    else:
                        url = base + suffix.replace("{id}", fid)
                    check = httpx.get(url, headers=headers, timeout=120)
                    returned = None
                    if label.startswith("MVT") and check.status_code == 200:
                        import mapbox_vector_tile  # every server must draw the same parcels

                        layers = mapbox_vector_tile.decode(check.content)
                        returned = sum(len(v["features"]) for v in layers.values())
                    elif "json" in check.headers.get("content-type", ""):
                        body = check.json()
                        returned = body.get("numberReturned", len(body.get("features", [])) if "features" in body else 1)
                    waited = wait_db_idle(pg_url)
                    if waited > 1:
                        print(f"  (waited {waited:.0f} s for the previous server's queries to end)", flush=True)
                    wrk(url, duration=2, connections=args.connections, headers=headers)  # warm-up: connections, PROJ, plans
                    r = wrk(url, duration=args.duration, connections=args.connections, headers=headers)
                    r.update({"size": n, "case": label, "server": server, "status": check.status_code, "returned": returned, "bytes": len(check.content)})
                    results.append(r)
                    print(f"  {label:18s} {server:17s} {r['rps']:8.1f} req/s  p95 {r['p95']:8.1f} ms  errors {r['errors']:4d}  (HTTP {check.status_code}, {returned} features, {len(check.content) / 1024:.0f} KiB)", flush=True)
        finally:
            servers.stop()
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False))


def cold_case(servers: dict[str, tuple], cold: list[tuple[int, int, int]], args) -> dict[str, dict]:
    """Tiles never seen before, every server in the same rounds. The shuffled list's last third
    warms each server up (disjoint from what is measured); the first two thirds are cut into
    `--rounds` slices, and round k asks every server — in an order rotated each round — for slice
    k, each tile once. Interleaving matters on a shared machine: load that comes and goes then
    falls on every server alike instead of on whichever ran at that moment. req/s = all requests
    of all rounds / their summed time."""
    cut = len(cold) * 2 // 3
    rounds = max(1, args.rounds)
    out: dict[str, dict] = {}
    paths: dict[str, list[str]] = {}
    for server, (base, headers, _, _) in servers.items():
        prefix = httpx.URL(base).path
        paths[server] = [f"{prefix}/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in cold]
        statuses: dict[int, int] = {}
        for p in paths[server][cut:cut + 20]:  # a sample from the warm-up slice: 200/204 with tiles, not errors
            code = httpx.get(base.replace(prefix, "") + p, headers=headers, timeout=120).status_code
            statuses[code] = statuses.get(code, 0) + 1
        wrk_paths(base, paths[server][cut + 20:], duration=2, connections=args.connections, headers=headers)
        out[server] = {"requests": 0, "duration_us": 0, "errors": 0, "p50s": [], "p95s": [], "statuses": statuses, "status": max(statuses, key=statuses.get), "returned": None, "bytes": 0}
    names = list(servers)
    size = cut // rounds
    for k in range(rounds):
        order = names[k % len(names):] + names[:k % len(names)]
        for server in order:
            base, headers, _, _ = servers[server]
            part = paths[server][k * size:(k + 1) * size]
            r = wrk_paths(base, part, duration=max(1, args.duration // rounds), connections=args.connections, headers=headers)
            if r["requests"] >= len(part):
                print(f"  (round {k + 1}: {server} ran through its {len(part)} cold tiles; the last requests may repeat a tile)", flush=True)
            o = out[server]
            o["requests"] += r["requests"]
            o["duration_us"] += r["duration_us"]
            o["errors"] += r["errors"]
            o["p50s"].append(r["p50"])
            o["p95s"].append(r["p95"])
    for o in out.values():
        o["rps"] = o["requests"] / (o["duration_us"] / 1e6)
        o["p50"] = sorted(o.pop("p50s"))[rounds // 2]  # median of the rounds' p50
        o["p95"] = max(o.pop("p95s"))
    return out


def report(results: list[dict]) -> None:
    print("\n| parcels | case | server | req/s | p50 ms | p95 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['size']} | {r['case']} | {r['server']} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['errors']} |")
    print("\nRatios (landgis / better peer; for p95 the peer's p95 / landgis's, so > 1 is better):")
    by = {(r["size"], r["case"], r["server"]): r for r in results}
    for size in sorted({r["size"] for r in results}):
        for case in dict.fromkeys(r["case"] for r in results if r["size"] == size):
            peers = [by[k] for k in by if k[0] == size and k[1] == case and k[2] in ("pygeoapi", "tipg")]
            if not peers:
                continue
            best_rps = max(p["rps"] for p in peers)
            best_p95 = min(p["p95"] for p in peers)
            for server in ("landgis-gpkg", "landgis-pg", "landgis-gpkg-cold", "landgis-pg-cold", "landgis-gpkg-base", "landgis-pg-base"):
                r = by.get((size, case, server))
                if r is None:
                    continue
                line = f"  {size:>8} {case:18s} {server:17s} throughput ×{r['rps'] / best_rps:.2f}"
                if case == "items limit=1000":
                    line += f"   p95 ×{best_p95 / r['p95']:.2f} (bar ≥ 2)"
                if case.startswith("MVT cold") and server in ("landgis-gpkg", "landgis-pg", "landgis-gpkg-base", "landgis-pg-base"):
                    tipg = by.get((size, case, "tipg"))
                    if tipg:
                        bar = 1.0 if "gpkg" in server else 1.5
                        ratio = r["rps"] / tipg["rps"]
                        clean = r["errors"] == 0 and tipg["errors"] == 0 and r["status"] == 200
                        line += f"   vs tipg ×{ratio:.2f} (bar ≥ {bar}) {'✅' if ratio >= bar and clean else '❌'}" + ("" if clean else " (errors)")
                print(line)
    for r in results:
        if r["case"].startswith("deep page") and r["server"].startswith("landgis"):
            print(f"  {r['size']:>8} {r['case']:18s} {r['server']:17s} p50 {r['p50']:.1f} ms (bar < 50 ms) {'✅' if r['p50'] < 50 else '❌'}")
    ten = {r["server"]: r for r in results if r["size"] == 10000 and r["case"] == "items limit=100"}
    big = {r["server"]: r for r in results if r["size"] == 1_000_000 and r["case"] == "items limit=100"}
    for server in ("landgis-gpkg", "landgis-pg"):
        if server in ten and server in big:
            print(f"  1 000 000 vs 10 000 items limit=100, {server}: {big[server]['rps']:.1f} / {ten[server]['rps']:.1f} req/s (bar: ≥ 0.5×) → ×{big[server]['rps'] / ten[server]['rps']:.2f}")


if __name__ == "__main__":
    main()
