"""2D keypoint detectors (mediapipe_pose.py) and the detector-independent keypoint container (keypoints.py).

Nothing is imported here on purpose: importing MediaPipe is slow and noisy, so only code that runs a detector pays for it.
"""
