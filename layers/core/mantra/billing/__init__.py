"""Plans, subscriptions through Stripe, dunning, metered revenue and the finance view."""
