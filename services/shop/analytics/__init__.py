"""The analytics service: every topic's events kept and folded into the shop's figures."""
