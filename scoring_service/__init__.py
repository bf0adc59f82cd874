"""NEOT scoring service: verified ingestion, trips, events, scores, risk model, anchoring.

Kept free of imports so that `import scoring_service.<part>` loads only that part; the FastAPI
app is built by `scoring_service.app.create_app()`.
"""
