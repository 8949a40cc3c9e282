"""A module whose import is its only effect: a queue message naming it must
be refused before it is imported (tests/portal/test_task_allow_list.py)."""

IMPORTED = True
