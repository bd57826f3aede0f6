"""Recordings of calls: the encrypted store, the transcription worker and conversation analysis."""
