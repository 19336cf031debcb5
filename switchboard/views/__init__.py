"""Generic server-rendered pages (lists, edit and delete pages) that the faces declare
their objects on; see ``generic.py``."""

from switchboard.views.errors import show_action_errors
from switchboard.views.generic import (
           Column,
           Identity,
           ObjectDeleteView,
           ObjectEditView,
           ObjectListView,
           ObjectView,
)

__all__ = ["Column", "Identity", "ObjectDeleteView", "ObjectEditView", "ObjectListView", "ObjectView",
           "show_action_errors"]
