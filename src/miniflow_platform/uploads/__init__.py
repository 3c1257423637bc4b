"""Code uploads: archives streamed to disk, checked, then unpacked into jobs' code dirs."""
