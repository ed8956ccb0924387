"""Signposting directory entries and next-steps plans."""
