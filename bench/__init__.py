"""Benchmarks behind ``python manage.py bench``: each figure printed against its target.

Every benchmark runs in its own Python process so that its peak memory (ru_maxrss) is its own.
"""
