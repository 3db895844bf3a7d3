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
    landgis.layers[name] = { layer: layer, count: data.features ? data.features.length : 0 };
    return layer;
  };

  /* One feature's properties from the API (`itemsUrl` + id), as JSON, same origin: the request
   * carries only what the page already sends (its cookies), like the tile requests. */
  landgis.fetchFeature = function (itemsUrl, id) {
    return fetch(itemsUrl + encodeURIComponent(id) + "?f=json", { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (feature) {
        var p = L.extend({}, feature.properties || {});
        if (p.id === undefined && feature.id !== undefined) p.id = feature.id;
        return p;
      });
  };

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
        var popup = L.popup({ maxWidth: 420 }).setLatLng(e.latlng);
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
    landgis.layers[name] = { layer: layer, count: cfg.count || 0, tiles: true };
    return layer;
  };

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
