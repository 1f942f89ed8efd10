"""One module per page of the console: what it reads, and the actions its buttons post."""
