"""An organisation's own notes on an ask: private to its members, not even the secretariat
reads them."""
