"""``stock-manager demo``: a whole compressed trading day on the embedded default."""
