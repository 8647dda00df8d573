"""Treatment: the amputation gate (limb salvage reviews, amputation orders), and since
issue 6 the procedure log, care-team tasks, follow-up surveillance and outcome events."""
