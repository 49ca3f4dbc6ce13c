"""The one path of a video: detect.py (decode -> detect, the one loop over frames), people.py (choose the
people: the best-scored one per frame, or tracks), infer.py (fill gaps, normalize, lift one person),
overlap.py (feed the renderer while detecting), run.py (a video through these steps) and job.py (one video
to every requested output). Video I/O, rendering, exports and batch mode live in vp3d.video, vp3d.render,
vp3d.export and vp3d.batch."""
