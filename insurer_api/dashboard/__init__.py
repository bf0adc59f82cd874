"""The browser dashboard: static pages over the same JSON API and the same sign-in as any client.

Nothing is fetched from a CDN: Leaflet and Chart.js are vendored from npm under `static/vendor/`
(licences beside them), and the map's base layer is drawn from the OpenStreetMap extract the
scoring service ships, because no tile server is reachable where NEOT is evaluated.
"""

from insurer_api.dashboard.routes import mount_dashboard

__all__ = ["mount_dashboard"]
