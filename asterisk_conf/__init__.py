"""Templates of every Asterisk config but the dialplan, and the sounds the local runtime plays."""
