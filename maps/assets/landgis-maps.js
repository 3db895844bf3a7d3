/* landgis map helpers: written once, used by every map (parcels, efficiency, standard-land,
 * expansion). Styles, popups and tooltips are computed here from a small JSON config instead of
 * one Python-rendered style per feature, so a layer's HTML grows with its geometry only. */
(function () {
  "use strict";
  var landgis = (window.landgis = window.landgis || {});
  landgis.layers = {}; // name -> {layer, count}: read by the browser tests and by search

  function esc(v) {
    return String(v)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  landgis.esc = esc;

  function fmt(v, f) {
    if (f.values && typeof v === "string" && Object.prototype.hasOwnProperty.call(f.values, v)) v = f.values[v];
    if (v === null || v === undefined || v === "" || (typeof v === "number" && !isFinite(v))) return "—";
    if (typeof v === "boolean") return v ? "是" : "否";
    if (typeof v === "number") {
      var d = f.digits === undefined || f.digits === null ? 2 : f.digits;
      var s = v.toLocaleString("zh-CN", { maximumFractionDigits: d, minimumFractionDigits: 0 });
      return f.unit ? s + " " + esc(f.unit) : s;
    }
    var text = esc(v);
    return f.unit ? text + " " + esc(f.unit) : text;
  }

  /* Popup: a table of the feature's fields under their Chinese names. */
  landgis.popupHtml = function (props, cfg) {
    var rows = [];
    (cfg.fields || []).forEach(function (f) {
      if (!(f.name in props)) return;
      rows.push("<tr><th>" + esc(f.label) + "</th><td>" + fmt(props[f.name], f) + "</td></tr>");
    });
    var title = cfg.titleField && props[cfg.titleField] ? esc(props[cfg.titleField]) : esc(cfg.title || "");
    return '<div class="landgis-popup"><div class="landgis-popup-title">' + title +
      '</div><table class="landgis-popup-table">' + rows.join("") + "</table></div>";
  };

  function pick(table, key) {
    if (!table) return null;
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : null;
  }

  /* Style of one feature: base style, then the fill of its category (or numeric bin), then the
   * outline of a second category (e.g. fill = land use, outline = approval status). */
  landgis.styleOf = function (props, cfg) {
    var s = L.extend({}, cfg.base || {});
    if (cfg.fillBy) {
      var v = props[cfg.fillBy];
      if (cfg.breaks) {
        var colour = cfg.missingColor || "#BDBDBD";
        if (typeof v === "number" && isFinite(v)) {
          var i = 0;
          while (i < cfg.breaks.length && v >= cfg.breaks[i]) i++;
          colour = cfg.colors[Math.max(0, Math.min(cfg.colors.length - 1, i - 1))];
        }
        s.fillColor = colour;
      } else {
        var c = pick(cfg.fills, v === null || v === undefined ? "" : String(v));
        s.fillColor = c || cfg.missingColor || s.fillColor;
      }
    }
    if (cfg.strokeBy) {
      var st = pick(cfg.strokes, String(props[cfg.strokeBy]));
      if (st) L.extend(s, st);
    }
    return s;
  };

  /* A GeoJSON overlay with landgis styling, popups, tooltips and a CSS class per layer. */
  landgis.featureLayer = function (map, name, data, cfg) {
    var renderer = cfg.canvas ? L.canvas({ padding: 0.3 }) : undefined;
    var layer = L.geoJSON(data, {
      renderer: renderer,
      style: function (feature) {
        var s = landgis.styleOf(feature.properties || {}, cfg);
        s.className = "landgis-feature landgis-" + name;
        return s;
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: cfg.radius || 6, renderer: renderer });
      },
      onEachFeature: function (feature, lyr) {
        var p = feature.properties || {};
        if (cfg.popup) lyr.bindPopup(function () { return landgis.popupHtml(p, cfg.popup); }, { maxWidth: 420 });
        if (cfg.tooltip && p[cfg.tooltip] !== undefined && p[cfg.tooltip] !== null)
          lyr.bindTooltip(esc(p[cfg.tooltip]), { sticky: true });
      },
    });
    landgis.layers[name] = { layer: layer, count: data.features ? data.features.length : 0, label: cfg.label || null };
    return layer;
  };

  /* One feature's properties from the API (`itemsUrl` + id), as JSON, same origin: the request
   * carries only what the page already sends (its cookies), like the tile requests. */
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(function (r) {
      if (!r.ok) {
        var err = new Error("HTTP " + r.status);
        err.status = r.status;
        throw err;
      }
      return r.json();
    });
  }

  function itemProps(feature) {
    var p = L.extend({}, feature.properties || {});
    if (p.id === undefined && feature.id !== undefined) p.id = feature.id;
    return p;
  }

  /* One feature (GeoJSON, with its geometry) from the API's items endpoint. */
  landgis.fetchItem = function (itemsUrl, id) {
    return getJson(itemsUrl + encodeURIComponent(id) + "?f=json");
  };

  landgis.fetchFeature = function (itemsUrl, id) {
    return landgis.fetchItem(itemsUrl, id).then(itemProps);
  };

  /* The popup of a tiled layer's feature: the same for a click on a tile and for a search hit. */
  function itemPopup(latlng) {
    return L.popup({ maxWidth: 420 }).setLatLng(latlng);
  }

  /* Leaflet.VectorGrid 1.3.0 (the last release) was written for Leaflet 1.0–1.7: its tile
   * renderer's mouse handler calls L.DomEvent.fakeStop, which Leaflet 1.8 removed. On Leaflet
   * 1.9 every mousedown/mouseup/click on a tile threw "L.DomEvent.fakeStop is not a function",
   * so a click on a tiled parcel never opened its popup. Replace the handler (once, after the
   * plugin has loaded) with Leaflet 1.9's own canvas logic, offset by the tile's position:
   * - a hit fires on the feature (and bubbles to the map, as for any path);
   * - a drag that ends on a feature is not a click;
   * - a miss goes to what lies under the tile: a click/contextmenu is re-dispatched to the
   *   element below (a park or boundary path keeps its popup), anything else to the map
   *   (measure tool, closing a popup by clicking the map). */
  var vectorGridPatched = false;
  function patchVectorGrid() {
    if (vectorGridPatched || !L.Canvas || !L.Canvas.Tile) return;
    vectorGridPatched = true;
    var forwarded = { click: true, contextmenu: true };
    L.Canvas.Tile.include({
      _onClick: function (e) {
        var map = this._map;
        if (!map) return;
        var point = map.mouseEventToLayerPoint(e).subtract(this.getOffset()), hit = null;
        var isClick = e.type === "click" || e.type === "preclick";
        for (var order = this._drawFirst; order; order = order.next) {
          var layer = order.layer;
          if (layer.options.interactive && layer._containsPoint(point) && !(isClick && map._draggableMoved(layer))) hit = layer;
        }
        if (hit) return this._fireEvent([hit], e);
        if (forwarded[e.type] && !e._landgisForwarded) {
          var canvas = this._container, old = canvas.style.pointerEvents;
          canvas.style.pointerEvents = "none";
          var below = document.elementFromPoint(e.clientX, e.clientY);
          canvas.style.pointerEvents = old;
          if (below && below !== canvas && below.tagName !== "CANVAS" && map._targets[L.Util.stamp(below)] && map._targets[L.Util.stamp(below)] !== map) {
            var copy = new MouseEvent(e.type, e);
            copy._landgisForwarded = true;
            below.dispatchEvent(copy);
            return;
          }
        }
        this._fireEvent(false, e);
      },
    });
  }

  /* Large layers on a served map: Mapbox Vector Tiles of the API, same styles and popups. */
  landgis.vectorTileLayer = function (map, name, url, cfg) {
    patchVectorGrid();
    // Own pane above the GeoJSON overlays (park zones, boundary): the tiled layer is the map's
    // subject, and in the default tile pane every park's filled path lay over the parcels and
    // took their clicks. Clicks that miss a parcel still reach the paths below (patchVectorGrid).
    if (!map.getPane("landgisTiles")) map.createPane("landgisTiles").style.zIndex = 450;
    var styles = {};
    styles[cfg.sourceLayer || name] = function (props) {
      var s = landgis.styleOf(props || {}, cfg);
      s.fill = s.fill === undefined ? true : s.fill;
      return s;
    };
    var layer = L.vectorGrid.protobuf(url, {
      rendererFactory: L.canvas.tile,
      pane: "landgisTiles",
      vectorTileLayerStyles: styles,
      interactive: !!cfg.popup,
      maxNativeZoom: cfg.maxNativeZoom || 18,
      minZoom: cfg.minZoom || 0,
      // 512-px tiles one zoom level up: a quarter of the requests for the same screen, and the
      // tile server's per-request cost (query, encode) dominates on a 2-core machine.
      tileSize: 512,
      zoomOffset: -1,
      getFeatureId: function (f) { return f.properties && f.properties.id; },
    });
    // Leaflet.VectorGrid ignores zoomOffset when it fills {z} (it uses the grid's zoom with the
    // grid's x/y): without this, every 512-px tile asked for the wrong place one level too deep.
    var fetchTile = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
    layer._getVectorTilePromise = function (coords) {
      var c = L.point(coords.x, coords.y);
      c.z = coords.z + (this.options.zoomOffset || 0);
      return fetchTile.call(this, c);
    };
    if (cfg.popup) {
      // Tiles carry only the id and the style fields (encoding every column doubled the tile
      // cost): the popup fetches the clicked feature's full record from the items endpoint.
      layer.on("click", function (e) {
        var props = e.layer.properties || {};
        var popup = itemPopup(e.latlng);
        if (!cfg.itemsUrl || props.id === undefined || props.id === null) {
          popup.setContent(landgis.popupHtml(props, cfg.popup)).openOn(map);
          return;
        }
        popup.setContent('<div class="landgis-popup">正在加载要素属性…</div>').openOn(map);
        landgis.fetchFeature(cfg.itemsUrl, props.id).then(function (full) {
          popup.setContent(landgis.popupHtml(full, cfg.popup));
        }, function (err) {
          popup.setContent(landgis.popupHtml(props, cfg.popup) +
            '<div class="landgis-popup-error">未能读取该要素的完整属性（' + esc(err.message || err) + '），请稍后重试。</div>');
        });
      });
    }
    if (cfg.tooltip) {
      // The tooltip field travels in the tiles (maps/base.py tile_properties): show it on hover.
      var tip = L.tooltip({ sticky: true, direction: "auto" });
      layer.on("mouseover", function (e) {
        var v = (e.layer.properties || {})[cfg.tooltip];
        if (v === undefined || v === null) return;
        tip.setContent(esc(v)).setLatLng(e.latlng);
        map.openTooltip(tip);
      });
      layer.on("mousemove", function (e) { if (map.hasLayer(tip)) tip.setLatLng(e.latlng); });
      layer.on("mouseout", function () { map.closeTooltip(tip); });
    }
    layer.on("load", function () {
      // First moment every visible tile is drawn: read by bench/bench_map.py ("time to first view").
      if (!landgis.tilesLoadedAt) landgis.tilesLoadedAt = performance.now();
    });
    layer.landgisConfig = cfg; // read by landgis.tiledSearchControl
    landgis.layers[name] = { layer: layer, count: cfg.count || 0, tiles: true };
    return layer;
  };

  /* leaflet-search writes a choice with innerHTML: a name holding "<" would be parsed as markup. */
  function textTip(text) {
    var li = L.DomUtil.create("li", "");
    li.textContent = text;
    return li;
  }

  /* Search by name (leaflet-search) over one GeoJSON layer; zooms to the feature and opens it. */
  landgis.searchControl = function (map, layer, propertyName, placeholder) {
    if (!L.Control.Search) return null;
    var ctl = new L.Control.Search({
      layer: layer,
      propertyName: propertyName,
      initial: false,
      marker: false,
      zoom: 16,
      textPlaceholder: placeholder || "按名称搜索…",
      textErr: "未找到",
      textCancel: "取消",
      buildTip: textTip,
      moveToLocation: function (latlng, title, m) {
        var target = latlng.layer;
        if (target && target.getBounds) m.fitBounds(target.getBounds(), { maxZoom: 17 });
        else m.setView(latlng, 16);
        if (target && target.openPopup) target.openPopup();
      },
    });
    map.addControl(ctl);
    return ctl;
  };

  /* CQL2 text for "`field` contains `text`", literally. LIKE's wildcards (% _) and its escape
   * character (backslash) are escaped with a backslash, which both stores honour (PostgreSQL's
   * default LIKE escape; gis/store/query.py like_to_glob for GeoPackage); then the quote is
   * doubled for the CQL2 string literal, where a backslash is an ordinary character.
   * Case-sensitive on purpose: CASEI lowers the column with SQLite's ASCII-only LOWER on
   * GeoPackage but the pattern with full Unicode rules, so a name with "Ａ" would not find itself. */
  landgis.likeContains = function (field, text) {
    var pattern = String(text).replace(/[\\%_]/g, "\\$&").replace(/'/g, "''");
    var ident = /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) ? field : '"' + String(field).replace(/"/g, '""') + '"';
    return ident + " LIKE '%" + pattern + "%'";
  };

  var SEARCH_LIMIT = 10;
  var SEARCH_MAX_CHARS = 100; // names are short; well inside the API's filter size limit

  function searchFailure(err, what) {
    var status = (err && err.status) || 0;
    if (status === 401 || status === 403) return what + "失败：该图层需要分析人员权限，本页面的请求不带 API 密钥。";
    if (status === 404) return what + "失败：要素不存在（可能刚被删除），请重新搜索。";
    if (status >= 500) return what + "失败：服务器出错（HTTP " + status + "），请稍后重试。";
    if (status) return what + "失败：请求被拒绝（HTTP " + status + "），请修改搜索文字后重试。";
    return what + "失败：网络错误，请检查网络后重试。";
  }

  /* Search by name on a vector-tile layer (no features in the page to search): leaflet-search's
   * sourceData hook asks the items endpoint for up to 10 features whose `field` contains the
   * text; a choice ("name（id）": Table 2 repeats names) fetches the feature, fits the map to it
   * and opens the popup a click on the tile would open. Requests carry what the tile requests
   * carry (same origin, cookies): enough for public layers. */
  landgis.tiledSearchControl = function (map, layer, field, placeholder) {
    var cfg = (layer && layer.landgisConfig) || {};
    if (!L.Control.Search || !cfg.itemsUrl) return null;
    var listUrl = cfg.itemsUrl.replace(/\/+$/, "");
    var seq = 0; // only the answer to the latest text is shown
    var found = null; // outline of the feature last found
    if (!map.getPane("landgisFound")) map.createPane("landgisFound").style.zIndex = 460;
    var ctl;

    function searchUrl(text) {
      return listUrl + "?f=json&limit=" + SEARCH_LIMIT +
        "&properties=" + encodeURIComponent("id," + field) +
        "&sortby=" + encodeURIComponent(field + ",id") +
        "&filter-lang=cql2-text&filter=" + encodeURIComponent(landgis.likeContains(field, text));
    }

    function clearFound() {
      if (found) map.removeLayer(found);
      found = null;
    }

    function showItem(record) {
      var mine = ++seq;
      return landgis.fetchItem(cfg.itemsUrl, record.id).then(function (feature) {
        if (mine !== seq) return;
        clearFound();
        var shape = L.geoJSON(feature, {
          pane: "landgisFound",
          interactive: false,
          style: function () { return { color: "#00E5FF", weight: 3, fill: false }; },
          pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { pane: "landgisFound", radius: 9, interactive: false }); },
        });
        var bounds = shape.getBounds();
        if (!bounds.isValid()) {
          ctl.showAlert("该要素没有几何，无法定位。");
          return;
        }
        map.fitBounds(bounds, { maxZoom: 17, animate: false });
        found = shape.addTo(map);
        landgis.lastFound = { id: record.id, bounds: bounds };
        if (!cfg.popup) return;
        var popup = itemPopup(bounds.getCenter()).setContent(landgis.popupHtml(itemProps(feature), cfg.popup));
        popup.on("remove", function () { if (found === shape) clearFound(); });
        popup.openOn(map);
      }, function (err) {
        if (mine === seq) ctl.showAlert(searchFailure(err, "定位"));
      });
    }

    ctl = new L.Control.Search({
      sourceData: function (text, callResponse) {
        // By code point: a cut emoji (lone surrogate) would make encodeURIComponent throw.
        var mine = ++seq, q = Array.from(String(text).trim()).slice(0, SEARCH_MAX_CHARS).join("");
        if (!q) {
          callResponse({});
          return null;
        }
        getJson(searchUrl(q)).then(function (fc) {
          if (mine !== seq) return;
          var records = {};
          (fc.features || []).forEach(function (f) {
            var p = f.properties || {}, id = p.id !== undefined && p.id !== null ? p.id : f.id;
            if (id === undefined || id === null) return;
            var name = p[field];
            var key = name === undefined || name === null || name === "" ? String(id) : name + "（" + id + "）";
            records[key] = { id: id, name: name };
          });
          landgis.lastSearch = { text: q, count: Object.keys(records).length, matched: fc.numberMatched };
          callResponse(records);
          if (!Object.keys(records).length) ctl.showAlert();
        }, function (err) {
          if (mine !== seq) return;
          landgis.lastSearch = { text: q, error: (err && err.status) || 0 };
          callResponse({});
          ctl.showAlert(searchFailure(err, "搜索"));
        });
        return null;
      },
      formatData: function (records) { return records; },
      filterData: function (text, records) { return records; }, // the API has filtered them
      buildTip: textTip,
      moveToLocation: function (record) { showItem(record); },
      initial: false,
      autoType: false,
      marker: false,
      minLength: 1,
      delayType: 300,
      autoCollapseTime: 4000, // how long a message stays
      textPlaceholder: placeholder || "按名称搜索…",
      textErr: "未找到",
      textCancel: "取消",
    });
    ctl.on("search:cancel", function () { seq++; });
    map.addControl(ctl);
    // leaflet-search searches on keyup only; a name typed through a Chinese input method arrives
    // when the composition ends, and that key's keyup may come before it or not at all.
    L.DomEvent.on(ctl._input, "compositionend", function () { ctl._handleKeypress({ keyCode: 0 }); });
    return ctl;
  };

  /* ---- basemaps (maps/basemaps.py) ------------------------------------------------------ */

  /* A tile layer drawn `offset` = [east, north] metres away from where its tiles say: for a
   * bureau service known to be misregistered. Ground metres per pixel at the map's centre. */
  var OffsetTileLayer = L.TileLayer.extend({
    _getTilePos: function (coords) {
      var pos = L.TileLayer.prototype._getTilePos.call(this, coords);
      var off = this.options.landgisOffset, map = this._map;
      if (!off || !map) return pos;
      var lat = map.getCenter().lat * Math.PI / 180;
      var mpp = 40075016.686 * Math.cos(lat) / (256 * Math.pow(2, coords.z));
      return pos.add(L.point(off[0] / mpp, -off[1] / mpp));
    },
  });

  /* One switcher choice: the tiles and (天地图) their 注记, as one group. */
  landgis.basemapLayer = function (map, cfg) {
    function tiles(url) {
      var opts = { attribution: esc(cfg.attribution || ""), maxZoom: 19, maxNativeZoom: cfg.maxZoom || 18 };
      if (cfg.subdomains) opts.subdomains = cfg.subdomains;
      if (cfg.offset) opts.landgisOffset = cfg.offset;
      return cfg.offset ? new OffsetTileLayer(url, opts) : L.tileLayer(url, opts);
    }
    var parts = [tiles(cfg.url)];
    if (cfg.overlayUrl) parts.push(tiles(cfg.overlayUrl));
    var group = L.layerGroup(parts);
    group.landgisBasemap = cfg.key;
    landgis.basemaps = landgis.basemaps || {};
    landgis.basemaps[cfg.key] = group;
    return group;
  };

  /* The grey "no basemap" page background only while no basemap is shown; remembers the choice. */
  landgis.watchBasemap = function (map) {
    function update(e) {
      var key = (e && e.layer && e.layer.landgisBasemap) || null;
      landgis.currentBasemap = key || "none";
      map.getContainer().classList.toggle("landgis-nobasemap", !key);
    }
    update(null);
    map.eachLayer(function (l) { if (l.landgisBasemap) update({ layer: l }); });
    map.on("baselayerchange", update);
  };

  /* The line under the layer control that says why AMap (GCJ-02) is a different page. */
  landgis.basemapNote = function (map, cfg) {
    var ctl = L.control({ position: "topright" });
    ctl.onAdd = function () {
      var d = L.DomUtil.create("div", "landgis-basemap-note leaflet-control");
      d.appendChild(document.createTextNode(cfg.text));
      if (cfg.served) {
        var a = L.DomUtil.create("a", "", d);
        var params = new URLSearchParams(window.location.search);
        var kv = cfg.link.split("=");
        params.set(kv[0], kv[1]);
        a.href = window.location.pathname + "?" + params.toString();
        a.textContent = cfg.linkText;
      } else {
        d.appendChild(document.createTextNode(cfg.linkText + "（导出时加 --" + cfg.link.replace("=", " ") + "）"));
      }
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    ctl.addTo(map);
    return ctl;
  };

  /* ---- labels (maps/labels.py): placed on every zoom, only where they fit, never overlapping - */

  var measureCtx = null, widths = {};
  function textWidth(text, font) {
    var key = font + "|" + text;
    if (widths[key] !== undefined) return widths[key];
    if (!measureCtx) measureCtx = document.createElement("canvas").getContext("2d");
    measureCtx.font = font;
    return (widths[key] = measureCtx.measureText(text).width);
  }
  var LABEL_FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif';
  var LABEL_FONT = { road: [12, "normal"], park: [13, "bold"], parcel: [12, "bold"] };

  function overlaps(box, placed) {
    for (var i = 0; i < placed.length; i++) {
      var b = placed[i];
      if (box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h) return true;
    }
    return false;
  }

  /* Points of a (multi)line in container pixels, one array per part. */
  function lineParts(map, layer) {
    var lls = layer.getLatLngs();
    var parts = lls.length && !(lls[0] instanceof L.LatLng) ? lls : [lls];
    return parts.map(function (part) { return part.map(function (ll) { return map.latLngToContainerPoint(ll); }); });
  }

  /* The point `d` pixels along `pts`, with the angle of the chord of length `w` centred on it. */
  function alongLine(pts, cum, d, w) {
    function at(t) {
      t = Math.max(0, Math.min(cum[cum.length - 1], t));
      var i = 1;
      while (i < cum.length - 1 && cum[i] < t) i++;
      var seg = cum[i] - cum[i - 1] || 1, f = (t - cum[i - 1]) / seg;
      return L.point(pts[i - 1].x + (pts[i].x - pts[i - 1].x) * f, pts[i - 1].y + (pts[i].y - pts[i - 1].y) * f);
    }
    var a = at(d - w / 2), b = at(d + w / 2), c = at(d);
    var ang = Math.atan2(b.y - a.y, b.x - a.x) * 180 / Math.PI;
    if (ang > 90) ang -= 180;
    if (ang < -90) ang += 180;
    // How straight the stretch is: a label bent around a corner would be unreadable.
    var straight = a.distanceTo(b) / Math.max(w, 1);
    return { p: c, angle: ang, straight: straight };
  }

  landgis.labelLayer = function (map, cfg) {
    if (!map.getPane("landgisLabels")) {
      var pane = map.createPane("landgisLabels");
      pane.style.zIndex = 640;
      pane.style.pointerEvents = "none";
    }
    var group = L.layerGroup();
    var container = null;
    landgis.labelStats = { shown: 0, skipped: 0 };

    function sources() {
      var out = [];
      Object.keys(landgis.layers).forEach(function (name) {
        var entry = landgis.layers[name];
        if (entry.label && map.hasLayer(entry.layer)) out.push(entry);
      });
      return out.sort(function (a, b) { return b.label.priority - a.label.priority; });
    }

    function put(text, cls, p, angle, size, weight) {
      var div = L.DomUtil.create("div", "landgis-label landgis-label-" + cls, container);
      div.textContent = text;
      div.style.fontSize = size + "px";
      div.style.fontWeight = weight;
      var lp = map.containerPointToLayerPoint(p);
      div.style.left = lp.x + "px";
      div.style.top = lp.y + "px";
      div.style.transform = "translate(-50%, -50%)" + (angle ? " rotate(" + angle.toFixed(1) + "deg)" : "");
      return div;
    }

    function layout() {
      if (!container) return;
      container.innerHTML = "";
      var size = map.getSize(), placed = [], zoom = map.getZoom();
      var shown = 0, skipped = 0;
      sources().forEach(function (src) {
        var lab = src.label, font = LABEL_FONT[lab.cls] || [12, "normal"];
        if (zoom < (lab.minZoom || 0)) return;
        var fontCss = font[1] + " " + font[0] + "px " + LABEL_FONT_FAMILY, h = font[0] + 4;
        // Emphasised features (a parcel's 四至 roads) are placed first.
        var feats = [];
        src.layer.eachLayer(function (l) { if (l.feature && l.feature.properties && l.feature.properties._lt) feats.push(l); });
        feats.sort(function (a, b) { return (b.feature.properties._le ? 1 : 0) - (a.feature.properties._le ? 1 : 0); });
        feats.forEach(function (l) {
          var p = l.feature.properties;
          if (lab.kind === "line") {
            var w = textWidth(p._lt, fontCss) + 6, done = false;
            lineParts(map, l).forEach(function (pts) {
              if (pts.length < 2) return;
              var cum = [0];
              for (var i = 1; i < pts.length; i++) cum.push(cum[i - 1] + pts[i].distanceTo(pts[i - 1]));
              var len = cum[cum.length - 1];
              if (len < w + 24) return;
              // One label per ~4 label lengths of visible line (at least one), centred in its share.
              var n = Math.max(1, Math.floor(len / Math.max(w * 4, 320)));
              for (var k = 0; k < n; k++) {
                var at = alongLine(pts, cum, (k + 0.5) * len / n, w);
                if (at.straight < 0.92) continue;
                if (at.p.x < 0 || at.p.y < 0 || at.p.x > size.x || at.p.y > size.y) continue;
                var r = at.angle * Math.PI / 180, bw = Math.abs(w * Math.cos(r)) + Math.abs(h * Math.sin(r)), bh = Math.abs(w * Math.sin(r)) + Math.abs(h * Math.cos(r));
                var box = { x: at.p.x - bw / 2, y: at.p.y - bh / 2, w: bw, h: bh };
                if (overlaps(box, placed)) continue;
                placed.push(box);
                var div = put(p._lt, lab.cls, at.p, at.angle, font[0], font[1]);
                if (p._le) div.classList.add("landgis-label-emphasis");
                done = true;
              }
            });
            if (done) shown++; else skipped++;
            return;
          }
          var ll = p._lp ? L.latLng(p._lp[1], p._lp[0]) : (l.getBounds ? l.getBounds().getCenter() : l.getLatLng());
          var c = map.latLngToContainerPoint(ll);
          if (c.x < 0 || c.y < 0 || c.x > size.x || c.y > size.y) { skipped++; return; }
          var sw = 0, sh = 0;
          if (l.getBounds) {
            var b = l.getBounds(), nw = map.latLngToContainerPoint(b.getNorthWest()), se = map.latLngToContainerPoint(b.getSouthEast());
            sw = Math.abs(se.x - nw.x); sh = Math.abs(se.y - nw.y);
          }
          // The full text when the shape is about as wide as it; else the short form (序号) when
          // the shape is at least a few pixels; else nothing.
          var choices = [[p._lt, 1.3]];
          if (p._ls && p._ls !== p._lt) choices.push([p._ls, 4]);
          // Inside the shape's own point, else just above or below it when another label is there.
          var shifts = [0, -(h + 2), h + 2].filter(function (dy) { return !dy || sh > 3 * h; });
          for (var j = 0; j < choices.length; j++) {
            var t = choices[j][0], tw = textWidth(t, fontCss) + 6;
            if (sw && (tw > sw * choices[j][1] || sh < 6)) continue;
            for (var q = 0; q < shifts.length; q++) {
              var at2 = L.point(c.x, c.y + shifts[q]);
              var box2 = { x: at2.x - tw / 2, y: at2.y - h / 2, w: tw, h: h };
              if (overlaps(box2, placed)) continue;
              placed.push(box2);
              put(t, lab.cls, at2, 0, font[0], font[1]).classList.add(j ? "landgis-label-short" : "landgis-label-full");
              shown++;
              return;
            }
          }
          skipped++;
        });
      });
      landgis.labelStats = { shown: shown, skipped: skipped, zoom: zoom };
    }

    function hide() { if (container) container.style.display = "none"; }
    function show() { if (container) { container.style.display = ""; layout(); } }

    group.onAdd = function (m) {
      L.LayerGroup.prototype.onAdd.call(this, m);
      container = L.DomUtil.create("div", "landgis-labels", map.getPane("landgisLabels"));
      m.on("zoomstart", hide);
      m.on("zoomend moveend resize overlayadd overlayremove", show);
      layout();
    };
    group.onRemove = function (m) {
      m.off("zoomstart", hide);
      m.off("zoomend moveend resize overlayadd overlayremove", show);
      if (container) L.DomUtil.remove(container);
      container = null;
      L.LayerGroup.prototype.onRemove.call(this, m);
    };
    landgis.labels = { layer: group, layout: layout };
    return group;
  };

  /* The legend: a static HTML panel, collapsible on small screens. */
  landgis.legend = function (map, html, position) {
    var ctl = L.control({ position: position || "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "landgis-legend leaflet-control");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var head = div.querySelector(".landgis-legend-title");
      if (head) head.addEventListener("click", function () { div.classList.toggle("collapsed"); });
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };
})();
