"""One construct per domain; ``infra.stack`` only composes them."""
