"""Sage Intacct XML gateway client: typed records in, no XML out."""
