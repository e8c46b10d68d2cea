"""Synthetic actas for drills and tests: rendering, vote spreading, degradation, drills.

Everything country-specific (labels, ballot, payload grammar) comes from the election
definition's ``acta_render`` and ``ballot`` sections; this package only knows how a
thermal-receipt acta is laid out.
"""
