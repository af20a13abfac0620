"""Agreements: the secretariat declaring an ask's wording agreed, reopening it, and the
manifesto that assembles a consultation's asks."""
