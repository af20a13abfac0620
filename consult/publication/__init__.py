"""Publication of the agreed manifesto: its public page and its backers."""
