"""The countermeasure workflow: states, the service, tasks, records, attachments, escalation."""
