"""What a run saw, shared: its recorded stream (stream.py), the stream as a Minari dataset
(minari_io.py, the `datasets` extra) and learners fitted on it offline (offline.py)."""
