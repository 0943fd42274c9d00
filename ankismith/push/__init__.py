"""`ankismith push`: the built decks applied to an Anki collection, keeping what is the student's.

A stage above pipeline/: it may import pipeline, model and package; nothing below imports it. The plan
(plan.py) is pure; a route (route.py) reads a collection and applies a plan: collection.py opens
the collection file with Anki's backend (Anki closed). Anki's `anki` package is imported only
inside collection.py's functions, so that importing this package stays cheap.
"""

from ankismith.push.collection import INSTALL_HINT, CollectionRoute, anki_missing, open_collection
from ankismith.push.plan import REMOVED_TAG, PushPlan, merge_tags, plan_push
from ankismith.push.profiles import anki_base, find_collection, profiles
from ankismith.push.report import closing, describe
from ankismith.push.route import PushError, Route, Snapshot
from ankismith.push.run import Prepared, prepare_push, push_decks

__all__ = [
    "INSTALL_HINT",
    "REMOVED_TAG",
    "CollectionRoute",
    "Prepared",
    "PushError",
    "PushPlan",
    "Route",
    "Snapshot",
    "anki_base",
    "anki_missing",
    "closing",
    "describe",
    "find_collection",
    "merge_tags",
    "open_collection",
    "plan_push",
    "prepare_push",
    "profiles",
    "push_decks",
]
