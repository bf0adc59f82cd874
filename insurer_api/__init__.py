"""NEOT insurer API: roles and access, products, policies, monthly statements charged in NEOT,
payments and repair jobs. The FastAPI app is built by `insurer_api.app.create_app()`.

Kept free of imports so that `import insurer_api.<part>` loads only that part.
"""
