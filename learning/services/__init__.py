"""Writes of the learning app, one module per entity: ``exams``, ``streaks``, and ``notices``
(the scheduled reminders and reports)."""
