"""Every change to the procedure log, care-team tasks, follow-up and outcome events.

One `do_*` function per change: `transaction.atomic`, keyword-only arguments, an
explicit `acting_user`, the audit row in the same transaction. Bad input raises
`ValidationError` naming the field and changes nothing. Views, the demo loader and
commands call these; nothing else writes these models.
"""
