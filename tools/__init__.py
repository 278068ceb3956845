"""Developer tools of the repository (not shipped): sample-data generators, demo and setup scripts."""
