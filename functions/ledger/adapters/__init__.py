"""Adapters: storage and clients behind the application ports."""
