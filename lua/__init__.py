"""Lua scripts, one atomic Redis operation per file; loaded only by queue_engine.scripts."""
