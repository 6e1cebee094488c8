"""Sage Intacct XML gateway emulator with a seeded demo company, an admin API and fault injection."""

from sandbox.app import GATEWAY_PATH, create_sandbox_app
from sandbox.server import run_sandbox
from sandbox.state import SANDBOX_STATE, SandboxState
from sandbox.webhooks import WebhookConfig

__all__ = ["GATEWAY_PATH", "SANDBOX_STATE", "SandboxState", "WebhookConfig", "create_sandbox_app", "run_sandbox"]
