"""Recorded calls: the recording ledger, transcription jobs, transcripts, search and analysis."""
