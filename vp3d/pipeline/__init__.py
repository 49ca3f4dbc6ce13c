"""Pipeline stages around the lifter: video decoding/encoding (video.py) and the side-by-side render (render.py)."""
