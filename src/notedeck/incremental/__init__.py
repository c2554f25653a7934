"""The machinery that makes a rebuild fast and safe, which a newcomer can skip: the lock
(which card is which across builds), the cache of unchanged notes, the worker processes,
and one build of a project at a time."""
