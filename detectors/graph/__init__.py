"""The association graph: its vocabulary, the edge deriver, the graph and its path search."""
