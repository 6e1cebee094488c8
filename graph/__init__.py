"""Microsoft Graph app-only client: msal tokens, channel names, change-notification subscriptions."""
