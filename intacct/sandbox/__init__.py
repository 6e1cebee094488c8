"""Sage Intacct XML gateway emulator with a seeded demo company, an admin API and fault injection."""

from intacct.sandbox.app import GATEWAY_PATH, create_sandbox_app
from intacct.sandbox.server import run_sandbox
from intacct.sandbox.state import SANDBOX_STATE, SandboxState
from intacct.sandbox.webhooks import WebhookConfig

__all__ = ["GATEWAY_PATH", "SANDBOX_STATE", "SandboxState", "WebhookConfig", "create_sandbox_app", "run_sandbox"]
