"""Sphinx extension: small fixes to the HTML pages Jupyter Book 1.x writes.

sphinx-thebe and sphinx-togglebutton register their inline scripts twice (once with
the file name ``None``, once with ``""``), so every page declared
``const THEBE_JS_URL`` twice and the browser logged a SyntaxError. This drops repeated
scripts from each page, keeping the first of each.
"""
from __future__ import annotations


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script) or ""  # None and "": inline
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
