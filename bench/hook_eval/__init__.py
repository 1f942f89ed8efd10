"""The hook-package evaluation set: its cases, the script that renders them into videos, and scoring."""
