"""Public intake: center pages, visit requests, referrals, contact messages with private
links, the staff inbox and the triage queue (issue 7)."""
