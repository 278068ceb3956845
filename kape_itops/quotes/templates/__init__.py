"""Jinja2 templates of the quotation reports."""
