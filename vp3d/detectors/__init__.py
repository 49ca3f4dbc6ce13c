"""2D keypoint detectors and the detector-independent containers.

Every detector is a small callable on frames behind one protocol (candidates.Detector: detect_batch(frames)
-> one PersonCandidates per frame, plus declared attributes); none opens a video: vp3d.pipeline.detect
decodes and feeds them. factory.py (make_detector: `--detector NAME`), keypoints.py (one person's
Keypoints2D, gap filling, layout mappings), candidates.py (the protocol; every person per frame),
tracking.py (people over time), and one module per backend:
mediapipe_pose.py, keypoint_rcnn.py, detectron2_backend.py, rtmpose.py, precomputed.py (`file:PATH`, with
openpose.py and custom_2d_npz.py, the reference's 2D dataset that `--npz-2d` writes). safe_npz.py is the one
reader of pickled .npz files, and the one policy for them (plain containers and arrays, or a trust flag).

Nothing is imported here on purpose: importing a detector's framework (MediaPipe, torchvision, detectron2,
onnxruntime) is slow and sometimes noisy, so only code that runs that detector pays for it.
"""
