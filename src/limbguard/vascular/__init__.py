"""Pure clinical rules for vascular staging.

No Django, no I/O, no mutable globals: plain values in, plain values or frozen
dataclasses out. Every threshold is a named constant with its citation.
"""
