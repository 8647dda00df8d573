"""CDS Hooks 2.0.1 service: the amputation check and limb status inside the EHR."""
