"""The shop's payments service: charges, late approvals and refunds, once per order."""
