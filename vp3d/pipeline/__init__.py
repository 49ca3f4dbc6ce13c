"""The one path of a video: detect.py (decode -> detect, the one loop over frames), infer.py (fill gaps,
normalize, lift), people.py (track and select people), overlap.py (render while detecting) and job.py (one
video to every requested output). Video I/O, rendering, exports and batch mode live in vp3d.video,
vp3d.render, vp3d.export and vp3d.batch."""
