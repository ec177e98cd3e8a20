"""SQLAlchemy persistence: engine, mapping, repositories and the unit of work."""
