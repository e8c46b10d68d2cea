"""Pipeline: runs the stages (capture → read → verify → store) over many files in parallel."""
