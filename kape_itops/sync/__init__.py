"""Two-tier sync between school sites (collectors, laptops) and the central server."""
