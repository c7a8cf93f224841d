"""Access: API keys for programmatic clients, per-plan rate limits, and the plan catalog entitlements read."""
