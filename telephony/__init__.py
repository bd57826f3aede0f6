"""Asterisk side of lexcrm: AMI and ARI clients, call tracking, click-to-call, recordings."""
