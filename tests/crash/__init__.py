"""Crash, power-loss and concurrency tests: real processes, real SIGKILL, real files."""
