"""Talking to Anki: every identity (`identity`), fields rendered with the Jinja2 templates,
HTML kept safe (`sanitise`, nh3), and the `.apkg` packages written whole."""
