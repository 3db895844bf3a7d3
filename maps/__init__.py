"""Interactive maps of SPEC §9, offline by default (Leaflet and plugins served by landgis itself).

Builders (GeoDataFrames in, `(folium.Map, MapContext)` out; `maps.base.render_html` makes the page):
`maps.parcels.build_parcels_map`, `maps.efficiency.build_efficiency_map`,
`maps.standard_land.build_standard_land_map`, `maps.expansion.build_expansion_map`.
By name from a store (API and CLI): `services.maps.render_map(name, store, MapOptions(...))`.
"""
