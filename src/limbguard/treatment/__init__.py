"""Treatment. For now only what the amputation gate needs: limb salvage reviews and
amputation orders checked against the gate; procedures and outcomes come later (issue 6)."""
