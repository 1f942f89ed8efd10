"""The operator console (`flashflow console`, docs/console.md): server-rendered pages over the same
core functions as the CLI. It sits above `jobs` and `flashflow_core`; nothing below imports it."""
