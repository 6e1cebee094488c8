"""Operator commands behind `python app.py …`: check, setup, audit export, packaging, demo."""
