"""The Winners Bank: reference videos taken from a URL to a ready hook package."""
