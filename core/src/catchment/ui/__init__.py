"""The web UI (``catchment ui``): a Starlette application over the project's graph and its
record store, rendered on the server with Jinja templates and htmx.

Optional: it needs the ``ui`` extra (``pip install 'catchment[ui]'``), and nothing here is
imported by ``import catchment``. ``catchment.ui.app:create_app`` builds the application.
"""
