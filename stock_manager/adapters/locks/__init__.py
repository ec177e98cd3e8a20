"""Per-symbol lease locks with fencing tokens (ARCHITECTURE §4)."""
