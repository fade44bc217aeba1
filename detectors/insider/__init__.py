"""Insider risk on ordinary IT use: media, uploads, logons, tools, mail (``insider.*``)."""
