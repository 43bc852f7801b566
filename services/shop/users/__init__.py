"""The shop's users service: accounts, passwords, and the access tokens every service trusts."""
