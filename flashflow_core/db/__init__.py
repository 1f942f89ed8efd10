"""Database plumbing: the connection pool, named SQL files, audit rows and migrations."""
