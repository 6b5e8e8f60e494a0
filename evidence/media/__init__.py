"""Media inspection behind small seams: Pillow for images, mutagen (and an AMR reader) for recordings."""
