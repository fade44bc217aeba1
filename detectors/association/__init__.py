"""Inappropriate association: links between staff and organised crime read from the
association graph (ids ``association.*``)."""
