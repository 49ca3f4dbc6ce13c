"""Pipeline stages around the lifter: the decode -> detect loop (detect.py), lifting (infer.py), people
(people*.py), the side-by-side render (render*.py, overlap.py), exports and batch mode. Video I/O is in
vp3d.video."""
