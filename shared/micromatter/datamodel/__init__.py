"""The data model: a node of endpoints holding cluster instances, whose attributes and commands are
described by tables defined once per cluster class (Matter Core spec chapter 7)."""
