"""Dispositions: the secretariat's answer to each comment and amendment, and the ask's
"You said, we did" page."""
