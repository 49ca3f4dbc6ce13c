"""2D keypoint detectors and the detector-independent containers.

factory.py (make_detector, detect_keypoints: `--detector NAME`), keypoints.py (one person's Keypoints2D,
gap filling, layout mappings), candidates.py (every person per frame), and one module per backend:
mediapipe_pose.py, keypoint_rcnn.py, detectron2_backend.py, rtmpose.py, precomputed.py (`file:PATH`, with
openpose.py and safe_npz.py).

Nothing is imported here on purpose: importing a detector's framework (MediaPipe, torchvision, detectron2,
onnxruntime) is slow and sometimes noisy, so only code that runs that detector pays for it.
"""
