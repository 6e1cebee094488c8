"""Tests of the Intacct XML gateway client (the sandbox has its own folder)."""
