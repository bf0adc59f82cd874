"""NEOT scoring service: the device edge (devices, ingestion), trips, events, scores, risk model,
the score worker, anchoring, health and metrics.

Kept free of imports so that `import scoring_service.<part>` loads only that part; the FastAPI
app is built by `scoring_service.app.create_app()`.
"""
