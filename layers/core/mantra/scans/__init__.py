"""The scanner product: saved scanners, on-demand and scheduled runs, signals and their events."""
