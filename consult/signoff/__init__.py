"""Sign-off of the agreed manifesto by the organisations taking part."""
