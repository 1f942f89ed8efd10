"""FlashFlow Workers core: configuration, database, domain rules and adapters to outside tools."""

__version__ = "0.1.0"
