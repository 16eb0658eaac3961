"""Demo organisation seeding and the ``make run`` entry point; the top of the layer stack (see docs/architecture.md)."""
