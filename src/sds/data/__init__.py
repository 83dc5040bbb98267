"""Data: sources opened as engine tables, the engine, and seeded generators."""
