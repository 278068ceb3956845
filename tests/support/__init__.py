"""Helpers shared by the tests: real servers started and stopped by the tests themselves."""
