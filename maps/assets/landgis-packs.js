/* landgis: a layer drawn from a PMTiles pack (`landgis tiles`), for offline and field use.
 *
 * The pack is read with HTTP range requests by the `pmtiles` library (vendored from npm by
 * scripts/fetch-map-assets.sh, never a CDN); each tile is handed to Leaflet.VectorGrid as a blob
 * URL, so styles, popups and tooltips are those of landgis.vectorTileLayer (landgis-maps.js).
 * The pack's tiles carry every column its role may see, so popups need no items endpoint.
 */
(function () {
  "use strict";
  var landgis = window.landgis;

  landgis.packLayer = function (map, name, packUrl, cfg) {
    var archive = new pmtiles.PMTiles(packUrl);
    var layer = landgis.vectorTileLayer(map, name, "", cfg);
    var viaUrl = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
    layer._getVectorTilePromise = function (coords) {
      var self = this;
      var c = L.point(coords.x, coords.y);
      c.z = coords.z + (this.options.zoomOffset || 0);
      return archive.getZxy(c.z, c.x, c.y).then(function (tile) {
        if (!tile || !tile.data) return { layers: [] };
        var url = URL.createObjectURL(new Blob([tile.data]));
        var saved = self._url;
        self._url = url; // read synchronously by VectorGrid when it builds the request
        var p;
        try { p = viaUrl.call(self, c); } finally { self._url = saved; }
        return p.then(function (v) { URL.revokeObjectURL(url); landgis.packTiles = (landgis.packTiles || 0) + 1; return v; },
                      function (e) { URL.revokeObjectURL(url); throw e; });
      }, function (err) {
        landgis.packError = String(err && err.message || err);
        return { layers: [] };
      });
    };
    return layer;
  };
})();
