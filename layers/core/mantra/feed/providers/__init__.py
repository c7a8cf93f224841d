"""Broker adapters: thin layers over the official SDKs mapping their ticks to our ``Tick``."""
