"""Rendering of results (text, Markdown, HTML), plots and atomic report files."""
