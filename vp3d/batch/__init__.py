"""`vp3d batch`: every video of a folder. run.py plans the batch and runs it (run_batch), workers.py holds
the worker processes (one video each through vp3d.pipeline.job), display.py the progress and the table."""
