"""The pytest glue: session state, collection, fixtures, xdist scheduling, item ids."""
