"""Notifications: channels that deliver, a planner that decides who gets what, a sender that retries."""
