"""Vascular assessments per patient visit per limb, staging snapshots, wound tracking and
the limb salvage pathway (urgency, missing work-up, care-team needs)."""
